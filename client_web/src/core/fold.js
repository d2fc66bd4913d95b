// The consultation's state, folded from the snapshot and the events exactly as
// the server's core does it (server/vcc/core/*: the `_xxx` appliers of each area).
//
// The state has the snapshot's plain-data shape (vcc.core.views.snapshot):
// items and queues are keyed by the item's ref (its code, or its number), booths by
// language, connection tests and help requests by participant. Every applier
// here mirrors one applier of the core; tests/js_fold checks the two against
// each other on random and scripted event logs.

const LANGUAGES = ["ar", "zh", "en", "fr", "ru", "es"];

/** The state of a consultation before its first event (vcc.core.state.ConsultationState()). */
export function initialState() {
  const booths = {};
  for (const language of LANGUAGES) {
    booths[language] = {
      language, on_duty: null, duty_since: null, mic_open: false, source: "floor",
      handover_requested_by: null, handover_alerted: false, both_talking: false,
    };
  }
  return {
    created: false, code: "", title: "", days: [], slot_start: "12:00", slot_end: "15:00",
    tz: "Europe/Zurich", note: "", rules_slot: "", contributions_deadline: null, deadlines: {},
    settings: { limits: {}, auto_cut: false, tail_ms: 4000, turn_minutes: 30, majority_policy: "simple_majority_of_voting_council_members" },
    delegations: {}, participants: {}, items: {}, sections: [], agenda: [], grouping: null, contributions: {},
    plan: [], plan_unplaced: [], plan_overflow_minutes: 0,
    sitting: null, sittings: [], current_item: null, current_since: null, queues: {}, grant: null, speech: null,
    speeches: [], tail: null, floor_language: null, booths, package: [], moves: [], speak_slowly: null,
    ballots: {}, connection_tests: {}, attendance: {}, failed_attempts: [], help_requests: {},
    captions: [], caption_count: 0, caption_last_at: null, webcast: false,
  };
}

const key = (number) => String(number);

/** A delegation's ordinary request, or its point of order (core/floor.py find_request). */
function findRequest(queue, delegation, pointOfOrder) {
  const index = queue.findIndex((request) => request.delegation === delegation && request.point_of_order === pointOfOrder);
  return index < 0 ? null : index;
}

function removeRequest(state, item, delegation, pointOfOrder) {
  const queue = state.queues[key(item)];
  let place = findRequest(queue, delegation, pointOfOrder);
  // A log from before a delegation could hold a point of order besides its request: it had one request.
  if (place === null) place = queue.findIndex((request) => request.delegation === delegation);
  return queue.splice(place, 1)[0];
}

function stopItemClock(state, at) {
  if (state.current_item !== null && state.current_since !== null) {
    state.items[key(state.current_item)].elapsed_ms += Math.max(at - state.current_since, 0);
  }
  state.current_since = null;
}

function leavePackage(state, number) {
  const index = state.package.indexOf(number);
  if (index >= 0) state.package.splice(index, 1);
}

function removeValue(list, value) {
  list.splice(list.indexOf(value), 1);
}

