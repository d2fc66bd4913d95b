// The time in the consultation's zone (Geneva) and in the user's own, with the
// countdown to the slot end: the slot is strictly kept, never extended.
import { html } from "../html.js";
import { t } from "../../i18n/index.js";
import { clock, dayLabel, localZone, timeIn, zoneLabel } from "../format.js";

export function SittingClock({ state, views, now }) {
  const own = localZone();
  const sameZone = own === state.tz;
  const sitting = state.sitting;
  let status;
  if (sitting && views.clock.sitting_open) {
    const left = sitting.ends_at - now;
    status = html`<span class=${`countdown ${left < 10 * 60000 ? "soon" : ""}`} data-testid="slot-countdown">
      ${t("slot_ends_in", { time: clock(left) })}</span>`;
  } else {
    const next = views.slots.find((slot) => slot.start > now);
    status = html`<span class="countdown">${next
      ? t("next_slot", { day: dayLabel(next.day), time: timeIn(next.start, state.tz) })
      : t("no_sitting")}</span>`;
  }
  return html`<div class="sitting-clock" data-testid="sitting-clock">
    <span><span class="muted">${zoneLabel(state.tz)}</span> <strong>${timeIn(now, state.tz, true)}</strong></span>
    ${sameZone ? null : html`<span><span class="muted">${t("your_time")}</span> <strong>${timeIn(now, own)}</strong></span>`}
    ${status}
  </div>`;
}
