// The chair's console: the floor (grant, revoke, end, the tail), the queue by
// priority with moves and their reasons, the booths, the agenda against the
// clock with the forecast of what will not fit, and the outcome of each item.
import { useLayoutEffect, useRef, useState } from "preact/hooks";
import { html } from "../html.js";
import { t } from "../../i18n/index.js";
import { useNow, useShortcuts } from "../hooks.js";
import { act } from "../feedback.js";
import { clock, currentRequests, dayLabel, expectedByItem, number, seconds } from "../format.js";
import { className, currentItem, delegationName, isolated, itemTitle, sectionStarts, statusName } from "../names.js";
import { SpeechTimer, TailNote } from "../parts/speaker_card.js";
import { QueueList } from "../parts/queue_list.js";
import { ItemCard } from "../parts/item_card.js";
import { BoothTable } from "../parts/booth_table.js";
import { MicrophoneLink } from "../parts/media_link.js";
import { BallotLine } from "../parts/ballots.js";
import { ConfirmButton } from "../parts/confirm_button.js";

function ChairFloor({ session, now }) {
  const { state, views } = session;
  const item = currentItem(state);
  const queue = currentRequests(state);
  const busy = state.grant !== null || state.speech !== null;
  const open = views.clock.sitting_open;
  const grantNext = () => act(session, "grant_floor", {});
  const revoke = () => act(session, "revoke_grant");
  const end = () => act(session, "end_speech");
  const override = () => act(session, "override_tail");
  const toggleList = () => act(session, item?.list_closed ? "reopen_speakers_list" : "close_speakers_list");
  useShortcuts({
    g: () => !busy && queue.length && grantNext(),
    v: () => state.grant && revoke(),
    e: () => state.speech && end(),
    o: () => state.tail && override(),
    c: () => item && toggleList(),
  });
  let holder = null;
  if (state.speech) {
    holder = html`<p class="speaker-name" data-testid="chair-speaker"><bdi>${delegationName(state, state.speech.delegation)}</bdi>
        <span class="muted"> · <bdi>${state.participants[state.speech.participant]?.name}</bdi></span></p>
      <${SpeechTimer} speech=${state.speech} now=${now} large=${true} />
      <p data-testid="chair-time-to-floor">${t("time_to_floor")}: <strong>${seconds(state.speech.time_to_floor_ms)}</strong></p>`;
  } else if (state.grant) {
    holder = html`<p class="speaker-name" data-testid="chair-granted">${t("granted_waiting", { delegation: isolated(delegationName(state, state.grant.delegation)) })}</p>
      <p>${t("time_to_floor")}: <strong class="ticking">${seconds(now - state.grant.granted_at, 0)}</strong></p>`;
  } else {
    holder = html`<p class="muted">${t("nobody_speaking")}</p>`;
  }
  return html`<section class="card chair-floor" aria-labelledby="cf-h" data-testid="chair-floor">
    <h2 id="cf-h">${t("the_floor")}</h2>
    ${holder}
    ${state.tail ? html`<div class="tail-box"><${TailNote} state=${state} now=${now} />
      <button class="secondary" data-testid="override-tail" aria-keyshortcuts="O" onClick=${override}>${t("override_tail")} <kbd>O</kbd></button></div>` : null}
    <div class="row buttons">
      <button class="go" data-testid="grant-next" aria-keyshortcuts="G" disabled=${busy || !queue.length || !open} onClick=${grantNext}>
        ${t("grant_next")} <kbd>G</kbd></button>
      <button class="secondary" data-testid="revoke" aria-keyshortcuts="V" disabled=${!state.grant} onClick=${revoke}>${t("revoke_grant")} <kbd>V</kbd></button>
      <button class="danger" data-testid="end-speech" aria-keyshortcuts="E" disabled=${!state.speech} onClick=${end}>${t("end_speech")} <kbd>E</kbd></button>
      <button class="secondary" data-testid="toggle-list" aria-keyshortcuts="C" disabled=${!item} onClick=${toggleList}>
        ${item?.list_closed ? t("reopen_list") : t("close_list")} <kbd>C</kbd></button>
    </div>
    ${!open ? html`<p class="warning">${t("sitting_not_open")}</p>` : null}
    <div class="row">
      ${state.sitting && open
        ? html`<${ConfirmButton} label=${t("close_sitting")} question=${t("close_sitting_confirm")} onConfirm=${() => act(session, "close_sitting")} />`
        : html`<button class="secondary" data-testid="open-sitting" onClick=${() => act(session, "open_sitting")}>${t("open_sitting")}</button>`}
    </div>
  </section>`;
}

