// The frame around every view: who you are, the clock, the connection state,
// the language; the tabs of your role; the live region and the notices.
import { useEffect, useState } from "preact/hooks";
import { html } from "./html.js";
import { t } from "../i18n/index.js";
import { useNow } from "./hooks.js";
import { className, delegationName, isolated, languageName, roleName } from "./names.js";
import { ConnectionBadge, StaleBanner } from "./parts/connection_badge.js";
import { LanguagePicker } from "./parts/language_picker.js";
import { SittingClock } from "./parts/sitting_clock.js";
import { LiveRegion } from "./parts/live_region.js";
import { Notices } from "./parts/notices.js";
import { notify } from "./feedback.js";
import { HelpForm } from "./parts/help_form.js";
import { PendingAction } from "./parts/pending_action.js";
import { DelegateView } from "./views/delegate.js";
import { ChairView } from "./views/chair.js";
import { BoothView } from "./views/booth.js";
import { TechnicalView } from "./views/technical.js";
import { SecretariatView } from "./views/secretariat.js";
import { ConnectionTestView } from "./views/connection_test.js";
import { GroupingView, SecretariatGrouping, unansweredCount } from "./views/grouping.js";
import { ContributionsView } from "./views/contributions.js";
import { PlanView } from "./views/plan.js";
import { CaptionerView } from "./views/captioner.js";

const MAIN_VIEW = {
  delegate: ["floor", DelegateView],
  chair: ["console", ChairView],
  interpreter: ["booth", BoothView],
  technical: ["dashboard", TechnicalView],
  secretariat: ["secretariat", SecretariatView],
  captioner: ["captions", CaptionerView],
};

const TEST = { id: "connection_test", View: ConnectionTestView };
const HELP = { id: "help", View: HelpForm };
const GROUPING = { id: "grouping", View: GroupingView, badge: unansweredCount };
const CONTRIBUTIONS = { id: "contributions", View: ContributionsView };
const PLAN = { id: "plan", View: PlanView };

/** Each role's tabs, its main view first. Before the sitting: the agenda consultation, contributions, the plan. */
function tabsFor(role) {
  const [name, View] = MAIN_VIEW[role] ?? MAIN_VIEW.delegate;
  const main = { id: name, View };
  switch (role) {
    case "secretariat":
      return [main, { id: "grouping", View: SecretariatGrouping }, CONTRIBUTIONS, PLAN, TEST];
    case "technical":
      return [main, PLAN, TEST];
    case "interpreter":
    case "captioner":
      return [main, PLAN, TEST, HELP];
    case "chair":
      return [main, GROUPING, CONTRIBUTIONS, PLAN, TEST, HELP];
    default:
      return [main, GROUPING, CONTRIBUTIONS, PLAN, TEST, HELP];
  }
}

function WhoAmI({ session }) {
  const { state } = session;
  const me = session.me;
  if (me.isAdmin) return html`<span class="who">${t("role_admin")}</span>`;
  const record = me.record;
  if (!record) return html`<span class="who">${roleName(me.role)}</span>`;
  let detail = roleName(record.role);
  if (record.delegation) detail = `${isolated(delegationName(state, record.delegation))} · ${className(state.delegations[record.delegation].cls)}`;
  if (record.booth) detail = t("booth_of", { language: languageName(record.booth) });
  return html`<span class="who" data-testid="whoami"><bdi><strong>${record.name}</strong></bdi> <span class="muted">${detail}</span></span>`;
}

function tabBadge(tab, session) {
  const n = tab.badge ? tab.badge(session.state, session.views, session.me) : 0;
  return n ? html` <span class="count hot" aria-hidden="true">${n}</span><span class="sr-only">${t("to_answer", { n })}</span>` : null;
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
      <${SittingClock} state=${state} views=${session.views} now=${now} />
      <${ConnectionBadge} session=${session} />
    <//>
    <${StaleBanner} session=${session} />
    <${PendingAction} session=${session} />
    ${state.rules_slot
      ? html`<p class="note" data-testid="slot-note">${t("shifted_slot_note", { slot: `${state.slot_start}-${state.slot_end}`, zone: state.tz, rules: state.rules_slot })}</p>`
      : state.note ? html`<p class="note" dir="auto">${state.note}</p>` : null}
    <nav class="tabs" role="tablist" aria-label=${t("views")}>
      ${tabs.map((x, i) => html`<button role="tab" id=${`tab-${x.id}`} aria-selected=${x.id === active.id} aria-controls="main"
        tabindex=${x.id === active.id ? 0 : -1} data-testid=${`tab-${x.id}`} onClick=${() => setTab(x.id)} onKeyDown=${(e) => onTabKey(e, i)}>${t(`tab_${x.id}`)}${tabBadge(x, session)}</button>`)}
    </nav>
    <main id="main" role="tabpanel" aria-labelledby=${`tab-${active.id}`} aria-busy=${session.stale} tabindex="-1">
      <${active.View} session=${session} />
    </main>
    <footer class="footer">
      ${session.me.role === "delegate" ? html`<a href=${`/drill#t=${encodeURIComponent(session.token)}`} target="_blank" rel="noopener" data-testid="open-drill">${t("open_floor_drill")}</a>` : null}
      <span class="muted small">${t("shortcuts_hint")}</span>
    </footer>
    <${LiveRegion} />
    <${Notices} />
  </div>`;
}
