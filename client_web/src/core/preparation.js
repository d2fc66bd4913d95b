// The rules before the sitting, mirrored from the core so that the browser can
// say in advance what the server will decide: who answers the agenda
// consultation (core/grouping.py), who contributes and how long a text may be
// (core/contributions.py). tests/js_fold checks textPages against text_pages.

/** Rule: only council members answer the agenda consultation (grouping.MAY_ANSWER). */
export const MAY_ANSWER = new Set(["council_member"]);
/** Rule: member states contribute (contributions.MEMBER_STATES). */
export const MEMBER_STATES = new Set(["council_member", "observer_state"]);
/** Rule: at most two pages. */
export const MAX_PAGES = 2;
/** A page of the template in 11-point type holds about 3,500 characters. */
export const CHARACTERS_PER_PAGE = 3500;
/** Uploads: at most 5 MB (uploads.MAX_BYTES). */
export const MAX_UPLOAD_BYTES = 5 * 1024 * 1024;

/** The pages a text contribution counts as (contributions.text_pages): Python's len() counts code points. */
export function textPages(...texts) {
  const length = texts.reduce((sum, text) => sum + [...text].length, 0);
  return Math.max(1, Math.ceil(length / CHARACTERS_PER_PAGE));
}

/** The group an item stands in until the secretariat decides: no proposal counts with group 1. */
export function proposedGroup(item) {
  return item.group === 2 ? 2 : 1;
}

/** The group an answer puts an item in. */
export function answeredGroup(item, answer) {
  const proposed = proposedGroup(item);
  return answer === "other_group" ? 3 - proposed : proposed;
}

/** Where the agenda consultation stands at `now`: none, open, answers_closed (deadline passed), closed. */
export function groupingPhase(state, now) {
  const grouping = state.grouping;
  if (!grouping) return "none";
  if (grouping.closed) return "closed";
  return now < grouping.deadline ? "open" : "answers_closed";
}

/** How many council members have answered at least one item (what the public may see). */
export function answeredCount(state) {
  if (!state.grouping) return 0;
  return Object.values(state.grouping.answers).filter((answers) => Object.keys(answers).length > 0).length;
}

export function councilMembers(state) {
  return Object.values(state.delegations).filter((d) => MAY_ANSWER.has(d.cls));
}

/** Every item of the circular in its order: its sections in turn, each in the order the circular lists it. */
export function allItems(state) {
  const items = Object.values(state.items);
  const place = new Map(state.sections.map((s, i) => [s, i]));
  // Refs that read as numbers ("1".."77") come out of an object in numeric order, the circular's for such lists.
  return items.map((item, i) => [item, i]).sort(([a, i], [b, j]) => (place.get(a.section) ?? -1) - (place.get(b.section) ?? -1) || i - j).map(([item]) => item);
}

/** The contributions on one item, oldest first. */
export function contributionsOn(state, ref) {
  return Object.values(state.contributions).filter((c) => c.item === ref).sort((a, b) => a.at - b.at);
}