function ChairQueue({ session, now }) {
  const { state, views } = session;
  const [moving, setMoving] = useState(null);
  const [place, setPlace] = useState(1);
  const [reason, setReason] = useState("");
  const queue = currentRequests(state);
  const busy = state.grant !== null || state.speech !== null;
  const counts = {};
  for (const r of queue) {
    const k = r.point_of_order ? "point_of_order" : state.delegations[r.delegation].cls;
    counts[k] = (counts[k] ?? 0) + 1;
  }
  const submitMove = async (event) => {
    event.preventDefault();
    const answer = await act(session, "move_floor_request", { delegation: moving, position: Number(place), reason: reason.trim() });
    if (answer.ok) {
      setMoving(null);
      setReason("");
    }
  };
  // Granting a delegation by name gives it the floor on its point of order first (core/floor.py grant_floor),
  // and a point of order is not moved: it goes first.
  const pointOfOrderFirst = (request) => !request.point_of_order && queue.some((r) => r.delegation === request.delegation && r.point_of_order);
  const actions = (request, index) => html`
    <button class="small go" disabled=${busy || pointOfOrderFirst(request)} title=${pointOfOrderFirst(request) ? t("point_of_order_first") : undefined}
      data-testid="grant-this" onClick=${() => act(session, "grant_floor", { delegation: request.delegation })}>${t("grant")}</button>
    ${request.point_of_order ? null : html`<button class="small secondary" aria-expanded=${moving === request.delegation} onClick=${() => { setMoving(moving === request.delegation ? null : request.delegation); setPlace(index + 1); }}>${t("move")}</button>`}
    ${moving === request.delegation && !request.point_of_order ? html`<form class="move-form" onSubmit=${submitMove}>
      <label>${t("to_place")} <select value=${place} onChange=${(e) => setPlace(e.currentTarget.value)}>
        ${queue.map((_, i) => html`<option value=${i + 1}>${i + 1}</option>`)}</select></label>
      <label>${t("reason")} <input required maxlength="200" value=${reason} onInput=${(e) => setReason(e.currentTarget.value)} placeholder=${t("reason_placeholder")} /></label>
      <button type="submit" class="small">${t("move_confirm")}</button>
    </form>` : null}`;
  return html`<div class="chair-queue" data-testid="chair-queue">
    <p class="class-counts" data-testid="class-counts">${["point_of_order", "council_member", "observer_state", "observer", "sector_member"]
      .filter((k) => counts[k]).map((k) => html`<span class="tag">${k === "point_of_order" ? t("points_of_order") : className(k)}: ${counts[k]}</span>`)}</p>
    <${QueueList} state=${state} views=${views} actions=${actions} title=${t("queue_by_priority")} now=${now} />
  </div>`;
}

/** Time spent on an item: the state's for the others, the server's for the current one, plus its running stretch. */
function itemElapsedMs(state, views, ref, now) {
  if (ref !== state.current_item) return state.items[ref].elapsed_ms;
  const since = views.clock.running_since;
  return views.clock.current_elapsed_ms + (since === null ? 0 : Math.max(now - since, 0));
}

function AgendaCard({ session, now }) {
  const { state, views } = session;
  const fc = views.forecast;
  const expectedOf = expectedByItem(views.expected);
  const starts = sectionStarts(state, state.agenda);
  const busy = state.grant !== null || state.speech !== null;
  return html`<section class="card agenda-card" aria-labelledby="agenda-h">
    <h2 id="agenda-h">${t("agenda")}</h2>
    <p class="forecast-summary" data-testid="forecast">
      ${t("forecast_today", { minutes: number(fc.minutes_left_today), n: fc.fits_today })}
      ${fc.will_not_fit
        ? html` <strong class="warning-text">${t("forecast_will_not_fit", { n: fc.will_not_fit, minutes: number(fc.overflow_minutes) })}</strong>`
        : html` ${t("forecast_all_fit", { days: fc.days_left })}`}
    </p>
    <div class="table-wrap scroll tall"><table class="agenda">
      <thead><tr><th>${t("item")}</th><th>${t("title")}</th><th>${t("elapsed_allocated")}</th><th>${t("expected")}</th><th></th></tr></thead>
      <tbody>${state.agenda.map((number_) => {
        const item = state.items[String(number_)];
        const section = starts.get(number_);
        const expected = expectedOf.get(number_);
        const isCurrent = number_ === state.current_item;
        const elapsed = itemElapsedMs(state, views, number_, now);
        const allocated = views.allocated_minutes[number_] * 60000;
        return html`${section ? html`<tr class="section-row" key=${`section-${number_}`}><th colspan="5" scope="colgroup">${section}</th></tr>` : null}<tr key=${number_} class=${`${isCurrent ? "current" : ""} ${expected === "will_not_fit" ? "no-fit" : ""}`} data-item=${number_}>
          <th scope="row">${item.number} <span class="muted small nowrap">${item.code}</span></th>
          <td class="title-cell"><span class="clamp" title=${itemTitle(item)}>${itemTitle(item)}</span></td>
          <td class=${elapsed > allocated ? "over" : ""}>${clock(elapsed)} / ${clock(allocated)}</td>
          <td>${item.status !== "open" ? statusName(item.status) : expected ? expectedText(expected) : "—"}</td>
          <td>${isCurrent ? html`<span class="tag">${t("current")}</span>`
            : item.status === "open" ? html`<button class="small secondary" disabled=${busy} data-testid="take-up" onClick=${() => act(session, "take_up_item", { item: number_ })}>${t("take_up")}</button>` : null}</td>
        </tr>`;
      })}</tbody>
    </table></div>
  </section>`;
}

