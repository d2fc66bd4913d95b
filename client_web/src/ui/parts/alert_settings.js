// The delegate's choice of alerts when the floor is given while the tab is in the background.
import { useState } from "preact/hooks";
import { html } from "../html.js";
import { t } from "../../i18n/index.js";
import { alertOn, notificationPermission, setAlert } from "../floor_alert.js";

export function AlertSettings() {
  const [, redraw] = useState(0);
  const toggle = async (kind, on) => {
    await setAlert(kind, on);
    redraw((n) => n + 1);
  };
  const permission = notificationPermission();
  return html`<details class="alert-settings" data-testid="alert-settings">
    <summary>${t("floor_alerts")}</summary>
    <p class="muted small">${t("floor_alerts_explainer")}</p>
    <label class="check"><input type="checkbox" data-testid="alert-sound" checked=${alertOn("sound")}
      onChange=${(e) => toggle("sound", e.currentTarget.checked)} /> ${t("alert_sound")}</label>
    <label class="check"><input type="checkbox" data-testid="alert-notification" checked=${alertOn("notification")}
      disabled=${permission === "denied" || permission === "unsupported"} onChange=${(e) => toggle("notification", e.currentTarget.checked)} /> ${t("alert_notification")}</label>
    ${permission === "denied" ? html`<p class="muted small">${t("notifications_blocked")}</p>` : null}
  </details>`;
}
