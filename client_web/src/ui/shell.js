// The frame around every view: who you are, the clock, the connection state,
// the language; the tabs of your role; the live region and the notices.
import { useEffect, useState } from "preact/hooks";
import { html } from "./html.js";
import { t } from "../i18n/index.js";
import { useNow } from "./hooks.js";
import { className, delegationName, languageName, roleName } from "./names.js";
import { ConnectionBadge, StaleBanner } from "./parts/connection_badge.js";
import { LanguagePicker } from "./parts/language_picker.js";
import { SittingClock } from "./parts/sitting_clock.js";
import { LiveRegion } from "./parts/live_region.js";
import { Notices } from "./parts/notices.js";
import { notify } from "./feedback.js";
import { HelpForm } from "./parts/help_form.js";
import { DelegateView } from "./views/delegate.js";
import { ChairView } from "./views/chair.js";
import { BoothView } from "./views/booth.js";
import { TechnicalView } from "./views/technical.js";
import { SecretariatView } from "./views/secretariat.js";
import { ConnectionTestView } from "./views/connection_test.js";

const MAIN_VIEW = {
  delegate: ["floor", DelegateView],
  chair: ["console", ChairView],
  interpreter: ["booth", BoothView],
  technical: ["dashboard", TechnicalView],
  secretariat: ["secretariat", SecretariatView],
};

function tabsFor(role) {
  const [name, View] = MAIN_VIEW[role] ?? MAIN_VIEW.delegate;
  const tabs = [{ id: name, View }, { id: "connection_test", View: ConnectionTestView }];
  if (role !== "technical" && role !== "secretariat") tabs.push({ id: "help", View: HelpForm });
  return tabs;
}

function WhoAmI({ session }) {
  const { state } = session;
  const me = session.me;
  if (me.isAdmin) return html`<span class="who">${t("role_admin")}</span>`;
  const record = me.record;
  if (!record) return html`<span class="who">${roleName(me.role)}</span>`;
  let detail = roleName(record.role);
  if (record.delegation) detail = `${delegationName(state, record.delegation)} · ${className(state.delegations[record.delegation].cls)}`;
  if (record.booth) detail = t("booth_of", { language: languageName(record.booth) });
  return html`<span class="who" data-testid="whoami"><strong>${record.name}</strong> <span class="muted">${detail}</span></span>`;
}

export function TopBar({ children }) {
  return html`<header class="topbar">
    <a class="skip" href="#main">${t("skip_to_content")}</a>
    ${children}
    <${LanguagePicker} />
  </header>`;
}

export function Shell({ session }) {
  const { state } = session;
  const now = useNow(session, 1000);
  const tabs = tabsFor(session.me.role);
  const [tab, setTab] = useState(tabs[0].id);
  useEffect(() => session.onNotice((n) => notify(t("notice_from", { name: n.name ?? t("role_technical"), text: n.text }), "message")), [session]);
  const active = tabs.find((x) => x.id === tab) ?? tabs[0];
  const screenLink = `/screen#t=${encodeURIComponent(session.token)}`;
  const onTabKey = (event, index) => {
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (!step) return;
    const rtl = document.documentElement.dir === "rtl";
    const next = tabs[(index + (rtl ? -step : step) + tabs.length) % tabs.length];
    setTab(next.id);
    document.getElementById(`tab-${next.id}`)?.focus();
  };
  return html`<div class=${`app role-${session.me.role} ${session.stale ? "is-stale" : ""}`}>
    <${TopBar}>
      <div class="brand"><span class="code">${state.code}</span> <span class="title">${state.title}</span></div>
      <${WhoAmI} session=${session} />
      <${SittingClock} state=${state} now=${now} />
      <${ConnectionBadge} session=${session} />
    <//>
    <${StaleBanner} session=${session} />
    ${state.note ? html`<p class="note">${state.note}</p>` : null}
    <nav class="tabs" role="tablist" aria-label=${t("views")}>
      ${tabs.map((x, i) => html`<button role="tab" id=${`tab-${x.id}`} aria-selected=${x.id === active.id} aria-controls="main"
        tabindex=${x.id === active.id ? 0 : -1} data-testid=${`tab-${x.id}`} onClick=${() => setTab(x.id)} onKeyDown=${(e) => onTabKey(e, i)}>${t(`tab_${x.id}`)}</button>`)}
    </nav>
    <main id="main" role="tabpanel" aria-labelledby=${`tab-${active.id}`} aria-busy=${session.stale} tabindex="-1">
      <${active.View} session=${session} />
    </main>
    <footer class="footer">
      <a href=${screenLink} target="_blank" rel="noopener">${t("open_public_screen")}</a>
      ${session.me.role === "delegate" ? html`<a href="/drill" target="_blank" rel="noopener">${t("open_floor_drill")}</a>` : null}
      <span class="muted small">${t("shortcuts_hint")}</span>
    </footer>
    <${LiveRegion} />
    <${Notices} />
  </div>`;
}