const APPLIERS = {
  // --- roster (core/roster.py)
  consultation_created(state, ev) {
    state.created = true;
    Object.assign(state, {
      code: ev.code, title: ev.title, days: [...ev.days], slot_start: ev.slot_start, slot_end: ev.slot_end, tz: ev.tz, note: ev.note, rules_slot: ev.rules_slot ?? "",
      contributions_deadline: ev.contributions_deadline ?? null, deadlines: { ...(ev.deadlines ?? {}) },
    });
    state.settings = {
      limits: { ...ev.limits }, auto_cut: ev.auto_cut, tail_ms: ev.tail_ms,
      turn_minutes: ev.turn_minutes, majority_policy: ev.majority_policy,
    };
  },
  delegation_added(state, ev) {
    state.delegations[ev.delegation] = {
      id: ev.delegation, name: ev.name, cls: ev.cls, region: ev.region, sector: ev.sector, voting_rights: ev.voting_rights,
    };
  },
  voting_rights_changed(state, ev) {
    state.delegations[ev.delegation].voting_rights = ev.voting_rights;
  },
  participant_added(state, ev) {
    state.participants[ev.participant] = {
      id: ev.participant, name: ev.name, role: ev.role, delegation: ev.delegation, languages: [...ev.languages],
      designated_speaker: ev.designated_speaker, booth: ev.booth, contact: ev.contact ?? null,
    };
  },
  item_added(state, ev) {
    const group = ev.group === undefined ? 1 : ev.group;
    const section = ev.section ?? "";
    state.items[key(ev.item)] = {
      ref: ev.item, number: ev.number, code: ev.code, section, title: ev.title, titles: { ...ev.titles }, documents: [...ev.documents],
      package: ev.package, kind: ev.kind, minutes: ev.minutes, group, list_closed: false, limits: {}, elapsed_ms: 0,
      conclusion: null, status: "open", concluded_by: null, blocked_by: null, block_kind: null, correspondence: null,
    };
    // Rule: group 2 waits for the in-person session; group 1 and items with no proposal are on the agenda.
    if (section && !state.sections.includes(section)) state.sections.push(section);
    if (group !== 2) state.agenda.push(ev.item);
  },

  // --- the agenda consultation and contributions (core/grouping.py, core/contributions.py)
  grouping_opened(state, ev) {
    state.grouping = { deadline: ev.deadline, deadline_local: ev.deadline_local, answers: {}, proposed_items: [], closed: false, overrides: [] };
  },
  grouping_answered(state, ev) {
    (state.grouping.answers[ev.delegation] ??= {})[key(ev.item)] = ev.answer ?? null;
  },
  item_proposed(state, ev) {
    state.grouping.proposed_items.push({ delegation: ev.delegation, title: ev.title, group: ev.group, at: ev.at });
  },
  grouping_closed(state, ev) {
    Object.assign(state.grouping, { closed: true, overrides: [...ev.overrides] });
    for (const [number, group] of Object.entries(ev.groups)) state.items[key(number)].group = group;
    state.agenda = [...ev.agenda];
  },
  contribution_submitted(state, ev) {
    state.contributions[ev.contribution] = {
      id: ev.contribution, item: ev.item, title: ev.title, submitters: [...ev.submitters], document: ev.document,
      comments: ev.comments, way_forward: ev.way_forward, file: ev.file ? { ...ev.file } : null, pages: ev.pages, at: ev.at,
      contacts: ev.contacts ? { ...ev.contacts } : null,
    };
  },

  // --- clock (core/clock.py)
  sitting_opened(state, ev) {
    state.sitting = { day: ev.day, opened_at: ev.at, ends_at: ev.ends_at, closed_at: null, close_reason: null };
    if (state.current_item !== null) state.current_since = ev.at;
  },
  sitting_closed(state, ev) {
    const sitting = state.sitting;
    const closedAt = Math.min(ev.at, sitting.ends_at);
    stopItemClock(state, closedAt);
    sitting.closed_at = closedAt;
    sitting.close_reason = ev.reason;
    state.sittings.push(sitting);
    state.sitting = null;
  },
  item_taken_up(state, ev) {
    stopItemClock(state, ev.at);
    state.current_item = ev.item;
    state.current_since = state.sitting !== null ? ev.at : null;
    state.queues[key(ev.item)] ??= [];
  },
  item_minutes_set(state, ev) {
    state.items[key(ev.item)].minutes = ev.minutes;
  },
  speaking_limit_set(state, ev) {
    if (ev.item === null || ev.item === undefined) state.settings.limits[ev.cls] = ev.seconds;
    else state.items[key(ev.item)].limits[ev.cls] = ev.seconds;
  },
  agenda_planned(state, ev) {
    state.plan = ev.allocations.map((a) => ({ item: a.item, day: a.day, minutes: a.minutes }));
    state.plan_unplaced = [...ev.unplaced];
    state.plan_overflow_minutes = ev.overflow_minutes;
  },

  // --- floor (core/floor.py)
  floor_requested(state, ev) {
    (state.queues[key(ev.item)] ??= []).splice(ev.position, 0, {
      delegation: ev.delegation, participant: ev.participant, point_of_order: ev.point_of_order,
      requested_at: ev.at, moved_reason: null,
    });
  },
  floor_request_withdrawn(state, ev) {
    removeRequest(state, ev.item, ev.delegation, ev.point_of_order ?? false);
  },
  floor_request_moved(state, ev) {
    const request = removeRequest(state, ev.item, ev.delegation, false);
    request.moved_reason = ev.reason;
    state.queues[key(ev.item)].splice(ev.to_position, 0, request);
    state.moves.push({
      delegation: ev.delegation, item: ev.item, from_position: ev.from_position, to_position: ev.to_position,
      reason: ev.reason, at: ev.at, actor: ev.actor,
    });
  },
  speakers_list_closed(state, ev) {
    state.items[key(ev.item)].list_closed = true;
  },
  speakers_list_reopened(state, ev) {
    state.items[key(ev.item)].list_closed = false;
  },
  floor_granted(state, ev) {
    removeRequest(state, ev.item, ev.delegation, ev.point_of_order);
    state.grant = { delegation: ev.delegation, item: ev.item, point_of_order: ev.point_of_order, granted_at: ev.at, heard_at: null };
  },
  grant_revoked(state, ev) {
    const cause = ev.actor === "@system" ? "sitting_closed" : "revoked";
    state.failed_attempts.push({ delegation: ev.delegation, item: ev.item, what: "grant_not_taken_up", cause, waited_ms: ev.at - state.grant.granted_at, at: ev.at });
    state.grant = null;
  },
  speaker_went_live(state, ev) {
    const heard = state.grant !== null && state.grant.heard_at !== null;
    state.grant = null;
    state.tail = null;
    state.speak_slowly = null;
    state.floor_language = ev.language;
    state.speech = {
      participant: ev.participant, delegation: ev.delegation, item: ev.item, language: ev.language,
      started_at: ev.at, time_to_floor_ms: ev.time_to_floor_ms, limit_ms: ev.limit_ms, warned: false, heard,
    };
  },
  speaker_heard(state, ev) {
    const speech = state.speech;
    if (speech !== null && speech.participant === ev.participant) Object.assign(speech, { heard: true, time_to_floor_ms: ev.time_to_floor_ms });
    else state.grant.heard_at = ev.at;
  },
  speaking_time_exceeded(state) {
    state.speech.warned = true;
  },
  speech_ended(state, ev) {
    const speech = state.speech;
    state.speeches.push({
      participant: ev.participant, delegation: ev.delegation, item: ev.item, language: speech.language,
      started_at: speech.started_at, duration_ms: ev.duration_ms, time_to_floor_ms: ev.time_to_floor_ms, reason: ev.reason,
    });
    state.speech = null;
    state.floor_language = null;
    state.speak_slowly = null;
    state.tail = ev.tail_booths.length ? { until: ev.tail_until, booths: [...ev.tail_booths] } : null;
  },

  // --- interpretation (core/interpretation.py)
  booth_duty_taken(state, ev) {
    Object.assign(state.booths[ev.booth], { on_duty: ev.participant, duty_since: ev.at, handover_alerted: false });
  },
  handover_requested(state, ev) {
    state.booths[ev.booth].handover_requested_by = ev.participant;
  },
  handover_completed(state, ev) {
    // Rule: a handover closes the booth's microphone; the incoming interpreter opens it.
    Object.assign(state.booths[ev.booth], {
      on_duty: ev.to_participant, duty_since: ev.at, mic_open: false, handover_requested_by: null, handover_alerted: false,
    });
  },
  booth_mic_set(state, ev) {
    const booth = state.booths[ev.booth];
    // Older logs may hold a partner off duty opening theirs: that never was the booth's microphone.
    if (ev.participant === booth.on_duty) booth.mic_open = ev.live;
  },
  both_partners_live() {
    // An alarm of older logs: a booth has one microphone now, so it changes nothing.
  },
  both_partners_talking(state, ev) {
    state.booths[ev.booth].both_talking = ev.talking;
  },
  booth_source_set(state, ev) {
    state.booths[ev.booth].source = ev.source;
  },
  booth_signalled_finished(state, ev) {
    removeValue(state.tail.booths, ev.booth);
  },
  interpretation_tail_ended(state) {
    state.tail = null;
  },
  handover_due(state, ev) {
    state.booths[ev.booth].handover_alerted = true;
  },
  speak_slowly_signalled(state, ev) {
    state.speak_slowly = { booth: ev.booth, participant: ev.participant, at: ev.at };
  },

  // --- outcomes (core/outcomes.py)
  conclusion_proposed(state, ev) {
    state.items[key(ev.item)].conclusion = ev.text;
  },
  consensus_recorded(state, ev) {
    Object.assign(state.items[key(ev.item)], { status: "concluded", concluded_by: "consensus" });
    leavePackage(state, ev.item);
  },
  item_deferred(state, ev) {
    Object.assign(state.items[key(ev.item)], { status: "deferred", blocked_by: ev.delegation, block_kind: ev.kind });
    leavePackage(state, ev.item);
  },
  package_proposed(state, ev) {
    state.package = [...ev.items];
  },
  item_pulled_from_package(state, ev) {
    leavePackage(state, ev.item);
  },
  package_approved(state, ev) {
    for (const number of ev.items) Object.assign(state.items[key(number)], { status: "concluded", concluded_by: "package" });
    state.package = [];
  },
  pointed_to_correspondence(state, ev) {
    Object.assign(state.items[key(ev.item)], {
      status: "correspondence", correspondence: { policy: ev.policy, voters: ev.voters, required: ev.required },
    });
    leavePackage(state, ev.item);
  },
  ballot_opened(state, ev) {
    state.ballots[key(ev.item)] = {
      item: ev.item, opened_at: ev.at, deadline: ev.deadline, deadline_local: ev.deadline_local, policy: ev.policy,
      electorate: [...ev.electorate], required: ev.required, votes: {}, closed_at: null, result: null, tally: {},
    };
  },
  vote_cast(state, ev) {
    state.ballots[key(ev.item)].votes[ev.delegation] = {
      answer: ev.answer, at: ev.at, participant: ev.participant ?? null, reference: ev.reference ?? null,
    };
  },
  ballot_closed(state, ev) {
    Object.assign(state.ballots[key(ev.item)], {
      closed_at: ev.at, result: ev.result, tally: { yes: ev.yes, no: ev.no, abstain: ev.abstain },
    });
  },

  // --- support (core/support.py)
  connection_test_recorded(state, ev) {
    // The event carries the test's figures under the state's names (core/support.py, TEST_FIGURES).
    const { type, v, actor, participant, ...test } = ev;
    state.connection_tests[participant] = test;
  },
  attendance_recorded(state, ev) {
    (state.attendance[ev.participant] ??= []).push(ev.day);
  },
  help_requested(state, ev) {
    state.help_requests[ev.participant] = { at: ev.at, message: ev.message ?? null };
  },
  help_resolved(state, ev) {
    delete state.help_requests[ev.participant];
  },

  // --- captions (core/captions.py)
  caption_posted(state, ev) {
    state.captions.push({ line: ev.line, sitting: ev.sitting, at: ev.at, text: ev.text, by: ev.actor, corrected_at: null });
    if (state.captions.length > CAPTIONS_KEPT) state.captions.shift();
    state.caption_count = ev.line;
    state.caption_last_at = ev.at;
  },
  caption_corrected(state, ev) {
    for (const line of state.captions) {
      if (line.line === ev.line) Object.assign(line, { text: ev.text, corrected_at: ev.at });
    }
    state.caption_last_at = ev.at;
  },
  webcast_set(state, ev) {
    state.webcast = ev.public;
  },
};

