// The floor drill page: practise request -> granted -> go live -> yield until
// going live takes under 3 s (the rehearsal's delegates needed about 20 s).
import { useEffect, useMemo, useReducer } from "preact/hooks";
import { html } from "../html.js";
import { currentLanguage, t } from "../../i18n/index.js";
import { useNow } from "../hooks.js";
import { seconds } from "../format.js";
import { DrillSession } from "../../practice/drill_session.js";
import { FloorPanel } from "./delegate.js";
import { SpeakerCard } from "../parts/speaker_card.js";
import { QueueList } from "../parts/queue_list.js";

function drillNames() {
  return {
    code: t("drill_code"), title: t("drill_title"), mine: t("drill_your_delegation"), other: t("drill_other_delegation"),
    you: t("you"), otherSpeaker: t("drill_other_speaker"), item: t("drill_item"),
    already: t("error_already_requested"), notRequested: t("error_not_requested"), notGranted: t("error_not_granted"),
    notSpeaking: t("error_no_speech"), notHere: t("drill_not_here"),
  };
}

export function DrillView() {
  const session = useMemo(() => new DrillSession({ names: drillNames, language: currentLanguage() }), []);
  const [, force] = useReducer((n) => n + 1, 0);
  useEffect(() => {
    const unsubscribe = session.subscribe(force);
    return () => {
      unsubscribe();
      session.stop();
    };
  }, [session]);
  const now = useNow(session, 500);
  const attempts = session.attempts;
  const { views } = session;
  const goal = views.time_to_floor.goal_ms;
  const best = attempts.length ? Math.min(...attempts) : null;
  return html`<div class="grid drill-grid">
    <div class="col-main">
      <section class="card drill-intro" aria-labelledby="drill-h">
        <h2 id="drill-h">${t("drill_title")}</h2>
        <p>${t("drill_intro")}</p>
        <ol class="drill-steps">
          <li>${t("drill_step_request")} <kbd>R</kbd></li>
          <li>${t("drill_step_wait")}</li>
          <li>${t("drill_step_live")} <kbd>L</kbd></li>
          <li>${t("drill_step_yield")} <kbd>Y</kbd></li>
        </ol>
        <p class="goal"><strong>${t("drill_goal", { s: goal / 1000 })}</strong></p>
      </section>
      <${FloorPanel} session=${session} />
      <section class="card" aria-labelledby="attempts-h" data-testid="drill-results">
        <h2 id="attempts-h">${t("drill_your_times")}</h2>
        ${attempts.length ? html`<ul class="attempts">${attempts.map((ms, i) => html`<li key=${i} class=${ms < goal ? "ok" : "bad"} data-testid="drill-attempt" data-ms=${ms}>
            ${t("drill_attempt", { n: i + 1, time: seconds(ms) })} ${ms < goal ? `✓ ${t("drill_goal_met")}` : `✗ ${t("drill_goal_missed")}`}</li>`)}</ul>
          <p>${t("drill_best", { time: seconds(best) })}</p>`
        : html`<p class="muted">${t("drill_no_attempt")}</p>`}
        <button class="secondary" onClick=${() => session.reset()}>${t("drill_restart")}</button>
      </section>
    </div>
    <div class="col-side">
      <${SpeakerCard} state=${session.state} views=${views} now=${now} />
      <${QueueList} state=${session.state} views=${views} mine=${session.me.delegation} />
    </div>
  </div>`;
}
