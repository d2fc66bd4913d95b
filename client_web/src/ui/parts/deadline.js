// A deadline in the consultation's time zone (Geneva) and the viewer's own,
// with the time left: delegates answer from every time zone.
import { html } from "../html.js";
import { t } from "../../i18n/index.js";
import { dateTimeIn, durationText, localZone, wallClock, zoneLabel } from "../format.js";

/** A deadline at midnight is "until 23:59" of the day before (core.clock.end_of_day): say it so. */
export function shownDeadline(at, tz) {
  const w = wallClock(at, tz);
  return w.hour === 0 && w.minute === 0 ? at - 60000 : at;
}

export function Deadline({ at, tz, now, testid }) {
  const own = localZone();
  const passed = now >= at;
  const shown = shownDeadline(at, tz);
  return html`<p class=${`deadline ${passed ? "passed" : at - now < 24 * 3600000 ? "soon" : ""}`} data-testid=${testid} data-passed=${passed}>
    <span class="when"><strong>${dateTimeIn(shown, tz)}</strong> <span class="muted">${zoneLabel(tz)}</span></span>
    ${own === tz ? null : html`<span class="when"><strong>${dateTimeIn(shown, own)}</strong> <span class="muted">${t("your_time")}</span></span>`}
    <span class="left">${passed ? t("deadline_passed_short") : t("time_left", { time: durationText(at - now) })}</span>
  </p>`;
}
