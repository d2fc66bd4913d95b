// The time management plan: the agenda's items over the days with their
// minutes (plan_agenda), public and exported as HTML, CSV and iCalendar; during
// the sitting, the server's live forecast of what will fit. The
// secretariat plans the agenda and edits the items' estimated minutes.
import { useState } from "preact/hooks";
import { html } from "../html.js";
import { t } from "../../i18n/index.js";
import { useNow } from "../hooks.js";
import { act } from "../feedback.js";
import { dayLabel, expectedByItem, localZone, number, timeIn, zoneLabel } from "../format.js";
import { itemTitle, sectionStarts, statusName } from "../names.js";

function expectedText(expected) {
  if (expected === "today") return t("expected_today");
  if (expected === "will_not_fit") return t("expected_no_fit");
  return dayLabel(expected);
}

/** Whether the forecast puts an item after the day the plan gave it (or nowhere). */
function lateness(expected, plannedDay, days, todayIndex) {
  if (expected === undefined) return "";
  if (expected === "will_not_fit") return "no-fit";
  const index = expected === "today" ? todayIndex : days.indexOf(expected);
  return index > plannedDay ? "late" : "";
}

function Exports({ session }) {
  const api = session.api;
  const consultation = session.welcome.consultation;
  return html`<div class="row exports" data-testid="plan-exports">
    <a class="button secondary" href=${api.url("plan?format=html")} target="_blank" rel="noopener" data-testid="plan-html">${t("plan_as_html")}</a>
    <a class="button secondary" href=${api.url("plan?format=csv")} download=${`${consultation}-plan.csv`} data-testid="plan-csv">${t("plan_as_csv")}</a>
    <a class="button secondary" href=${api.url("plan?format=ics")} download=${`${consultation}-plan.ics`} data-testid="plan-ics">${t("plan_as_ics")}</a>
  </div>
  <p class="muted small">${t("ics_explainer")}</p>`;
}

function MinutesEditor({ session, item }) {
  const [value, setValue] = useState(null);
  const shown = value ?? item.minutes;
  const changed = value !== null && Number(value) !== item.minutes;
  const save = async (event) => {
    event.preventDefault();
    const answer = await act(session, "set_item_minutes", { item: item.ref, minutes: Number(value) });
    if (answer.ok) setValue(null);
  };
  return html`<form class="minutes-form" onSubmit=${save} data-testid="minutes-form">
    <label><span class="sr-only">${t("minutes_of_item", { n: item.number })}</span>
      <input type="number" min="1" max="600" step="1" required value=${shown} data-testid="item-minutes" onInput=${(e) => setValue(e.currentTarget.value)} /></label>
    <button type="submit" class="small secondary" disabled=${!changed} data-testid="save-minutes">${t("save")}</button>
  </form>`;
}

