// The floor drill: a practice room where a delegate rehearses request ->
// granted -> go live -> yield against a practice chair that grants by itself.
// It runs in the browser alone: events are made here and folded with the same
// fold as the live client, so the screens are exactly the real ones; nothing
// reaches the meeting.

import { fold, apply } from "../core/fold.js";

const YOU = "you";
const MINE = "your-delegation";
const OTHER = "practiceland";
/** How long the practice chair takes to give the floor once it is free. */
const CHAIR_REACTION_MS = 1200;
const OTHER_SPEECH_MS = 7000;
const TAIL_MS = 2000;
/** The practice speaking limit. */
const LIMIT_MS = 180_000;
/** The goal of the drill: the server's time-to-floor goal (vcc.core.views.TIME_TO_FLOOR_GOAL_MS). */
const GOAL_MS = 3000;

function today(tz) {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date());
  return parts.slice(0, 10);
}

export class DrillSession {
  /** `names()` gives the practice room's texts in the interface's current language. */
  constructor({ names, language = "en" }) {
    this.namesOf = names;
    this.language = ["ar", "zh", "en", "fr", "ru", "es"].includes(language) ? language : "en";
    this.listeners = new Set();
    this.attempts = [];
    this.status = "connected";
    this.presence = [];
    this.timers = new Set();
    this.reset();
  }

  // --- what the views read (the same as a live Session) ----------------------------------

  now() {
    return Date.now();
  }

  get me() {
    return { participant: YOU, role: "delegate", delegation: MINE, record: this.state.participants[YOU], isAdmin: false };
  }

  get stale() {
    return false;
  }

  /**
   * The practice room decides its own commands, so it also gives the views a live
   * session receives from the server (vcc_protocol.views), for what the drill's
   * screens read: the queue's places and waits, the tail, who may ask.
   */
  get views() {
    const now = Date.now();
    const { speech, grant, tail } = this.state;
    const wait = (speech ? Math.max(speech.limit_ms - (now - speech.started_at), 0) : 0) + (grant ? LIMIT_MS : 0);
    const requests = this.queue();
    const queue = {
      places: requests.map((_, index) => index + 1),
      wait_s: requests.map((_, index) => Math.floor((wait + index * LIMIT_MS) / 1000)),
      spoken: {},
    };
    const allowed = { request_floor: true, point_of_order: true, block: false, answers_grouping: false, answer_grouping: false, contribute: false, member_state: true };
    return {
      at: now, queue, request_blocker: "none", allowed: { council_member: allowed },
      clock: { tail_holds: tail !== null && now < tail.until },
      time_to_floor: { goal_ms: GOAL_MS },
    };
  }

  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  report() {
    // The drill has no technical team to report to.
  }

  get names() {
    return this.namesOf();
  }

  // --- the practice room --------------------------------------------------------------------

  reset() {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.chairBusy = false;
    const now = Date.now();
    const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
    const at = { at: now, actor: "@drill", v: 1 };
    this.state = fold([
      { ...at, type: "consultation_created", code: this.names.code, title: this.names.title, days: [today(tz)], slot_start: "00:00", slot_end: "23:59", tz,
        limits: { council_member: 180, observer_state: 120, observer: 120, sector_member: 120 }, auto_cut: false, tail_ms: TAIL_MS, turn_minutes: 30,
        majority_policy: "simple_majority_of_voting_council_members", note: "" },
      { ...at, type: "delegation_added", delegation: MINE, name: this.names.mine, cls: "council_member", region: "", sector: null, voting_rights: true },
      { ...at, type: "delegation_added", delegation: OTHER, name: this.names.other, cls: "council_member", region: "", sector: null, voting_rights: true },
      { ...at, type: "participant_added", participant: YOU, name: this.names.you, role: "delegate", delegation: MINE, languages: [this.language], designated_speaker: true, booth: null, contact: null },
      { ...at, type: "participant_added", participant: "other-speaker", name: this.names.otherSpeaker, role: "delegate", delegation: OTHER, languages: ["fr"], designated_speaker: true, booth: null, contact: null },
      { ...at, type: "item_added", item: "DRILL 1", number: 1, code: "DRILL 1", title: this.names.item, titles: {}, documents: ["DRILL/1"], package: false, kind: "other", minutes: 15 },
      { ...at, type: "sitting_opened", day: today(tz), ends_at: now + 3 * 3600_000 },
      { ...at, type: "item_taken_up", item: "DRILL 1" },
      { ...at, type: "booth_duty_taken", booth: "en", participant: "interpreter-en" },
      { ...at, type: "booth_mic_set", booth: "en", participant: "interpreter-en", live: true },
      { ...at, type: "floor_requested", delegation: OTHER, item: "DRILL 1", point_of_order: false, position: 0, participant: "other-speaker" },
      { ...at, type: "floor_granted", delegation: OTHER, item: "DRILL 1", point_of_order: false },
      { ...at, type: "speaker_went_live", participant: "other-speaker", delegation: OTHER, item: "DRILL 1", language: "fr", time_to_floor_ms: 1800, limit_ms: 180_000 },
    ]);
    this.later(OTHER_SPEECH_MS, () => this.endSpeech());
    this.changed();
  }