function expectedText(expected) {
  if (expected === "today") return t("expected_today");
  if (expected === "will_not_fit") return t("expected_no_fit");
  return dayLabel(expected);
}

export function OutcomeCard({ session, chair = true }) {
  const { state } = session;
  const [chosen, setChosen] = useState(null);
  const number_ = chosen ?? state.current_item ?? state.agenda[0];
  const item = state.items[String(number_)];
  const [draft, setDraft] = useState({});
  const [blockKind, setBlockKind] = useState("objection");
  const [blocker, setBlocker] = useState("");
  const [packageItems, setPackageItems] = useState(null);
  if (!item) return null;
  const council = Object.values(state.delegations).filter((d) => d.cls === "council_member").sort((a, b) => a.name.localeCompare(b.name));
  const text = draft[number_] ?? item.conclusion ?? "";
  const openItems = state.agenda.map((n) => state.items[String(n)]).filter((i) => i.status === "open");
  const selectedPackage = packageItems ?? openItems.filter((i) => i.package).map((i) => i.ref);
  const propose = async (event) => {
    event.preventDefault();
    const answer = await act(session, "propose_conclusion", { item: number_, text });
    if (answer.ok) setDraft({ ...draft, [number_]: undefined });
  };
  return html`<section class="card outcome-card" aria-labelledby="outcome-h" data-testid="outcome-card">
    <h2 id="outcome-h">${t("outcomes")}</h2>
    <label>${t("item")} <select data-testid="outcome-item" value=${number_} onChange=${(e) => setChosen(e.currentTarget.value)}>
      ${state.agenda.map((n) => html`<option value=${n}>${state.items[n].number} · ${state.items[n].code} (${statusName(state.items[n].status)})</option>`)}
    </select></label>
    <p class="muted small item-line" title=${itemTitle(item)}>${itemTitle(item)}</p>
    <p>${t("status")}: <strong class=${`status status-${item.status}`} data-testid="outcome-status">${statusName(item.status)}</strong>
      ${item.blocked_by ? html` · ${t(`blocked_${item.block_kind}`, { delegation: isolated(delegationName(state, item.blocked_by)) })}` : null}
      ${item.correspondence ? html` · ${t("correspondence_majority", { required: item.correspondence.required, voters: item.correspondence.voters })}` : null}
      ${item.concluded_by ? html` · ${t(`concluded_by_${item.concluded_by}`)}` : null}</p>
    <${BallotLine} state=${state} item=${number_} now=${session.now()} />
    <form class="stack" onSubmit=${propose}>
      <label>${t("proposed_conclusion")}
        <textarea rows="3" data-testid="conclusion-text" disabled=${item.status !== "open"} value=${text}
          onInput=${(e) => setDraft({ ...draft, [number_]: e.currentTarget.value })}></textarea></label>
      <button type="submit" data-testid="propose-conclusion" disabled=${item.status !== "open" || !text.trim()}>${t("propose_conclusion")}</button>
    </form>
    ${chair && item.status === "open" ? html`<div class="stack">
      <div class="row">
        <button class="go" data-testid="record-consensus" disabled=${!item.conclusion} onClick=${() => act(session, "record_consensus", { item: number_ })}>${t("record_consensus")}</button>
        <${ConfirmButton} label=${t("point_to_correspondence")} question=${t("correspondence_confirm")} disabled=${!item.conclusion}
          onConfirm=${() => act(session, "point_to_correspondence", { item: number_ })} />
      </div>
      <form class="row block-form" onSubmit=${(e) => { e.preventDefault(); act(session, "block_item", { item: number_, kind: blockKind, delegation: blocker }); }}>
        <label>${t("block_kind")} <select value=${blockKind} onChange=${(e) => setBlockKind(e.currentTarget.value)}>
          ${["objection", "postponement", "suspension"].map((k) => html`<option value=${k}>${t(`block_${k}`)}</option>`)}</select></label>
        <label>${t("by_council_member")} <select required value=${blocker} onChange=${(e) => setBlocker(e.currentTarget.value)}>
          <option value="">—</option>${council.map((d) => html`<option value=${d.id}>${d.name}</option>`)}</select></label>
        <button type="submit" class="danger small" disabled=${!blocker} aria-describedby=${blocker ? undefined : "deferral-hint"}
          title=${blocker ? "" : t("deferral_choose_first")}>${t("record_deferral")}</button>
      </form>
      ${blocker ? null : html`<p class="muted small" id="deferral-hint" data-testid="deferral-hint">${t("deferral_choose_first")}</p>`}
    </div>` : null}
    ${chair ? html`<${PackageBox} session=${session} council=${council} openItems=${openItems} selected=${selectedPackage} setSelected=${setPackageItems} />` : null}
  </section>`;
}

