// The live session with the server: join with the token, keep the folded
// state in step with the server's log, send commands, measure the link.
//
// Theory of operation. The server numbers its events (`seq`) within an
// `epoch`. After `welcome` it sends either a `snapshot` (the whole state at
// `seq`) or the `events` we missed. Every later `events` batch carries
// `first..last`: we apply it only if `first <= seq + 1`, skipping what we
// already have; a gap (or another epoch) means we missed something, so we ask
// with `sync` and hold the state as "catching up" until it is filled. On a
// reconnect the auth callback sends our `last_seq` and `epoch`, so the server
// answers with just the missed events when it still has them. An event type
// this client does not know is never guessed at: we ask for a snapshot.
//
// `status` says how far to trust what is on screen:
//   connecting  - no state yet
//   connected   - in step with the server
//   resynced    - in step again after a reconnect (shown for a few seconds)
//   catching_up - a gap is being filled
//   reconnecting- the connection is lost: what is shown is stale
//   refused     - the server refused the join link, or ended the consultation (`refusal` says why)
//
// A person's action (`perform`) is never sent behind their back. Clicked while
// the link is down, or cut off before the server answered, it becomes the
// `pending` action, shown as such; once the screen is in step again the person
// sends it (with the same command id, so an action the server did receive is
// applied once) or drops it. A later action replaces a pending one, which is
// dropped with a word.

import { apply, applyViews, understands } from "../core/fold.js";
import { browserName, microphonePermission } from "./browser_info.js";
import { openSocket } from "./socket.js";
import { Api } from "./api.js";

const RESYNCED_FOR_MS = 4000;
const COMMAND_TIMEOUT_MS = 15000;
const REPORT_EVERY_MS = 30000;
const GAP_RETRY_MS = 5000;
const POLLING_FIRST = ["polling", "websocket"];
const FALLBACK_KEY = "vcc.transport";
const MAX_OFFSET_MS = 86_400_000;