  later(ms, fn) {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  emit(type, fields) {
    const event = { type, v: 1, at: Date.now(), actor: "@drill", ...fields };
    apply(this.state, event);
    this.changed();
    this.chairLooks();
    return event;
  }

  changed() {
    for (const listener of this.listeners) listener();
  }

  queue() {
    return this.state.queues["DRILL 1"];
  }

  /** The practice chair gives the floor to the first in the queue once the floor is free and the booths are done. */
  chairLooks() {
    const { grant, speech, tail } = this.state;
    if (grant || speech || tail || !this.queue().length || this.chairBusy) return;
    this.chairBusy = true;
    this.later(CHAIR_REACTION_MS, () => {
      this.chairBusy = false;
      const first = this.queue()[0];
      if (first && !this.state.grant && !this.state.speech && !this.state.tail) {
        this.emit("floor_granted", { delegation: first.delegation, item: "DRILL 1", point_of_order: first.point_of_order });
      }
    });
  }

  endSpeech() {
    const speech = this.state.speech;
    if (!speech) return;
    const booths = Object.values(this.state.booths).filter((b) => b.mic_open).map((b) => b.language);
    this.emit("speech_ended", {
      participant: speech.participant, delegation: speech.delegation, item: "DRILL 1", reason: "yielded",
      duration_ms: Date.now() - speech.started_at, time_to_floor_ms: speech.time_to_floor_ms, tail_booths: booths, tail_until: Date.now() + TAIL_MS,
    });
    if (booths.length) this.later(TAIL_MS * 0.75, () => this.state.tail && this.emit("interpretation_tail_ended", { reason: "finished" }));
  }

  refuse(message) {
    return { ok: false, error: { code: "not_allowed", message } };
  }

  /** A person's action: the practice room has no connection to lose, so it is decided at once. */
  perform(type, fields = {}) {
    return this.send(type, fields);
  }

  /** The delegate's commands, decided by the practice room's rules (the same rules as the core's, for these four). */
  async send(type, fields = {}) {
    const { state } = this;
    // A point of order is a request of its own, besides the ordinary one: it goes first (core/floor.py).
    const pointOfOrder = Boolean(fields.point_of_order);
    const mine = this.queue().some((r) => r.delegation === MINE && r.point_of_order === pointOfOrder);
    if (type === "request_floor") {
      if (mine || state.grant?.delegation === MINE || state.speech?.delegation === MINE) return this.refuse(this.names.already);
      const position = pointOfOrder ? this.queue().filter((r) => r.point_of_order).length : this.queue().length;
      this.emit("floor_requested", { delegation: MINE, item: "DRILL 1", point_of_order: pointOfOrder, position, participant: YOU });
      return { ok: true };
    }
    if (type === "withdraw_floor_request") {
      if (!mine) return this.refuse(this.names.notRequested);
      this.emit("floor_request_withdrawn", { delegation: MINE, item: "DRILL 1", point_of_order: pointOfOrder });
      return { ok: true };
    }
    if (type === "go_live") {
      if (state.grant?.delegation !== MINE) return this.refuse(this.names.notGranted);
      if (state.tail && Date.now() < state.tail.until) return { ok: false, error: { code: "interpretation_tail", message: "" } };
      const timeToFloor = Date.now() - state.grant.granted_at;
      this.attempts = [...this.attempts, timeToFloor];
      this.emit("speaker_went_live", { participant: YOU, delegation: MINE, item: "DRILL 1", language: this.language, time_to_floor_ms: timeToFloor, limit_ms: 180_000 });
      return { ok: true };
    }
    if (type === "yield_floor") {
      if (state.speech?.participant !== YOU) return this.refuse(this.names.notSpeaking);
      this.endSpeech();
      return { ok: true };
    }
    return this.refuse(this.names.notHere);
  }

  stop() {
    for (const timer of this.timers) clearTimeout(timer);
  }
}
