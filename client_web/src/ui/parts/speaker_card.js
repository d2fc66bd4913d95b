// Who has the floor, for how long against their limit; a grant not yet taken
// up; the interpretation tail holding the next speaker.
import { html } from "../html.js";
import { t } from "../../i18n/index.js";
import { clock, seconds } from "../format.js";
import { delegationName, isolated, languageName, participantName } from "../names.js";

export function SpeechTimer({ speech, now, large = false }) {
  const elapsed = now - speech.started_at;
  const over = elapsed > speech.limit_ms;
  // The browser's estimate of the server's clock can be a few ms behind the speech's start.
  const share = Math.max(0, Math.min(1, elapsed / speech.limit_ms));
  return html`<div class=${`timer ${over ? "over" : ""} ${large ? "large" : ""}`} data-testid="speech-timer">
    <span class="elapsed">${clock(elapsed)}</span><span class="limit"> / ${clock(speech.limit_ms)}</span>
    <div class="bar" role="progressbar" aria-valuemin="0" aria-valuemax=${Math.round(speech.limit_ms / 1000)}
      aria-valuenow=${Math.round(elapsed / 1000)} aria-label=${t("speaking_time")}><span style=${`width:${share * 100}%`}></span></div>
    ${over ? html`<span class="over-note">${t("over_limit")}</span>` : null}
  </div>`;
}

export function SpeakerCard({ state, views, now, large = false }) {
  const { speech, grant, tail } = state;
  let body;
  if (speech) {
    body = html`<p class="speaker-name" data-testid="speaker"><bdi>${participantName(state, speech.participant)}</bdi>
        <span class="muted"> · <bdi>${delegationName(state, speech.delegation)}</bdi> · ${languageName(speech.language)}</span></p>
      <${SpeechTimer} speech=${speech} now=${now} large=${large} />
      <p class="muted small">${t("time_to_floor_was", { time: seconds(speech.time_to_floor_ms) })}</p>`;
  } else if (grant) {
    body = html`<p class="speaker-name" data-testid="granted">${t("granted_waiting", { delegation: isolated(delegationName(state, grant.delegation)) })}</p>
      <p class="muted">${t("granted_since", { time: seconds(now - grant.granted_at, 0) })}</p>`;
  } else {
    body = html`<p class="muted" data-testid="nobody-speaking">${t("nobody_speaking")}</p>`;
  }
  return html`<section class=${`card speaker-card ${large ? "large" : ""}`} aria-labelledby="speaker-h">
    <h2 id="speaker-h">${t("the_floor")}</h2>
    ${body}
    ${views.clock.tail_holds ? html`<${TailNote} state=${state} now=${now} />` : null}
  </section>`;
}

export function TailNote({ state, now }) {
  const { tail } = state;
  return html`<p class="tail-note" data-testid="tail">${t("tail_note", {
    booths: tail.booths.map(languageName).join(", "), time: seconds(Math.max(0, tail.until - now), 0),
  })}</p>`;
}
