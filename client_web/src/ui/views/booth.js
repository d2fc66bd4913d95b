// The interpreter's booth panel: duty and handover with the partner, the
// microphone, the source (the floor or a relay), the floor language, "finished"
// for the tail, speak-slowly, and the alarms.
import { html } from "../html.js";
import { t } from "../../i18n/index.js";
import { useNow, useShortcuts } from "../hooks.js";
import { act } from "../feedback.js";
import { clock, timeIn } from "../format.js";
import { delegationName, languageName, participantName } from "../names.js";
import { BoothTable, boothAlarms } from "../parts/booth_table.js";
import { warningText } from "../parts/channel_selector.js";
import { BoothAudio } from "../parts/media_link.js";

export function BoothView({ session }) {
  const { state, views } = session;
  const me = session.me;
  const now = useNow(session, 1000);
  const language = me.record?.booth;
  if (!language) return html`<p class="card">${t("not_an_interpreter")}</p>`;
  const booth = state.booths[language];
  const onDuty = booth.on_duty === me.participant;
  // Rule (core/interpretation.py): the booth's microphone is the duty's.
  const live = onDuty && booth.mic_open;
  const partners = Object.values(state.participants).filter((p) => p.booth === language && p.id !== me.participant);
  const row = views.booths.find((b) => b.language === language);
  const { finishing } = row;
  const passthrough = state.floor_language === language;
  const relayWarning = views.routes[language].warning;
  const alarms = boothAlarms(row);
  const toggleMic = () => onDuty && act(session, "set_booth_mic", { live: !live });
  const finished = () => act(session, "booth_finished");
  const slowly = () => act(session, "signal_speak_slowly");
  const handover = () => {
    if (booth.handover_requested_by && booth.handover_requested_by !== me.participant) return act(session, "accept_handover");
    return act(session, "request_handover");
  };
  useShortcuts({
    m: toggleMic,
    f: () => finishing && finished(),
    s: () => state.speech && slowly(),
    h: () => booth.on_duty && booth.handover_requested_by !== me.participant && handover(),
  });

  let duty;
  if (onDuty) duty = html`<p data-testid="duty">${t("you_are_on_duty", { time: clock(now - booth.duty_since) })}</p>`;
  else if (booth.on_duty) duty = html`<p data-testid="duty">${t("partner_on_duty", { name: participantName(state, booth.on_duty) })}</p>`;
  else duty = html`<p data-testid="duty">${t("nobody_on_duty")}</p><button data-testid="take-duty" onClick=${() => act(session, "take_booth_duty")}>${t("take_duty")}</button>`;

  let handoverBox = null;
  if (booth.on_duty) {
    if (booth.handover_requested_by === me.participant) handoverBox = html`<p class="muted">${t("handover_waiting")}</p>`;
    else if (booth.handover_requested_by) {
      handoverBox = html`<p class="alert">${t("handover_asked_by", { name: participantName(state, booth.handover_requested_by) })}</p>
        <button class="go" data-testid="accept-handover" aria-keyshortcuts="H" onClick=${handover}>${t("accept_handover")} <kbd>H</kbd></button>`;
    } else handoverBox = html`<button class="secondary" data-testid="request-handover" aria-keyshortcuts="H" onClick=${handover}>${t("request_handover")} <kbd>H</kbd></button>`;
  }

  return html`<div class="grid booth-grid">
    <div class="col-main">
      <section class="card booth-panel" aria-labelledby="booth-h">
        <h2 id="booth-h">${t("booth_of", { language: languageName(language) })}</h2>
        ${alarms.length || relayWarning ? html`<div class="alarms" role="alert" data-testid="booth-alarms">
          ${alarms.map((a) => html`<p class="alarm">⚠ ${a}</p>`)}
          ${relayWarning && !relayWarning.own ? html`<p class="alarm">⚠ ${warningText(relayWarning)}</p>` : null}
        </div>` : null}
        ${duty}
        <${BoothAudio} session=${session} source=${booth.source} />
        <p class="muted small">${t("partners")}: ${partners.map((p) => p.name).join(", ") || "—"}</p>
        ${handoverBox}
        <button class=${live ? "big mic danger" : "mic secondary"} data-testid="mic" data-live=${live} aria-pressed=${live} aria-keyshortcuts="M"
          disabled=${!onDuty} aria-describedby=${onDuty ? undefined : "mic-why"} onClick=${toggleMic}>
          ${live ? t("mic_live_press_to_mute") : t("mic_muted_press_to_open")} <kbd>M</kbd></button>
        ${onDuty ? null : html`<p class="muted small" id="mic-why" data-testid="mic-off-duty">${booth.on_duty ? t("mic_partner_holds") : t("mic_take_duty_first")}</p>`}
        ${finishing ? html`<button class="big" data-testid="booth-finished" aria-keyshortcuts="F" onClick=${finished}>${t("booth_finished")} <kbd>F</kbd></button>
          <p class="muted small">${t("booth_finished_explainer")}</p>` : null}
        <label class="source">${t("source")}
          <select data-testid="booth-source" value=${booth.source} onChange=${(e) => act(session, "set_booth_source", { source: e.currentTarget.value })}>
            ${Object.keys(views.routes).filter((c) => c !== language).map((c) => html`<option value=${c}>${c === "floor" ? t("source_floor") : t("source_relay", { booth: languageName(c) })}</option>`)}
          </select></label>
      </section>
    </div>
    <div class="col-side">
      <section class="card" aria-labelledby="bfloor-h">
        <h2 id="bfloor-h">${t("the_floor")}</h2>
        ${state.speech ? html`<p class="speaker-name">${participantName(state, state.speech.participant)}
            <span class="muted"> · <bdi>${delegationName(state, state.speech.delegation)}</bdi></span></p>
          <p>${t("floor_language")}: <strong data-testid="floor-language">${languageName(state.speech.language)}</strong> · ${clock(now - state.speech.started_at)}</p>
          ${passthrough ? html`<p class="info" data-testid="passthrough">${t("passthrough_note")}</p>` : null}
          <button class="secondary" data-testid="speak-slowly" aria-keyshortcuts="S" onClick=${slowly}>${t("signal_speak_slowly")} <kbd>S</kbd></button>
          ${state.speak_slowly ? html`<p class="muted small">${t("speak_slowly_sent", { booth: languageName(state.speak_slowly.booth), time: timeIn(state.speak_slowly.at, state.tz) })}</p>` : null}`
        : html`<p class="muted">${t("nobody_speaking")}</p>`}
      </section>
      <section class="card" aria-labelledby="ball-h"><h2 id="ball-h">${t("booths")}</h2><${BoothTable} state=${state} views=${views} highlight=${language} /></section>
    </div>
  </div>`;
}
