// The secretariat's view: import the agenda and the roster, plan the agenda,
// issue the join links, edit proposed conclusions, download the report.
import { useState } from "preact/hooks";
import { html } from "../html.js";
import { t } from "../../i18n/index.js";
import { act, notify } from "../feedback.js";
import { dayLabel } from "../format.js";
import { className } from "../names.js";
import { AdminApi } from "../../net/admin_api.js";
import { OutcomeCard } from "./chair.js";

const TOKEN_KEY = "vcc.admin-token";

function storedToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? "";
  } catch {
    return "";
  }
}

function AdminToken({ session, token, setToken }) {
  if (session.me.isAdmin) return html`<p class="muted small">${t("admin_link_in_use")}</p>`;
  return html`<div class="info">
    <p>${t("admin_token_needed")}</p>
    <label>${t("admin_token")} <input type="password" data-testid="admin-token" value=${token} autocomplete="off"
      onInput=${(e) => { setToken(e.currentTarget.value.trim()); try { sessionStorage.setItem(TOKEN_KEY, e.currentTarget.value.trim()); } catch { /* kept for this page only */ } }} /></label>
  </div>`;
}

function Uploads({ api }) {
  const [busy, setBusy] = useState(null);
  const upload = async (kind, input) => {
    const file = input.files?.[0];
    if (!file) return;
    setBusy(kind);
    const { ok, data } = await api.upload(kind, file);
    setBusy(null);
    input.value = "";
    if (ok) notify(t("imported_n", { n: data.imported, file: file.name }), "info");
    else notify(`${file.name}: ${data.error?.message ?? data.error?.code}`);
  };
  return html`<div class="stack">
    <label class="file">${t("import_agenda")} <span class="muted small">(JSON, CSV)</span>
      <input type="file" accept=".json,.csv,application/json,text/csv" data-testid="upload-agenda" disabled=${busy !== null}
        onChange=${(e) => upload("agenda", e.currentTarget)} /></label>
    <label class="file">${t("import_roster")} <span class="muted small">(CSV)</span>
      <input type="file" accept=".csv,text/csv" data-testid="upload-roster" disabled=${busy !== null}
        onChange=${(e) => upload("roster", e.currentTarget)} /></label>
    ${busy ? html`<p class="muted" role="status">${t("importing")}</p>` : null}
  </div>`;
}

function Plan({ session }) {
  const { state } = session;
  const days = state.days;
  return html`<section class="card" aria-labelledby="plan-h">
    <h2 id="plan-h">${t("time_management_plan")}</h2>
    <button class="secondary" data-testid="plan-agenda" onClick=${() => act(session, "plan_agenda")}>${t("plan_agenda")}</button>
    ${state.plan.length ? html`<ol class="plan">${days.map((day, index) => {
      const on = state.plan.filter((a) => a.day === index);
      return on.length ? html`<li key=${day}><strong>${dayLabel(day)}</strong>: ${on.map((a) => `${a.item} (${a.minutes}′)`).join(", ")}</li>` : null;
    })}</ol>` : html`<p class="muted">${t("no_plan")}</p>`}
    ${state.plan_unplaced.length ? html`<p class="warning">${t("unplaced", { items: state.plan_unplaced.join(", "), minutes: state.plan_overflow_minutes })}</p>` : null}
  </section>`;
}

function Roster({ state }) {
  const counts = {};
  for (const d of Object.values(state.delegations)) counts[d.cls] = (counts[d.cls] ?? 0) + 1;
  return html`<p data-testid="roster-summary">${t("roster_summary", { delegations: Object.keys(state.delegations).length, participants: Object.keys(state.participants).length, items: state.agenda.length })}</p>
    <p class="small">${Object.entries(counts).map(([cls, n]) => html`<span class="tag">${className(cls)}: ${n}</span> `)}</p>`;
}

export function SecretariatView({ session }) {
  const { state } = session;
  const [token, setToken] = useState(() => (session.me.isAdmin ? session.token : storedToken()));
  const consultation = session.welcome.consultation;
  const api = new AdminApi(consultation, session.me.isAdmin ? session.token : token);
  const download = async (path, filename) => {
    const { ok, data } = await api.download(path, filename);
    if (!ok) notify(data.error?.message ?? t("download_failed"));
  };
  return html`<div class="grid secretariat-grid">
    <div class="col-main">
      <section class="card" aria-labelledby="sec-h">
        <h2 id="sec-h">${t("secretariat")}: ${state.code || consultation}</h2>
        <${Roster} state=${state} />
        <${AdminToken} session=${session} token=${token} setToken=${setToken} />
        <${Uploads} api=${api} />
        <div class="row">
          <button class="secondary" data-testid="download-links" onClick=${() => download("links?format=csv", `${consultation}-links.csv`)}>${t("download_links")}</button>
          <button class="secondary" data-testid="download-report" onClick=${() => download("reports/conclusions?format=html", `${consultation}-conclusions.html`)}>${t("download_report")}</button>
        </div>
      </section>
      <${Plan} session=${session} />
    </div>
    <div class="col-side">
      <${OutcomeCard} session=${session} chair=${false} />
    </div>
  </div>`;
}
