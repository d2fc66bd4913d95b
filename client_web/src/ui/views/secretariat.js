// The secretariat's view: import the agenda and the roster, issue the join
// links, download the reports, edit proposed conclusions. The agenda
// consultation, the contributions and the time management plan have their own
// tabs. The secretariat's own join token (or the admin link's) carries the
// secretariat's rights on the HTTP API.
import { useState } from "preact/hooks";
import { html } from "../html.js";
import { t } from "../../i18n/index.js";
import { notify } from "../feedback.js";
import { useServerData } from "../hooks.js";
import { className } from "../names.js";
import { OutcomeCard } from "./chair.js";
import { SecretariatBallots } from "../parts/ballots.js";

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

function Roster({ state }) {
  const counts = {};
  for (const d of Object.values(state.delegations)) counts[d.cls] = (counts[d.cls] ?? 0) + 1;
  return html`<p data-testid="roster-summary">${t("roster_summary", { delegations: Object.keys(state.delegations).length, participants: Object.keys(state.participants).length, items: state.agenda.length })}</p>
    <p class="small">${Object.entries(counts).map(([cls, n]) => html`<span class="tag">${className(cls)}: ${n}</span> `)}</p>`;
}

const REPORTS = ["conclusions", "technical"];
const FORMATS = ["html", "docx", "md"];

/** The public screen's own link (a projector, the webcast): it is nobody's connection and sends nothing. */
function ScreenLink({ session }) {
  const { data } = useServerData(session, "links", () => false);
  const screen = data?.links?.find((link) => link.role === "screen");
  if (!screen) return null;
  return html`<a class="button secondary" href=${screen.url} target="_blank" rel="noopener" data-testid="screen-link">${t("open_public_screen")}</a>`;
}

function Downloads({ session, api, consultation }) {
  const download = async (path, filename) => {
    const { ok, data } = await api.download(path, filename);
    if (!ok) notify(data.error?.message ?? t("download_failed"));
  };
  return html`<div class="stack downloads">
    <div class="row">
      <button class="secondary" data-testid="download-links" onClick=${() => download("links?format=csv", `${consultation}-links.csv`)}>${t("download_links")}</button>
      <${ScreenLink} session=${session} />
    </div>
    <div class="report-row">
      <span class="report-name">${t("time_management_plan")}</span>
      <span class="row-actions">
        <a class="button secondary small" href=${api.url("plan?format=html")} target="_blank" rel="noopener" data-testid="secretariat-plan-html">HTML</a>
        <a class="button secondary small" href=${api.url("plan?format=csv")} download=${`${consultation}-plan.csv`}>CSV</a>
        <a class="button secondary small" href=${api.url("plan?format=ics")} download=${`${consultation}-plan.ics`}>iCalendar</a>
      </span>
    </div>
    ${REPORTS.map((report) => html`<div class="report-row" key=${report}>
      <span class="report-name">${t(`report_${report}`)}</span>
      <span class="row-actions">${FORMATS.map((format) => html`<button class="small secondary" key=${format} data-testid=${`download-${report}-${format}`}
        onClick=${() => download(`reports/${report}?format=${format}`, `${consultation}-${report}.${format}`)}>${t(`format_${format}`)}</button>`)}</span>
    </div>`)}
  </div>`;
}

export function SecretariatView({ session }) {
  const { state } = session;
  const consultation = session.welcome.consultation;
  const api = session.api;
  return html`<div class="grid secretariat-grid">
    <div class="col-main">
      <section class="card" aria-labelledby="sec-h">
        <h2 id="sec-h">${t("secretariat")}: ${state.code || consultation}</h2>
        <${Roster} state=${state} />
        <${Uploads} api=${api} />
      </section>
      <section class="card" aria-labelledby="dl-h">
        <h2 id="dl-h">${t("links_and_reports")}</h2>
        <p class="muted small">${t("reports_explainer")}</p>
        <${Downloads} session=${session} api=${api} consultation=${consultation} />
      </section>
    </div>
    <div class="col-side">
      <${OutcomeCard} session=${session} chair=${false} />
      <${SecretariatBallots} session=${session} />
    </div>
  </div>`;
}
