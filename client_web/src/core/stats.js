// Summaries for the technical team, pure functions of the state and of the
// presence list: who is connected from where, and how long the floor took.

/** Bucket edges in seconds for the time-to-floor histogram; the goal is under 3 s. */
export const TIME_TO_FLOOR_BUCKETS = [1, 2, 3, 5, 10, 20];
export const TIME_TO_FLOOR_GOAL_MS = 3000;

export function timeToFloorHistogram(speeches) {
  const counts = new Array(TIME_TO_FLOOR_BUCKETS.length + 1).fill(0);
  for (const speech of speeches) {
    const s = speech.time_to_floor_ms / 1000;
    const index = TIME_TO_FLOOR_BUCKETS.findIndex((edge) => s < edge);
    counts[index < 0 ? TIME_TO_FLOOR_BUCKETS.length : index] += 1;
  }
  return counts.map((count, i) => ({
    from: i === 0 ? 0 : TIME_TO_FLOOR_BUCKETS[i - 1],
    to: TIME_TO_FLOOR_BUCKETS[i] ?? null,
    count,
  }));
}

/** The p-th percentile (0..100) of numbers, nearest-rank; null for none. */
export function percentile(values, p) {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const STATE_CLASSES = new Set(["council_member", "observer_state"]);

/**
 * "120 participants from 42 states, 23 speakers": the connected participants,
 * the member states they come from, the delegations that have spoken; the
 * same by region; and the registered delegations nobody has connected for.
 */
export function attendance(state, presence) {
  const connected = new Set(presence.map((c) => c.participant).filter((id) => state.participants[id]));
  const delegationsPresent = new Set();
  const byRegion = new Map();
  for (const id of connected) {
    const delegation = state.delegations[state.participants[id].delegation];
    if (!delegation) continue;
    delegationsPresent.add(delegation.id);
    const region = delegation.region || "—";
    const row = byRegion.get(region) ?? { region, participants: 0, delegations: new Set() };
    row.participants += 1;
    row.delegations.add(delegation.id);
    byRegion.set(region, row);
  }
  const states = [...delegationsPresent].filter((id) => STATE_CLASSES.has(state.delegations[id].cls));
  const speakers = new Set(state.speeches.map((s) => s.delegation));
  if (state.speech) speakers.add(state.speech.delegation);
  const absent = Object.values(state.delegations).filter((d) => !delegationsPresent.has(d.id)).map((d) => d.name).sort();
  return {
    participants: connected.size,
    delegations: delegationsPresent.size,
    absent,
    states: states.length,
    speakers: speakers.size,
    byRegion: [...byRegion.values()]
      .map((r) => ({ region: r.region, participants: r.participants, delegations: r.delegations.size }))
      .sort((a, b) => a.region.localeCompare(b.region)),
  };
}
