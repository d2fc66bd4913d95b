// The live forecast (core/forecast.py): what will fit before today's slot end
// and in the remaining days, from the actual elapsed times and the current
// queue. Time is one stream across the remaining slots; an item is expected on
// the day its discussion would end; items beyond the last slot will not fit.

import { MINUTE, elapsedMs, slots } from "./clock.js";
import { queueMs } from "./floor.js";

function windowOf(windows, finish) {
  let total = 0;
  for (const [label, capacity] of windows) {
    total += capacity;
    if (finish <= total) return label;
  }
  return "will not fit";
}

/**
 * Each open item needs its allocation (the plan's, else its estimate) less its
 * elapsed time; the current item needs at least what its queue holds.
 */
export function forecast(state, now) {
  const allocated = new Map(state.plan.map((a) => [a.item, a.minutes]));
  const windows = [];
  for (const [day, start, end] of slots(state)) {
    if (end <= now) continue;
    windows.push(start <= now ? ["today", end - now] : [day, end - start]);
  }
  let order = [...state.agenda];
  const at = order.indexOf(state.current_item);
  if (at >= 0) order = [...order.slice(at), ...order.slice(0, at)];
  const items = [];
  let used = 0;
  const capacity = windows.reduce((sum, [, c]) => sum + c, 0);
  for (const number of order) {
    const item = state.items[String(number)];
    if (item.status !== "open") continue;
    const minutes = allocated.get(number) ?? item.minutes;
    const spent = elapsedMs(state, number, now);
    let need = Math.max(minutes * MINUTE - spent, 0);
    if (number === state.current_item) need = Math.max(need, queueMs(state, now));
    used += need;
    items.push({
      item: number, allocated_minutes: minutes, elapsed_minutes: spent / MINUTE,
      remaining_minutes: need / MINUTE, expected: windowOf(windows, used),
    });
  }
  return {
    items,
    fits_today: items.filter((f) => f.expected === "today").map((f) => f.item),
    will_not_fit: items.filter((f) => f.expected === "will not fit").map((f) => f.item),
    overflow_minutes: Math.round((Math.max(used - capacity, 0) / MINUTE) * 10) / 10,
    minutes_left_today: windows.length && windows[0][0] === "today" ? windows[0][1] / MINUTE : 0,
    days_left: windows.filter(([label]) => label !== "today").length,
  };
}