/** vcc.core.captions.KEPT: the latest lines the state keeps (every line still correctable is among them). */
const CAPTIONS_KEPT = 64;

/** The version of each event type this client understands (vcc_protocol.events): v2 where items became
 * known by their ref rather than their number, v1 for the rest. */
const KNOWN_VERSIONS = {
  agenda_planned: 2, ballot_closed: 2, ballot_opened: 2, conclusion_proposed: 2, consensus_recorded: 2, contribution_submitted: 2, floor_granted: 2,
  floor_request_moved: 2, floor_request_withdrawn: 2, floor_requested: 2, grant_revoked: 2, grouping_answered: 2,
  grouping_closed: 2, item_added: 2, item_deferred: 2, item_minutes_set: 2, item_pulled_from_package: 2,
  item_taken_up: 2, package_approved: 2, package_proposed: 2, pointed_to_correspondence: 2, speaker_went_live: 2,
  speakers_list_closed: 2, speakers_list_reopened: 2, speaking_limit_set: 2, speech_ended: 2, vote_cast: 2,
};

/** Whether this client can fold the event; an unknown type or a newer version means: take a snapshot instead of guessing. */
export function understands(event) {
  return Object.hasOwn(APPLIERS, event.type) && (event.v ?? 1) <= (KNOWN_VERSIONS[event.type] ?? 1);
}

/** Fold one event into the state (in place, like the core) and return the state. */
export function apply(state, event) {
  APPLIERS[event.type](state, event);
  return state;
}

export function fold(events, state = initialState()) {
  for (const event of events) apply(state, event);
  return state;
}

/**
 * The views after an `events` message: each view it carries replaces ours, the
 * others are unchanged (vcc_protocol.views.ViewsUpdate). A snapshot carries them all.
 * `queue_tail` replaces the queue view from its `start` on (vcc_protocol.views.QueueTail).
 */
export function applyViews(views, update) {
  const { queue_tail: tail, ...replaced } = update ?? {};
  const next = { ...views, ...replaced };
  if (tail) {
    const queue = next.queue;
    next.queue = {
      ...queue,
      places: [...queue.places.slice(0, tail.start), ...tail.places],
      wait_s: [...queue.wait_s.slice(0, tail.start), ...tail.wait_s],
    };
  }
  return next;
}

