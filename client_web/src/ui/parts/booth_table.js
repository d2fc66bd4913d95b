// The six booths at a glance: who is on duty, whether the booth's microphone
// (the duty's) is open, where each booth takes its source, handovers and alarms.
import { html } from "../html.js";
import { t } from "../../i18n/index.js";
import { languageName, participantName } from "../names.js";

const ALARM_KEYS = { handover_due: "alarm_handover_due", silent: "alarm_silent", both_live: "alarm_both_live" };

/** The server's alarms for one booth (a row of the booth table view), in words. */
export function boothAlarms(row) {
  return row.alarms.map((alarm) => t(ALARM_KEYS[alarm]));
}

export function BoothTable({ state, views, highlight = null }) {
  return html`<div class="table-wrap"><table class="booths" data-testid="booths">
    <thead><tr><th>${t("booth")}</th><th>${t("on_duty")}</th><th>${t("mic")}</th><th>${t("source")}</th><th>${t("status")}</th></tr></thead>
    <tbody>${views.booths.map((booth) => {
      const { language } = booth;
      const alarms = boothAlarms(booth);
      const { finishing } = booth;
      return html`<tr key=${language} class=${`${language === highlight ? "mine" : ""} ${alarms.length ? "alarm" : ""}`} data-booth=${language}>
        <th scope="row">${languageName(language)}${booth.floor_language ? html` <span class="tag">${t("floor_language_short")}</span>` : null}</th>
        <td>${booth.on_duty ? participantName(state, booth.on_duty) : html`<span class="muted">—</span>`}</td>
        <td data-testid="booth-mic" data-open=${booth.mic_open}>${booth.mic_open ? html`<span class="live-dot">● ${t("live")}</span>` : html`<span class="muted">${t("muted")}</span>`}</td>
        <td>${booth.source === "floor" ? t("source_floor") : t("relay_short", { booth: languageName(booth.source) })}</td>
        <td>${finishing ? html`<span class="tag tag-tail">${t("finishing")}</span>` : null}
          ${booth.handover_requested_by ? html`<span class="tag">${t("handover_requested_short")}</span>` : null}
          ${alarms.map((a) => html`<span class="tag tag-alarm">${a}</span>`)}</td>
      </tr>`;
    })}</tbody>
  </table></div>`;
}
