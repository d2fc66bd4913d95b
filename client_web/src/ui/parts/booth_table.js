// The six booths at a glance: who is on duty, whether the booth's microphone
// (the duty's) is open, where each booth takes its source, handovers and alarms.
import { html } from "../html.js";
import { t } from "../../i18n/index.js";
import { languageName, participantName } from "../names.js";
import { LANGUAGES } from "../../core/routing.js";

export function boothAlarms(state, booth) {
  const alarms = [];
  if (booth.handover_alerted) alarms.push(t("alarm_handover_due"));
  if (state.speech && !booth.mic_open && state.floor_language !== booth.language) alarms.push(t("alarm_silent"));
  return alarms;
}

export function BoothTable({ state, highlight = null }) {
  return html`<div class="table-wrap"><table class="booths" data-testid="booths">
    <thead><tr><th>${t("booth")}</th><th>${t("on_duty")}</th><th>${t("mic")}</th><th>${t("source")}</th><th>${t("status")}</th></tr></thead>
    <tbody>${LANGUAGES.map((language) => {
      const booth = state.booths[language];
      const alarms = boothAlarms(state, booth);
      const finishing = state.tail?.booths.includes(language);
      return html`<tr key=${language} class=${`${language === highlight ? "mine" : ""} ${alarms.length ? "alarm" : ""}`} data-booth=${language}>
        <th scope="row">${languageName(language)}${state.floor_language === language ? html` <span class="tag">${t("floor_language_short")}</span>` : null}</th>
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
