// The clock (core/clock.py): the daily slot in the consultation's time zone,
// the sitting, elapsed time per item. Time zones come from the browser's
// Intl database, the same IANA zones the server's zoneinfo uses.

export const MINUTE = 60_000;

const formatters = new Map();

function partsFormatter(tz) {
  if (!formatters.has(tz)) {
    formatters.set(tz, new Intl.DateTimeFormat("en-US", {
      timeZone: tz, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit",
    }));
  }
  return formatters.get(tz);
}

/** The wall-clock fields of an instant in a zone: {year, month, day, hour, minute, second}. */
export function wallClock(ms, tz) {
  const fields = {};
  for (const part of partsFormatter(tz).formatToParts(new Date(ms))) {
    if (part.type !== "literal") fields[part.type] = Number(part.value);
  }
  return fields;
}

/** The zone's offset from UTC at an instant, in ms (CET: 3,600,000). */
export function offsetMs(tz, ms) {
  const w = wallClock(ms, tz);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/**
 * A wall-clock time on a day in a zone, as ms since the epoch. Two passes find
 * the offset in force at that moment (the zone decides CET or CEST). A slot is
 * by day and DST changes happen at night, so a wall time inside a change (which
 * Python resolves with fold=0) does not arise for a slot.
 */
export function zonedTime(day, hhmm, tz) {
  const [y, m, d] = day.split("-").map(Number);
  const [hh, mm] = hhmm.split(":").map(Number);
  const local = Date.UTC(y, m - 1, d, hh, mm);
  const first = local - offsetMs(tz, local);
  return local - offsetMs(tz, first);
}

const bounds = new Map();

/** The slot of one day as [start, end] in ms since the epoch. */
export function slotBounds(day, slotStart, slotEnd, tz) {
  const cacheKey = `${day} ${slotStart} ${slotEnd} ${tz}`;
  if (!bounds.has(cacheKey)) bounds.set(cacheKey, [zonedTime(day, slotStart, tz), zonedTime(day, slotEnd, tz)]);
  return bounds.get(cacheKey);
}

/** Every day's slot: [[day, start, end], ...]. */
export function slots(state) {
  return state.days.map((day) => [day, ...slotBounds(day, state.slot_start, state.slot_end, state.tz)]);
}

/** Rule: the sitting is open from its opening until the slot end, even before the tick closes it. */
export function sittingIsOpen(state, now) {
  return state.sitting !== null && now < state.sitting.ends_at;
}

/** Time spent on an item so far, counting the running stretch of the current item. */
export function elapsedMs(state, number, now) {
  const item = state.items[String(number)];
  const running = number === state.current_item && state.current_since !== null ? now - state.current_since : 0;
  return item.elapsed_ms + Math.max(running, 0);
}