function PackageBox({ session, council, openItems, selected, setSelected }) {
  const { state } = session;
  const [puller, setPuller] = useState("");
  const toggle = (n) => setSelected(selected.includes(n) ? selected.filter((x) => x !== n) : [...selected, n]);
  return html`<details class="package" open=${state.package.length > 0}>
    <summary>${t("package")} ${state.package.length ? html`<span class="count">${state.package.length}</span>` : null}</summary>
    ${state.package.length ? html`<div class="row">
        <label>${t("pulled_by")} <select value=${puller} data-testid="puller" onChange=${(e) => setPuller(e.currentTarget.value)}>
          <option value="">—</option>${council.map((d) => html`<option value=${d.id}>${d.name}</option>`)}</select></label>
      </div>
      ${puller ? null : html`<p class="muted small" id="pull-hint" data-testid="pull-hint">${t("pull_choose_first")}</p>`}
      <ul class="package-items" data-testid="package">
        ${state.package.map((n) => html`<li key=${n}>${n} · ${state.items[String(n)].code}
          ${state.items[String(n)].conclusion ? null : html` <span class="tag tag-alarm">${t("no_conclusion_yet")}</span>`}
          <button class="small secondary" disabled=${!puller} aria-describedby=${puller ? undefined : "pull-hint"} title=${puller ? "" : t("pull_choose_first")}
            data-testid="pull" onClick=${() => act(session, "pull_from_package", { item: n, delegation: puller })}>${t("pull")}</button></li>`)}
      </ul>
      <div class="row">
        <button class="go" data-testid="approve-package" onClick=${() => act(session, "approve_package")}>${t("approve_package")}</button>
      </div>`
    : html`<fieldset class="package-pick"><legend>${t("choose_package_items")}</legend>
        ${openItems.map((i) => html`<label class="check" key=${i.ref}><input type="checkbox" checked=${selected.includes(i.ref)} onChange=${() => toggle(i.ref)} /> ${i.number} · ${i.code}</label>`)}
      </fieldset>
      <button data-testid="propose-package" disabled=${!selected.length} onClick=${() => act(session, "propose_package", { items: selected })}>${t("propose_package")}</button>`}
  </details>`;
}

/**
 * Three columns on a laptop (1366x768): the floor with the item, the queue, the
 * outcome, each scrolling inside itself, so the chair never scrolls the page to
 * act; the agenda and the booths below. One column on a phone.
 */
export function ChairView({ session }) {
  const { state } = session;
  const now = useNow(session, 500);
  const console_ = useRef(null);
  // The columns fit the window below the top bar, whatever height the bar wraps to.
  useLayoutEffect(() => {
    const top = console_.current.getBoundingClientRect().top + window.scrollY;
    console_.current.style.setProperty("--console-top", `${Math.ceil(top) + 12}px`);
  });
  return html`<div class="chair-console" ref=${console_}>
    <div class="cc-floor">
      <${ChairFloor} session=${session} now=${now} />
      <${MicrophoneLink} session=${session} />
      <${ItemCard} state=${state} />
    </div>
    <div class="cc-queue"><${ChairQueue} session=${session} now=${now} /></div>
    <div class="cc-outcome"><${OutcomeCard} session=${session} /></div>
    <div class="cc-agenda"><${AgendaCard} session=${session} now=${now} /></div>
    <div class="cc-booths"><section class="card" aria-labelledby="booths-h"><h2 id="booths-h">${t("booths")}</h2>
      <${BoothTable} state=${state} views=${session.views} /></section></div>
  </div>`;
}
