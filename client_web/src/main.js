// The browser client: one page for every role. The path chooses the page
// (/join, /screen, /drill, /webcast/<consultation>); the join token in the fragment (#t=...) says who
// you are, and the server's welcome gives your role, hence your view.
import { render } from "preact";
import { useEffect, useMemo } from "preact/hooks";
import { html } from "./ui/html.js";
import { applyToDocument, t } from "./i18n/index.js";
import { useLanguage, useSession } from "./ui/hooks.js";
import { Session } from "./net/session.js";
import { Shell, TopBar } from "./ui/shell.js";
import { ScreenView } from "./ui/views/screen.js";
import { DrillView } from "./ui/views/drill.js";
import { WebcastPage } from "./ui/views/webcast.js";
import { ConnectionBadge, StaleBanner } from "./ui/parts/connection_badge.js";
import { LiveRegion } from "./ui/parts/live_region.js";
import { Notices } from "./ui/parts/notices.js";

function tokenFromFragment() {
  return new URLSearchParams(window.location.hash.slice(1)).get("t");
}

function Refused({ refusal }) {
  return html`<div class="app"><${TopBar}><div class="brand">${t("app_name")}</div><//>
    <main id="main" class="narrow"><section class="card refused" role="alert" data-testid="refused" data-code=${refusal.code}>
      <h1>${t("refused_title")}</h1>
      <p class="refusal-message">${refusal.message}</p>
      <p class="muted">${t("refused_hint")}</p>
    </section></main></div>`;
}

function Landing() {
  return html`<div class="app"><${TopBar}><div class="brand">${t("app_name")}</div><//>
    <main id="main" class="narrow"><section class="card" data-testid="landing">
      <h1>${t("app_name")}</h1>
      <p>${t("landing_intro")}</p>
    </section></main></div>`;
}

function Live({ token, page }) {
  const session = useMemo(() => new Session(token, { attend: page !== "screen" }).start(), [token, page]);
  // A participant's link opened as the public screen must not count as that participant's connection.
  useEffect(() => {
    if (page === "screen" && session.welcome && session.welcome.role !== "screen") session.stop();
  }, [session, page, session.welcome]);
  useSession(session);
  useEffect(() => () => session.stop(), [session]);
  if (session.status === "refused") return html`<${Refused} refusal=${session.refusal} />`;
  if (session.state === null || session.welcome === null) {
    return html`<div class="app"><${TopBar}><div class="brand">${t("app_name")}</div><${ConnectionBadge} session=${session} /><//>
      <main id="main" class="narrow"><p class="card" role="status">${t("joining")}</p></main></div>`;
  }
  if (page === "screen" && session.welcome.role !== "screen") {
    return html`<div class="app"><${TopBar}><div class="brand">${t("app_name")}</div><//>
      <main id="main" class="narrow"><section class="card refused" role="alert" data-testid="screen-needs-own-link">
        <p class="refusal-message">${t("screen_needs_own_link")}</p></section></main></div>`;
  }
  if (page === "screen") {
    return html`<div class=${`app screen-app ${session.stale ? "is-stale" : ""}`}>
      <${StaleBanner} session=${session} /><div class="screen-conn"><${ConnectionBadge} session=${session} /></div>
      <${ScreenView} session=${session} /></div>`;
  }
  return html`<${Shell} session=${session} />`;
}

function App() {
  useLanguage();
  const webcast = window.location.pathname.match(/^\/webcast\/([^/]+)\/?$/);
  if (webcast) {
    return html`<div class="app screen-app"><${WebcastPage} consultation=${decodeURIComponent(webcast[1])} /></div>`;
  }
  const page = window.location.pathname.replace(/\/+$/, "").split("/").pop() || "join";
  const token = tokenFromFragment();
  if (!token) return html`<${Landing} />`;
  if (page === "drill") {
    return html`<div class="app"><${TopBar}><div class="brand">${t("app_name")}</div><span class="badge practice">${t("practice_room")}</span><//>
      <main id="main"><${DrillView} token=${token} /></main><${LiveRegion} /><${Notices} /></div>`;
  }
  return html`<${Live} token=${token} page=${page} />`;
}

applyToDocument();
window.addEventListener("hashchange", () => window.location.reload());
render(html`<${App} />`, document.getElementById("app"));