function recall(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function forget(key) {
  try {
    localStorage.removeItem(key);
  } catch {
    // Nothing was remembered.
  }
}

function remember(key, value) {
  try {
    localStorage.setItem(key, value);
  } catch {
    // Private mode: the fallback is found again on the next visit.
  }
}

let commandCounter = 0;

export class Session {
  /** `attend`: record the participant's attendance on joining (not for the public screen, a projector). */
  constructor(token, { attend = true } = {}) {
    this.token = token;
    this.attend = attend;
    this.state = null;
    /** The server's derived views (vcc_protocol.views): what the screens show beyond the state. */
    this.views = null;
    this.seq = 0;
    this.epoch = "";
    this.welcome = null;
    this.status = "connecting";
    this.refusal = null;
    /** The connections of the server's node, for staff: a list of `presence` entries. */
    this.presence = [];
    this.presenceByConn = new Map();
    this.lastSyncedAt = null;
    /** Server time minus local time, in ms, from the welcome and the pings. */
    this.clockOffset = 0;
    this.link = {};
    this.clientId = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    this.listeners = new Set();
    this.awaitingSeq = null;
    this.gapAsked = false;
    this.wasConnected = false;
    this.notifyScheduled = false;
    this.resyncedTimer = null;
    this.reportTimer = null;
    this.noticeListeners = new Set();
    this.eventListeners = new Set();
    this.mediaResetListeners = new Set();
    this.api_ = null;
    /**
     * The action waiting for the person's decision, or null: {message,
     * phase: "offline" | "back", unsure (sent, but no answer came: the server
     * may have applied it), settle}.
     */
    this.pending = null;
    this.disconnectWaiters = new Set();
  }

  // --- what views read -------------------------------------------------------------------

  /** The server's clock, as best we know it (ms since the epoch). */
  now() {
    return Date.now() + this.clockOffset;
  }

  get me() {
    const participant = this.welcome?.participant ?? null;
    const record = participant && this.state ? this.state.participants[participant] : null;
    return {
      participant,
      role: this.welcome?.role ?? null,
      audience: this.welcome?.audience ?? null,
      delegation: record?.delegation ?? null,
      record,
      isAdmin: participant === "@admin",
    };
  }

  get stale() {
    return this.status === "reconnecting" || this.status === "catching_up" || this.status === "connecting";
  }

  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Called after each batch of events is folded in, with the events (`null`
   * after a snapshot: anything may have changed). Views that read data from the
   * HTTP API (the tally, the delegation's own answers) refresh on it.
   */
  onEvents(listener) {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  /** The HTTP API with this session's join token (the consultation comes with the welcome). */
  get api() {
    if (this.api_ === null && this.welcome) this.api_ = new Api(this.welcome.consultation, this.token);
    return this.api_;
  }

  /** Called with each notice the technical team sends this participant ({from, name, text, at}). */
  onNotice(listener) {
    this.noticeListeners.add(listener);
    return () => this.noticeListeners.delete(listener);
  }

  // --- connecting --------------------------------------------------------------------------

  start() {
    const fallback = recall(FALLBACK_KEY) === "polling";
    this.socket = openSocket({ auth: (cb) => cb(this.authPayload()), ...(fallback ? { transports: POLLING_FIRST } : {}) });
    const s = this.socket;
    s.on("connect", () => this.onConnect());
    s.on("disconnect", () => this.onDisconnect());
    s.on("connect_error", (error) => this.onConnectError(error));
    s.on("welcome", (data) => this.onWelcome(data));
    s.on("snapshot", (data) => this.onSnapshot(data));
    s.on("events", (data) => this.onBatch(data));
    s.on("notice", (data) => {
      for (const listener of this.noticeListeners) listener(data);
    });
    s.on("presence", (data) => this.onPresence(data));
    s.on("ended", (data) => this.onEnded(data));
    s.on("media_reset", () => {
      for (const listener of this.mediaResetListeners) listener();
    });
    return this;
  }

  stop() {
    clearInterval(this.reportTimer);
    this.socket?.disconnect();
  }

  authPayload() {
    if (this.state === null) return { token: this.token };
    return { token: this.token, last_seq: this.seq, epoch: this.epoch };
  }

  onConnect() {
    this.gapAsked = false;
    this.watchUpgrade();
    this.checkSynced();
    // Attendance per day, for the report (the core records the first join of each day only).
    if (this.attend && this.welcome?.participant !== "@admin") this.send("record_attendance");
    if (!this.reportTimer) {
      this.measureAndReport();
      this.reportTimer = setInterval(() => this.measureAndReport(3), REPORT_EVERY_MS);
    }
  }

  onDisconnect() {
    for (const waiter of this.disconnectWaiters) waiter();
    this.disconnectWaiters.clear();
    if (this.pending) this.pending.phase = "offline";
    // Ended by the server: it will not come back, so nothing is "reconnecting".
    if (this.status === "refused") return;
    // In step until this moment: the banner's "the state of HH:MM:SS" is when the link was lost, not the last event.
    if (this.status === "connected" || this.status === "resynced") this.lastSyncedAt = Date.now();
    if (this.state !== null) this.setStatus("reconnecting");
    else this.setStatus("connecting");
  }

  onConnectError(error) {
    // A refusal from the server carries {code, message}; a transport failure does not, and socket.io retries it.
    const data = error?.data;
    if (data && typeof data === "object" && data.code) {
      this.refusal = { code: data.code, message: data.message ?? "" };
      this.setStatus("refused");
    } else {
      if (this.state !== null) this.setStatus("reconnecting");
      this.fallBackIfBlocked();
    }
  }

  /** The server ended the consultation for good (a discarded practice consultation) and disconnects us. */
  onEnded(data) {
    this.refusal = { code: data?.code ?? "ended", message: data?.message ?? "" };
    this.setStatus("refused");
    // Not to be reconnected by socket.io if the transport closes before the server's goodbye.
    this.socket.disconnect();
  }

  /**
   * The websocket failed. If plain HTTP still reaches the server, the network
   * blocks websockets (a firewall or proxy, as in the rehearsal): from now on,
   * and on this browser's next visits, start with long-polling and upgrade to a
   * websocket where the network allows it. If HTTP fails too, the server is
   * away (a restart): keep trying the websocket.
   */
  async fallBackIfBlocked() {
    if (this.socket.io.opts.transports[0] === "polling") return;
    try {
      const answer = await fetch("/healthz", { cache: "no-store" });
      if (!answer.ok) return;
    } catch {
      return;
    }
    this.socket.io.opts.transports = POLLING_FIRST;
    remember(FALLBACK_KEY, "polling");
  }

  /** Once a websocket works again (another network), the fallback is forgotten. */
  watchUpgrade() {
    const engine = this.socket.io.engine;
    if (engine.transport.name === "websocket") forget(FALLBACK_KEY);
    else engine.once("upgrade", (transport) => transport.name === "websocket" && forget(FALLBACK_KEY));
  }

  onWelcome(data) {
    this.welcome = data;
    this.awaitingSeq = data.seq;
    if (typeof data.server_time === "number" && !this.link.rtt_ms) this.clockOffset = data.server_time * 1000 - Date.now();
    if (data.epoch !== this.epoch && this.state !== null) {
      // Another epoch: our sequence numbers mean nothing there; the server sends a snapshot.
      this.setStatus("catching_up");
    }
  }

  onSnapshot(data) {
    this.state = data.state;
    this.views = data.views;
    this.seq = data.seq;
    this.epoch = data.epoch;
    this.gapAsked = false;
    this.checkSynced();
    this.changed();
    this.tellEvents(null);
  }

  tellEvents(events) {
    for (const listener of this.eventListeners) listener(events);
  }

  /** `presence` says what changed since the last one: `reset` first, then upsert `set` by `conn`, remove `left`. */
  onPresence(data) {
    if (data.reset) this.presenceByConn.clear();
    for (const connection of data.set ?? []) this.presenceByConn.set(connection.conn, connection);
    for (const conn of data.left ?? []) this.presenceByConn.delete(conn);
    this.presence = [...this.presenceByConn.values()];
    this.changed();
  }

  onBatch(data) {
    if (this.state === null || data.last <= this.seq) return;
    if (data.epoch !== this.epoch || data.first > this.seq + 1) {
      this.askForGap();
      return;
    }
    const fresh = data.events.slice(this.seq + 1 - data.first);
    const applied = [];
    for (const event of fresh) {
      if (!understands(event)) {
        if (applied.length) this.tellEvents(applied);
        this.askForSnapshot();
        return;
      }
      apply(this.state, event);
      applied.push(event);
      this.seq += 1;
    }
    // The views are the server's after the batch's last event, which we now have too.
    this.views = applyViews(this.views, data.views);
    this.gapAsked = false;
    this.checkSynced();
    this.changed();
    if (applied.length) this.tellEvents(applied);
  }

  askForGap() {
    this.ask({ last_seq: this.seq, epoch: this.epoch });
  }

  askForSnapshot() {
    // No last_seq: the server answers with a snapshot.
    this.ask({});
  }

  /** Ask once for what we miss; if no answer fills it within GAP_RETRY_MS, the next batch asks again. */
  ask(what) {
    if (this.gapAsked) return;
    this.gapAsked = true;
    this.setStatus("catching_up");
    this.socket.emit("sync", what);
    clearTimeout(this.gapTimer);
    this.gapTimer = setTimeout(() => {
      this.gapAsked = false;
    }, GAP_RETRY_MS);
  }

  checkSynced() {
    if (this.state === null || !this.socket?.connected) return;
    if (this.awaitingSeq !== null && this.seq < this.awaitingSeq) return;
    this.awaitingSeq = null;
    this.lastSyncedAt = Date.now();
    if (this.status === "connected" || this.status === "resynced") return;
    if (this.wasConnected) {
      this.setStatus("resynced");
      clearTimeout(this.resyncedTimer);
      this.resyncedTimer = setTimeout(() => this.status === "resynced" && this.setStatus("connected"), RESYNCED_FOR_MS);
    } else {
      this.wasConnected = true;
      this.setStatus("connected");
    }
  }

  setStatus(status) {
    if (this.status === status) return;
    this.status = status;
    if (this.pending && !this.stale && status !== "refused") this.pending.phase = "back";
    this.changed();
  }

  /** Tell the views, at most once per animation frame (a burst of events is one repaint). */
  changed() {
    if (this.notifyScheduled) return;
    this.notifyScheduled = true;
    const run = () => {
      this.notifyScheduled = false;
      for (const listener of this.listeners) listener();
    };
    if (typeof requestAnimationFrame === "function" && document.visibilityState === "visible") requestAnimationFrame(run);
    else setTimeout(run, 16);
  }

  // --- commands ---------------------------------------------------------------------------

  /**
   * Send a command; resolves with the server's answer `{ok, seq}` or
   * `{ok: false, error: {code, message}}`. A command is retried with the same
   * id across reconnects (the server applies it once) until it is answered or
   * COMMAND_TIMEOUT_MS has passed. For what the client records by itself
   * (attendance, a connection test's figures); a person's action goes through
   * `perform`, which never sends behind their back.
   */
  async send(type, fields = {}) {
    commandCounter += 1;
    const message = { type, id: `${this.clientId}-${commandCounter}`, ...fields };
    const deadline = Date.now() + COMMAND_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (!this.socket.connected) {
        await sleep(100);
        continue;
      }
      try {
        return await this.socket.timeout(Math.min(5000, deadline - Date.now())).emitWithAck("command", message);
      } catch {
        await sleep(100);
      }
    }
    return { ok: false, error: { code: "unavailable", message: "No answer from the server; check your connection and try again." } };
  }

  /**
   * A person's action: sent now when the screen is in step with the server,
   * else held as `pending` for the person to send or drop (see the top of this
   * file). Resolves with the server's answer, or `{ok: false, error: {code:
   * "not_sent"}}` when the person drops it (or a later action replaces it).
   */
  perform(type, fields = {}) {
    commandCounter += 1;
    const message = { type, id: `${this.clientId}-${commandCounter}`, ...fields };
    if (this.stale || !this.socket?.connected) return this.hold(message, "offline");
    return this.deliver(message);
  }

  /** Send the pending action now (the person confirmed it). */
  sendPending() {
    const pending = this.pending;
    if (pending === null || this.stale) return;
    this.pending = null;
    this.changed();
    this.deliver(pending.message).then(pending.settle);
  }

  /** Drop the pending action (the person decided against it, or acted again). */
  dropPending() {
    const pending = this.pending;
    if (pending === null) return;
    this.pending = null;
    this.changed();
    pending.settle({ ok: false, error: { code: "not_sent", message: "Not sent.", unsure: pending.unsure } });
  }

  hold(message, phase, unsure = false) {
    this.dropPending();
    return new Promise((settle) => {
      this.pending = { message, phase, unsure, settle };
      this.changed();
    });
  }

  /** Emit and wait for the answer; a connection lost, or no answer in time, makes the action pending again (unsure). */
  async deliver(message) {
    let lost;
    const cut = new Promise((resolve) => {
      lost = () => resolve(null);
      this.disconnectWaiters.add(lost);
    });
    try {
      const acked = this.socket.timeout(COMMAND_TIMEOUT_MS).emitWithAck("command", message);
      // Once the connection is cut, socket.io fails the ack too: nobody waits on it then.
      acked.catch(() => {});
      const answer = await Promise.race([acked, cut]);
      if (answer !== null) return answer;
    } catch {
      // No answer in time: the server may still have applied it, so the person decides with the screen in view.
    } finally {
      this.disconnectWaiters.delete(lost);
    }
    return this.hold(message, this.stale ? "offline" : "back", true);
  }

  /** WebRTC signalling through the server (docs/protocol.md, Media signalling): answered {ok, sdp?} or {ok: false, error}. */
  async media(body) {
    try {
      return await this.socket.timeout(5000).emitWithAck("media", body);
    } catch {
      return { ok: false, error: { code: "media_unavailable", message: "No answer from the server about audio; it tries again by itself." } };
    }
  }

  /** Call `listener` when the media server came back after a restart; returns an unsubscribe. */
  onMediaReset(listener) {
    this.mediaResetListeners.add(listener);
    return () => this.mediaResetListeners.delete(listener);
  }

  /** The technical team's message to one participant's screens: answered {ok} or {ok: false, error}. */
  async notifyParticipant(participant, text) {
    try {
      return await this.socket.timeout(5000).emitWithAck("notify_participant", { participant, text });
    } catch {
      return { ok: false, error: { code: "unavailable", message: "No answer from the server; try again." } };
    }
  }

  // --- measuring the link -------------------------------------------------------------------

  /** One round trip: {rtt, offset} in ms, or null if no answer came. */
  async ping() {
    const sent = Date.now();
    try {
      const answer = await this.socket.timeout(3000).emitWithAck("ping", { t: sent });
      const back = Date.now();
      const rtt = back - sent;
      return { rtt, offset: answer.server_time * 1000 - (sent + rtt / 2) };
    } catch {
      return null;
    }
  }

  /** `count` pings in a row: rtt (median), jitter (mean difference of successive rtts), clock offset. */
  async measure(count, onProgress = () => {}) {
    const samples = [];
    for (let i = 0; i < count; i += 1) {
      const sample = await this.ping();
      if (sample) samples.push(sample);
      onProgress(i + 1, count);
    }
    if (!samples.length) return null;
    const rtts = samples.map((s) => s.rtt);
    const sorted = [...rtts].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    let jitter = 0;
    for (let i = 1; i < rtts.length; i += 1) jitter += Math.abs(rtts[i] - rtts[i - 1]);
    jitter = rtts.length > 1 ? jitter / (rtts.length - 1) : 0;
    // The offset measured on the fastest round trip is the least skewed by queueing.
    const best = samples.reduce((a, b) => (b.rtt < a.rtt ? b : a));
    this.clockOffset = best.offset;
    return { rtt_ms: median, jitter_ms: jitter, clock_offset_ms: best.offset };
  }

  get transport() {
    return this.socket?.io?.engine?.transport?.name ?? null;
  }

  /** Send the technical team what we know of this connection (they see it live; not recorded). */
  report(fields = {}) {
    Object.assign(this.link, fields);
    // The server takes offsets of at most a day (a clock wrong by more says little more).
    if (typeof this.link.clock_offset_ms === "number") this.link.clock_offset_ms = Math.max(-MAX_OFFSET_MS, Math.min(MAX_OFFSET_MS, this.link.clock_offset_ms));
    if (this.socket?.connected) this.socket.emit("report", { ...this.link });
  }

  async measureAndReport(count = 5) {
    const measured = await this.measure(count);
    const microphone = this.link.microphone ?? (await microphonePermission());
    this.report({ ...(measured ?? {}), browser: browserName(), microphone });
    this.changed();
  }
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