export function PlanView({ session }) {
  const { state, views } = session;
  const now = useNow(session, 5000);
  const secretariat = session.me.role === "secretariat";
  const live = state.sitting !== null || state.sittings.length > 0;
  const fc = live ? views.forecast : null;
  const expected = expectedByItem(views.expected);
  const own = localZone();
  const daySlots = views.slots.map((slot) => [slot.day, slot.start, slot.end]);
  const planned = new Set(state.plan.map((a) => a.item));
  const stale = state.plan.filter((a) => state.items[String(a.item)].minutes !== a.minutes).map((a) => a.item);
  const todayIndex = daySlots.findIndex(([, start, end]) => start <= now && now < end);
  const unplanned = state.agenda.filter((n) => !planned.has(n) && !state.plan_unplaced.includes(n));

  return html`<div class="stack wide-stack plan-view">
    <section class="card" aria-labelledby="tmp-h" data-testid="plan">
      <h2 id="tmp-h">${t("time_management_plan")}</h2>
      <p class="muted small">${t("plan_explainer", { start: state.slot_start, end: state.slot_end, zone: zoneLabel(state.tz) })}</p>
      ${secretariat ? html`<div class="row">
        <button data-testid="plan-agenda" onClick=${() => act(session, "plan_agenda")}>${state.plan.length ? t("plan_again") : t("plan_agenda")}</button>
        ${stale.length ? html`<span class="warning small" data-testid="plan-stale">${t("plan_stale", { items: stale.join(", ") })}</span>` : null}
      </div>` : null}
      <${Exports} session=${session} />
      ${fc ? html`<p class="forecast-summary" data-testid="plan-forecast">
        ${t("forecast_today", { minutes: number(fc.minutes_left_today), n: fc.fits_today })}
        ${fc.will_not_fit
          ? html` <strong class="warning-text">${t("forecast_will_not_fit", { n: fc.will_not_fit, minutes: number(fc.overflow_minutes) })}</strong>`
          : html` ${t("forecast_all_fit", { days: fc.days_left })}`}</p>` : null}
      ${state.plan.length ? null : html`<p class="muted" data-testid="no-plan">${t("no_plan")}</p>`}
      ${Object.keys(state.deadlines ?? {}).length ? html`<h3>${t("deadlines")}</h3><ul class="deadlines" data-testid="deadlines">
        ${Object.entries(state.deadlines).map(([name, day]) => html`<li key=${name}><span dir="auto">${name}</span>: ${dayLabel(day)}</li>`)}</ul>` : null}
      ${state.plan_unplaced.length ? html`<p class="warning">${t("unplaced", { items: state.plan_unplaced.join(", "), minutes: state.plan_overflow_minutes })}</p>` : null}
    </section>
    ${state.plan.length ? daySlots.map(([day, start, end], index) => {
      const on = state.plan.filter((a) => a.day === index);
      const starts = sectionStarts(state, on.map((a) => a.item));
      const capacity = Math.round((end - start) / 60000);
      const used = on.reduce((sum, a) => sum + a.minutes, 0);
      const today = start <= now && now < end;
      return html`<section class=${`card plan-day ${today ? "today" : ""}`} key=${day} data-testid="plan-day" data-day=${day} aria-labelledby=${`day-${index}`}>
        <h2 id=${`day-${index}`}>${t("day_n", { n: index + 1 })} · ${dayLabel(day)}
          ${today ? html`<span class="tag">${t("today")}</span>` : null}</h2>
        <p class="small"><strong>${timeIn(start, state.tz)}–${timeIn(end, state.tz)}</strong> <span class="muted">${zoneLabel(state.tz)}</span>
          ${own !== state.tz ? html` · <strong>${timeIn(start, own)}–${timeIn(end, own)}</strong> <span class="muted">${t("your_time")}</span>` : null}</p>
        <div class="fill" role="img" aria-label=${t("minutes_used", { used, capacity })}><span style=${`width:${Math.min(100, (100 * used) / Math.max(capacity, 1))}%`}></span></div>
        <p class="muted small">${t("minutes_used", { used, capacity })}</p>
        ${on.length ? html`<div class="table-wrap"><table class="plan-table">
          <thead><tr><th>${t("item")}</th><th class="title-cell">${t("title")}</th><th>${t("minutes")}</th>${fc ? html`<th>${t("expected")}</th>` : null}</tr></thead>
          <tbody>${on.map((a) => {
            const item = state.items[String(a.item)];
            const section = starts.get(a.item);
            return html`${section ? html`<tr class="section-row" key=${`section-${a.item}`}><th colspan=${fc ? 4 : 3} scope="colgroup">${section}</th></tr>` : null}<tr key=${a.item} data-item=${a.item} class=${a.item === state.current_item ? "current" : ""}>
              <th scope="row"><span class="nowrap">${item.number} <span class="muted small">${item.code}</span></span>${state.package.includes(a.item) || item.package ? html` <span class="tag">${t("package")}</span>` : null}
                <span class="title-inline clamp small" dir="auto" title=${itemTitle(item)}>${itemTitle(item)}</span></th>
              <td class="title-cell"><span class="clamp" dir="auto" title=${itemTitle(item)}>${itemTitle(item)}</span></td>
              <td class="nowrap">${a.minutes}′</td>
              ${fc ? html`<td class=${item.status === "open" ? lateness(expected.get(a.item), a.day, state.days, todayIndex) : ""}>
                ${item.status !== "open" ? statusName(item.status) : expectedText(expected.get(a.item))}</td>` : null}
            </tr>`;
          })}</tbody>
        </table></div>` : html`<p class="muted">${t("nothing_this_day")}</p>`}
      </section>`;
    }) : null}
    ${secretariat ? html`<section class="card" aria-labelledby="estimates-h" data-testid="estimates">
      <h2 id="estimates-h">${t("estimated_minutes")}</h2>
      <p class="muted small">${t("estimated_minutes_explainer")}</p>
      ${unplanned.length && state.plan.length ? html`<p class="warning small">${t("not_in_plan", { items: unplanned.join(", ") })}</p>` : null}
      <div class="table-wrap scroll tall"><table class="estimates">
        <thead><tr><th>${t("item")}</th><th>${t("title")}</th><th>${t("minutes")}</th></tr></thead>
        <tbody>${state.agenda.map((n) => {
          const item = state.items[String(n)];
          return html`<tr key=${n} data-item=${n}><th scope="row">${item.number} <span class="muted small nowrap">${item.code}</span></th>
            <td class="title-cell"><span class="clamp" dir="auto" title=${itemTitle(item)}>${itemTitle(item)}</span></td>
            <td><${MinutesEditor} session=${session} item=${item} /></td></tr>`;
        })}</tbody>
      </table></div>
    </section>` : null}
  </div>`;
}
