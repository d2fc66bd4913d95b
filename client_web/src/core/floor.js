// The floor as a delegate's screen needs it: speaking limits, "you are #N,
// about M minutes", the time a queue still needs. Mirrors core/floor.py and
// core/clock.py (speaking_limit_ms); tests/js_fold compares them.

/** Rule: an item's own limit for the class, else the consultation's default for the class (ms). */
export function speakingLimitMs(state, item, cls) {
  const limits = state.items[String(item)].limits;
  return 1000 * (limits[cls] ?? state.settings.limits[cls] ?? 120);
}

export function currentQueue(state) {
  if (state.current_item === null) return [];
  return state.queues[String(state.current_item)] ?? [];
}

export function speechRemainingMs(state, now) {
  const speech = state.speech;
  if (speech === null) return 0;
  return Math.max(speech.limit_ms - (now - speech.started_at), 0);
}

function requestMs(state, item, request) {
  return speakingLimitMs(state, item, state.delegations[request.delegation].cls);
}

/**
 * "You are #N, about M ms": the place of a delegation's request (or of its point
 * of order) on the current item and the wait, at each speaker's limit, for those
 * ahead and the running speech. `null` when the delegation has not asked.
 */
export function queuePosition(state, delegation, now, pointOfOrder = false) {
  if (state.current_item === null) return null;
  const queue = currentQueue(state);
  const place = queue.findIndex((request) => request.delegation === delegation && request.point_of_order === pointOfOrder);
  if (place < 0) return null;
  let wait = speechRemainingMs(state, now);
  if (state.grant !== null) {
    wait += speakingLimitMs(state, state.grant.item, state.delegations[state.grant.delegation].cls);
  }
  for (const request of queue.slice(0, place)) wait += requestMs(state, state.current_item, request);
  return [place + 1, wait];
}

/** Time the current item's queue still needs, each speaker at their limit. */
export function queueMs(state, now) {
  if (state.current_item === null) return 0;
  const queue = currentQueue(state);
  return speechRemainingMs(state, now) + queue.reduce((sum, r) => sum + requestMs(state, state.current_item, r), 0);
}

/** Delegation -> how many speeches it made on `item` (the state's speech records, as the server folded them). */
export function speechesOn(state, item) {
  const counts = new Map();
  for (const speech of state.speeches) {
    if (speech.item === item) counts.set(speech.delegation, (counts.get(speech.delegation) ?? 0) + 1);
  }
  return counts;
}

/** Rule (core/floor.py MAY_RAISE_POINT_OF_ORDER): points of order come from member-state delegations. */
export const MAY_RAISE_POINT_OF_ORDER = new Set(["council_member", "observer_state"]);
/** Rule (core/outcomes.py MAY_BLOCK): only council members object, postpone or suspend. */
export const MAY_BLOCK = new Set(["council_member"]);

/** Whether the interpretation tail still holds the next speaker back at `now`. */
export function tailHolds(state, now) {
  return state.tail !== null && now < state.tail.until;
}
