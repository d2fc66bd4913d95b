// The connection test, in plain words, with a note for the network
// administrator when websockets are blocked (a rehearsal delegate never
// managed to speak because of a firewall).
import { useState } from "preact/hooks";
import { html } from "../html.js";
import { t } from "../../i18n/index.js";
import { number } from "../format.js";
import { runConnectionTest } from "../../net/connection_test.js";

const STEPS = ["transports", "pings", "microphone", "camera", "media", "saving"];

function verdicts(r) {
  const lines = [];
  lines.push(r.websocket_ok
    ? { ok: true, text: t("ct_websocket_ok") }
    : { ok: false, text: r.polling_ok ? t("ct_websocket_blocked_polling_ok") : t("ct_nothing_reaches") });
  if (r.reached) {
    const quality = r.rtt_ms < 150 && r.jitter_ms < 30;
    lines.push({ ok: quality, text: t(quality ? "ct_link_good" : "ct_link_slow", { rtt: number(r.rtt_ms), jitter: number(r.jitter_ms, 1) }) });
    const offset = r.clock_offset_ms / 1000;
    lines.push({ ok: Math.abs(offset) < 2, text: t(Math.abs(offset) < 2 ? "ct_clock_ok" : "ct_clock_off", { s: number(Math.abs(offset), 1) }) });
  }
  lines.push({ ok: r.microphone === "ok", text: t(`ct_mic_${r.microphone}`, { level: number(r.input_level * 100) }) });
  lines.push({ ok: r.camera === "ok", text: t(`ct_camera_${r.camera}`) });
  lines.push({ ok: r.media === "ok", text: t(`ct_media_${r.media}`, { ms: number(r.media_rtt_ms ?? 0) }) });
  lines.push({ ok: true, text: t("ct_browser", { browser: r.browser }) });
  return lines;
}

function adminNote() {
  const host = window.location.host;
  return t("ct_admin_note", { host, origin: window.location.origin });
}

export function ConnectionTestView({ session }) {
  const [step, setStep] = useState(null);
  const [partial, setPartial] = useState({});
  const [result, setResult] = useState(null);
  const run = async () => {
    setResult(null);
    const r = await runConnectionTest(session, (name, data) => {
      setStep(name);
      setPartial(data);
    });
    setStep(null);
    setResult(r);
  };
  const running = step !== null;
  return html`<section class="card connection-test" aria-labelledby="ct-h" data-testid="connection-test">
    <h2 id="ct-h">${t("connection_test")}</h2>
    <p>${t("ct_intro")}</p>
    <button class="big" data-testid="run-connection-test" disabled=${running} onClick=${run}>${running ? t("ct_running") : result ? t("ct_run_again") : t("ct_run")}</button>
    ${running ? html`<ol class="steps" aria-live="polite">${STEPS.map((s) => html`<li class=${s === step ? "on" : STEPS.indexOf(s) < STEPS.indexOf(step) ? "done" : ""}>
        ${t(`ct_step_${s}`)}${s === "pings" && s === step && partial.progress ? ` ${number(partial.progress * 100)}%` : ""}
        ${s === "microphone" && s === step ? html` <meter min="0" max="0.5" value=${partial.level ?? 0}></meter>` : ""}</li>`)}</ol>` : null}
    ${result ? html`<div class="ct-result" data-testid="ct-result" data-websocket=${result.websocket_ok} data-microphone=${result.microphone}
        data-level=${result.input_level} data-rtt=${result.rtt_ms} data-media=${result.media} data-media-rtt=${result.media_rtt_ms}>
      <ul class="verdicts">${verdicts(result).map((v) => html`<li class=${v.ok ? "ok" : "bad"}>${v.ok ? "✓" : "✗"} ${v.text}</li>`)}</ul>
      <p class="muted small">${result.saved ? t("ct_saved") : t("ct_not_saved")}</p>
      ${!result.websocket_ok ? html`<div class="admin-note"><h3>${t("ct_for_admin")}</h3>
        <textarea readonly rows="5" data-testid="admin-note" onFocus=${(e) => e.currentTarget.select()}>${adminNote()}</textarea></div>` : null}
    </div>` : null}
  </section>`;
}
