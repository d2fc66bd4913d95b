// Whether what is on screen is live: connected / reconnecting / resynced.
import { html } from "../html.js";
import { t } from "../../i18n/index.js";
import { timeIn, zoneLabel } from "../format.js";

export function ConnectionBadge({ session }) {
  const status = session.status;
  return html`<span class=${`badge conn conn-${status}`} data-testid="connection" data-status=${status} role="status">
    <span class="dot" aria-hidden="true"></span>${t(`conn_${status}`)}
  </span>`;
}

/** Never stale in silence: while the link is down or catching up, say so above everything (in the header clock's zone: Geneva). */
export function StaleBanner({ session }) {
  if (!session.stale || session.state === null) return null;
  const tz = session.state.tz;
  const since = session.lastSyncedAt ? `${timeIn(session.lastSyncedAt + session.clockOffset, tz, true)} (${zoneLabel(tz)})` : "—";
  return html`<div class="stale-banner" role="alert" data-testid="stale">
    ${session.status === "catching_up" ? t("stale_catching_up") : t("stale_reconnecting", { time: since })}
  </div>`;
}
