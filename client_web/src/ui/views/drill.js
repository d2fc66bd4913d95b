// The floor drill page: practise request -> granted -> go live -> yield until
// going live takes under 3 s (the rehearsal's delegates needed about 20 s).
// It runs against a practice consultation on the server (server/vcc/practice.py),
// started with the participant's join token: the same rules, socket, acks and
// fold as the meeting, and nothing of it reaches the meeting.
import { useEffect, useState } from "preact/hooks";
import { html } from "../html.js";
import { t } from "../../i18n/index.js";
import { useNow, useSession } from "../hooks.js";
import { seconds } from "../format.js";
import { Session } from "../../net/session.js";
import { startPractice } from "../../net/api.js";
import { FloorPanel } from "./delegate.js";
import { SpeakerCard } from "../parts/speaker_card.js";
import { QueueList } from "../parts/queue_list.js";
import { ConnectionBadge } from "../parts/connection_badge.js";

/** The participant's times to floor, as the server measured them (grant -> live), oldest first. */
function attemptsOf(state, participant) {
  const done = state.speeches.filter((s) => s.participant === participant).map((s) => s.time_to_floor_ms);
  return state.speech?.participant === participant ? [...done, state.speech.time_to_floor_ms] : done;
}

function Ended({ refusal, onRestart }) {
  return html`<section class="card refused" role="alert" data-testid="drill-refused" data-code=${refusal.code}>
    <p class="refusal-message">${refusal.message}</p>
    <button onClick=${onRestart}>${t("drill_restart")}</button>
  </section>`;
}

function Intro({ goal }) {
  return html`<section class="card drill-intro" aria-labelledby="drill-h">
    <h2 id="drill-h">${t("drill_title")}</h2>
    <p>${t("drill_intro")}</p>
    <ol class="drill-steps">
      <li>${t("drill_step_request")} <kbd>R</kbd></li>
      <li>${t("drill_step_wait")}</li>
      <li>${t("drill_step_live")} <kbd>L</kbd></li>
      <li>${t("drill_step_yield")} <kbd>Y</kbd></li>
    </ol>
    <p class="goal"><strong>${t("drill_goal", { s: goal / 1000 })}</strong></p>
  </section>`;
}

function Practice({ session, onRestart }) {
  useSession(session);
  const now = useNow(session, 500);
  if (session.status === "refused") return html`<${Ended} refusal=${session.refusal} onRestart=${onRestart} />`;
  if (session.state === null || session.welcome === null) return html`<p class="card" role="status">${t("drill_starting")}</p>`;
  const attempts = attemptsOf(session.state, session.me.participant);
  const { views } = session;
  const goal = views.time_to_floor.goal_ms;
  const best = attempts.length ? Math.min(...attempts) : null;
  return html`<div class="grid drill-grid">
    <div class="col-main">
      <${Intro} goal=${goal} />
      <${FloorPanel} session=${session} />
      <section class="card" aria-labelledby="attempts-h" data-testid="drill-results">
        <h2 id="attempts-h">${t("drill_your_times")}</h2>
        ${attempts.length ? html`<ul class="attempts">${attempts.map((ms, i) => html`<li key=${i} class=${ms < goal ? "ok" : "bad"} data-testid="drill-attempt" data-ms=${ms}>
            ${t("drill_attempt", { n: i + 1, time: seconds(ms) })} ${ms < goal ? `✓ ${t("drill_goal_met")}` : `✗ ${t("drill_goal_missed")}`}</li>`)}</ul>
          <p>${t("drill_best", { time: seconds(best) })}</p>`
        : html`<p class="muted">${t("drill_no_attempt")}</p>`}
        <button class="secondary" data-testid="drill-restart" onClick=${onRestart}>${t("drill_restart")}</button>
      </section>
    </div>
    <div class="col-side">
      <${ConnectionBadge} session=${session} />
      <${SpeakerCard} state=${session.state} views=${views} now=${now} />
      <${QueueList} state=${session.state} views=${views} mine=${session.me.delegation} />
    </div>
  </div>`;
}

/** `token`: the participant's join token; each start (and restart) asks the server for a new practice consultation. */
export function DrillView({ token }) {
  const [run, setRun] = useState(0);
  const [started, setStarted] = useState(null);
  useEffect(() => {
    let session = null;
    let cancelled = false;
    setStarted(null);
    startPractice(token).then((answer) => {
      if (cancelled) return;
      if (!answer.ok) {
        setStarted({ refusal: answer.data.error });
        return;
      }
      session = new Session(answer.data.token, { attend: false }).start();
      setStarted({ session });
    });
    return () => {
      cancelled = true;
      session?.stop();
    };
  }, [token, run]);
  const restart = () => setRun((n) => n + 1);
  if (started === null) return html`<p class="card" role="status">${t("drill_starting")}</p>`;
  if (started.refusal) return html`<${Ended} refusal=${started.refusal} onRestart=${restart} />`;
  return html`<${Practice} key=${run} session=${started.session} onRestart=${restart} />`;
}
