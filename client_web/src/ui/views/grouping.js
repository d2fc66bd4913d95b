// The agenda consultation before the sitting (core/grouping.py). The
// secretariat proposes a group per item: group 1, urgent, on this
// consultation's agenda; group 2, deferred to the next in-person session.
// Council members answer per item until the deadline (Geneva time): they agree
// or propose the other group, and may propose new items. What a delegation
// answered is its own and the secretariat's: the public state only says that it
// answered, so a delegation reads its answers from `grouping/mine` and the
// secretariat the tally from `grouping/tally`.
import { useEffect, useMemo, useState } from "preact/hooks";
import { html } from "../html.js";
import { t } from "../../i18n/index.js";
import { useNow, useServerData } from "../hooks.js";
import { act, errorText } from "../feedback.js";
import { dateTimeIn, localZone, zonedTime, zoneLabel } from "../format.js";
import { delegationName, itemTitle, sectionStarts } from "../names.js";
import { Deadline } from "../parts/deadline.js";
import { ConfirmButton } from "../parts/confirm_button.js";

const GROUPING_EVENTS = new Set(["grouping_opened", "grouping_answered", "item_proposed", "grouping_closed"]);

/** The secretariat's proposal for an item: after the closing, an overridden item's group was the other one. */
function proposalOf(state, item) {
  if (state.grouping?.closed && state.grouping.overrides.includes(item.ref)) return 3 - item.group;
  return item.group;
}

function GroupTag({ group, testid }) {
  return html`<span class=${`tag group group-${group ?? 0}`} data-testid=${testid}>${group ? t("group_n", { n: group }) : t("no_proposal")}</span>`;
}

/** Where the consultation stands, in words, with the deadline. */
function GroupingStatus({ state, now, phase }) {
  const grouping = state.grouping;
  if (phase === "none") return html`<p class="info" data-testid="grouping-status" data-phase="none">${t("grouping_not_open")}</p>`;
  if (phase === "closed") {
    return html`<p class="info" data-testid="grouping-status" data-phase="closed">${t("grouping_closed_note", { n: state.agenda.length, overrides: grouping.overrides.length })}</p>`;
  }
  return html`<div data-testid="grouping-status" data-phase=${phase}>
    <p class="label">${phase === "open" ? t("answers_until") : t("deadline_was")}</p>
    <${Deadline} at=${grouping.deadline} tz=${state.tz} now=${now} testid="grouping-deadline" />
    ${phase === "answers_closed" ? html`<p class="warning" role="status" data-testid="grouping-locked">${t("grouping_deadline_passed")}</p>` : null}
  </div>`;
}

function ItemHead({ item, children }) {
  return html`<div class="gi-main">
    <div class="gi-head">
      <span class="item-number">${item.number}</span> <span class="muted nowrap">${item.code}</span>
      ${children}
      ${item.documents.length ? html`<span class="gi-docs small">${item.documents.map((d) => html`<span class="doc">${d}</span>`)}</span>` : null}
    </div>
    <p class="gi-title clamp" dir="auto" title=${itemTitle(item)}>${itemTitle(item)}</p>
  </div>`;
}

/** The answer the delegation gave, in words: "agree" keeps the proposed group, "other_group" is the other of the two. */
function answerText(proposal, answer) {
  if (!answer) return t("not_answered");
  return answer === "agree" ? t("answer_agree_short", { n: proposal }) : t("answer_other_short", { n: 3 - proposal });
}

const FILTERS = ["all", "unanswered", "group_1", "group_2"];

function matches(filter, proposal, answer) {
  if (filter === "unanswered") return !answer;
  if (filter === "group_1") return proposal === 1;
  if (filter === "group_2") return proposal === 2;
  return true;
}

function ProposeItem({ session }) {
  const [title, setTitle] = useState("");
  const [group, setGroup] = useState(1);
  const submit = async (event) => {
    event.preventDefault();
    const answer = await act(session, "propose_item", { title: title.trim(), group: Number(group) });
    if (answer.ok) setTitle("");
  };
  return html`<form class="stack propose-item" onSubmit=${submit} data-testid="propose-item">
    <label>${t("new_item_title")}<textarea rows="2" maxlength="20000" required value=${title} onInput=${(e) => setTitle(e.currentTarget.value)}></textarea></label>
    <fieldset class="inline"><legend>${t("new_item_group")}</legend>
      ${[1, 2].map((g) => html`<label class="check"><input type="radio" name="new-item-group" value=${g} checked=${Number(group) === g} onChange=${() => setGroup(g)} /> ${t(`group_${g}_meaning`)}</label>`)}
    </fieldset>
    <div><button type="submit" disabled=${!title.trim()}>${t("propose_new_item")}</button></div>
  </form>`;
}

function ProposedItems({ state }) {
  const proposed = state.grouping?.proposed_items ?? [];
  return html`<section class="card" aria-labelledby="proposed-h">
    <h2 id="proposed-h">${t("proposed_items")} <span class="count">${proposed.length}</span></h2>
    ${proposed.length ? html`<ul class="plain-list" data-testid="proposed-items">${proposed.map((p, i) => html`<li key=${i}>
        <span class="name" dir="auto">${p.title}</span> <${GroupTag} group=${p.group} />
        <span class="muted small">${delegationName(state, p.delegation)} · ${dateTimeIn(p.at, state.tz)}</span></li>`)}</ul>`
      : html`<p class="muted">${t("no_proposed_items")}</p>`}
  </section>`;
}

/** The delegate's (and the chair's, and everyone's) view of the agenda consultation. */
export function GroupingView({ session }) {
  const { state, views } = session;
  const me = session.me;
  const now = useNow(session, 1000);
  const { phase } = views.grouping;
  const proposed = views.grouping.proposed_group;
  const delegation = me.delegation ? state.delegations[me.delegation] : null;
  const council = Boolean(delegation && views.allowed[delegation.cls].answers_grouping);
  const mine = useServerData(
    session, "grouping/mine",
    (event) => event.type === "grouping_opened" || (event.type === "grouping_answered" && event.delegation === me.delegation),
    { enabled: council && state.grouping !== null },
  );
  // What this screen just answered, shown at once; the next answer from the server replaces it.
  const [sent, setSent] = useState({});
  useEffect(() => setSent({}), [mine.data]);
  const [filter, setFilter] = useState("all");
  const answers = { ...(mine.data?.answers ?? {}), ...sent };
  const items = views.grouping.items.map((ref) => state.items[ref]);
  const mayAnswer = council && views.allowed[delegation.cls].answer_grouping;
  const answer = async (item, value) => {
    setSent({ ...sent, [item.ref]: value });
    const reply = await act(session, "answer_grouping", { item: item.ref, answer: value });
    if (!reply.ok) {
      setSent((before) => {
        const { [item.ref]: _refused, ...rest } = before;
        return rest;
      });
    }
  };
  const goToProposal = () => {
    document.getElementById("new-item-h")?.scrollIntoView({ block: "start" });
    document.querySelector("[data-testid=propose-item] textarea")?.focus({ preventScroll: true });
  };
  const answeredHere = items.filter((item) => answers[item.ref]).length;
  const members = views.grouping.council_members;
  const shown = items.filter((item) => matches(filter, proposed[item.ref], answers[item.ref]));
  const starts = sectionStarts(state, shown.map((item) => item.ref));
  const overrides = new Set(state.grouping?.overrides ?? []);
  const lockedReason = phase === "answers_closed" ? t("grouping_deadline_passed") : phase === "closed" ? t("grouping_is_closed") : phase === "none" ? t("grouping_not_open") : "";

  return html`<div class="grid grouping-grid">
    <div class="col-main">
      <section class="card" aria-labelledby="grouping-h" data-testid="grouping">
        <h2 id="grouping-h">${t("agenda_consultation")}</h2>
        <p class="muted small">${t("grouping_explainer")}</p>
        <${GroupingStatus} state=${state} now=${now} phase=${phase} />
        ${council
          ? html`<p class="mine-line" data-testid="my-progress">${t("my_progress", { delegation: delegation.name, n: answeredHere, total: items.length })}
              ${phase === "open" ? html` <button class="small secondary" onClick=${goToProposal}>${t("propose_an_item")}</button>` : null}</p>`
          : html`<p class="info" data-testid="grouping-not-council">${delegation ? t("only_council_answers_you", { delegation: delegation.name }) : t("only_council_answers")}</p>`}
        ${state.grouping ? html`<p data-testid="grouping-answered-count">${t("council_answered", { n: views.grouping.answered, total: members })}</p>` : null}
        ${council && mine.error ? html`<p class="warning" role="alert">${t("answers_not_loaded")} ${errorText(mine.error)}</p>` : null}
        <label class="filter-inline">${t("show")} <select value=${filter} onChange=${(e) => setFilter(e.currentTarget.value)} data-testid="grouping-filter">
          ${FILTERS.filter((f) => council || f !== "unanswered").map((f) => html`<option value=${f}>${t(`filter_${f}`)}</option>`)}</select></label>
        <ol class="grouping-list" data-testid="grouping-items">
          ${shown.map((item) => {
            const section = starts.get(item.ref);
            const given = answers[item.ref] ?? null;
            const proposal = proposed[item.ref];
            return html`${section ? html`<li class="section-row" role="presentation" key=${`section-${item.ref}`}><h3>${section}</h3></li>` : null}<li key=${item.ref} data-item=${item.ref} data-answer=${given ?? ""} class=${given ? `answered answer-${given}` : ""}>
              <${ItemHead} item=${item}>
                ${phase === "closed"
                  ? html`<span class="muted small">${t("final")}</span> <${GroupTag} group=${item.group} testid="item-group" />
                    ${overrides.has(item.ref) ? html`<span class="tag tag-override">${t("changed_by_secretariat")}</span>` : null}`
                  : html`<span class="muted small">${t("proposal")}</span> <${GroupTag} group=${item.group} testid="item-group" />`}
              <//>
              ${council ? html`<div class="answer-row">
                <span class=${`my-answer ${given ? "" : "muted"}`} data-testid="my-answer">${answerText(proposal, given)}</span>
                <span class="row-actions" role="group" aria-label=${t("answer_on_item", { n: item.ref })}>
                  <button class="small answer agree" aria-pressed=${given === "agree"} disabled=${!mayAnswer} title=${lockedReason}
                    data-testid="answer-agree" onClick=${() => answer(item, "agree")}>${t("answer_agree", { n: proposal })}</button>
                  <button class="small answer other" aria-pressed=${given === "other_group"} disabled=${!mayAnswer} title=${lockedReason}
                    data-testid="answer-other" onClick=${() => answer(item, "other_group")}>${t("answer_other", { n: 3 - proposal })}</button>
                </span>
              </div>` : null}
            </li>`;
          })}
        </ol>
        ${shown.length ? null : html`<p class="muted">${t("nothing_to_show")}</p>`}
      </section>
    </div>
    <div class="col-side">
      ${council && phase === "open" ? html`<section class="card" aria-labelledby="new-item-h">
        <h2 id="new-item-h">${t("propose_an_item")}</h2>
        <p class="muted small">${t("propose_an_item_explainer")}</p>
        <${ProposeItem} session=${session} />
      </section>` : null}
      ${state.grouping ? html`<${ProposedItems} state=${state} />` : null}
    </div>
  </div>`;
}

/**
 * How many items a council member's delegation has still to answer while the
 * consultation is open (the tab shows it). The public state says which items a
 * delegation answered, not what.
 */
export function unansweredCount(state, views, me) {
  const delegation = me.delegation ? state.delegations[me.delegation] : null;
  if (!delegation || !views.allowed[delegation.cls].answer_grouping) return 0;
  const answered = state.grouping.answers[me.delegation] ?? {};
  return Object.keys(state.items).filter((n) => !(n in answered)).length;
}

// --- the secretariat ---------------------------------------------------------------------

/** "2021-03-12T23:59": a week from now at 23:59 in the consultation's zone. */
function defaultDeadline(state, now) {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone: state.tz, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date(now + 7 * 86400000));
  return `${parts}T23:59`;
}

function OpenGrouping({ session, now }) {
  const { state } = session;
  const [deadline, setDeadline] = useState(() => defaultDeadline(state, now));
  const valid = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(deadline);
  const at = valid ? zonedTime(deadline.slice(0, 10), deadline.slice(11), state.tz) : null;
  const submit = (event) => {
    event.preventDefault();
    act(session, "open_grouping", { deadline });
  };
  return html`<form class="stack" onSubmit=${submit} data-testid="open-grouping">
    <p>${t("open_grouping_explainer", { n: Object.keys(state.items).length })}</p>
    <label>${t("deadline_in_zone", { zone: zoneLabel(state.tz) })}
      <input type="datetime-local" required data-testid="grouping-deadline-input" value=${deadline} onInput=${(e) => setDeadline(e.currentTarget.value)} /></label>
    ${at !== null && localZone() !== state.tz ? html`<p class="muted small" data-testid="deadline-local">${t("that_is_your_time", { time: dateTimeIn(at, localZone()) })}</p>` : null}
    ${at !== null && at <= now ? html`<p class="warning">${t("deadline_in_past")}</p>` : null}
    <div><button type="submit" data-testid="open-grouping-button" disabled=${!valid || !Object.keys(state.items).length}>${t("open_grouping")}</button></div>
  </form>`;
}

function Names({ state, ids, testid }) {
  if (!ids.length) return html`<span class="muted" data-testid=${testid} data-n="0">0</span>`;
  return html`<details class="names" data-testid=${testid} data-n=${ids.length}>
    <summary>${ids.length}</summary>
    <ul>${ids.map((id) => delegationName(state, id)).sort((a, b) => a.localeCompare(b)).map((name) => html`<li key=${name}>${name}</li>`)}</ul>
  </details>`;
}

const TALLY_FILTERS = ["all", "other_group", "overrides"];

export function SecretariatGrouping({ session }) {
  const { state, views } = session;
  const now = useNow(session, 1000);
  const { phase } = views.grouping;
  const proposed = views.grouping.proposed_group;
  const tally = useServerData(session, "grouping/tally", (event) => GROUPING_EVENTS.has(event.type) || event.type === "item_added" || event.type === "delegation_added",
    { enabled: state.grouping !== null });
  const [final, setFinal] = useState({});
  const [filter, setFilter] = useState("all");
  const rows = tally.data?.items ?? [];
  const items = views.grouping.items.map((ref) => state.items[ref]);
  const byItem = useMemo(() => new Map(rows.map((r) => [r.item, r])), [tally.data]);
  const closed = phase === "closed";
  const finalOf = (item) => (closed ? item.group : final[item.ref] ?? proposed[item.ref]);
  const isOverride = (item) => (closed ? state.grouping.overrides.includes(item.ref) : finalOf(item) !== proposed[item.ref]);
  const overrides = items.filter(isOverride);
  const shown = items.filter((item) => {
    if (filter === "other_group") return (byItem.get(item.ref)?.other_group.length ?? 0) > 0;
    if (filter === "overrides") return isOverride(item);
    return true;
  });
  const close = () => {
    const chosen = {};
    for (const item of items) if (isOverride(item)) chosen[item.ref] = finalOf(item);
    act(session, "close_grouping", { final: chosen });
  };

  return html`<div class="stack wide-stack">
    <section class="card" aria-labelledby="sgrouping-h" data-testid="secretariat-grouping">
      <h2 id="sgrouping-h">${t("agenda_consultation")}</h2>
      <p class="muted small">${t("grouping_explainer")}</p>
      ${phase === "none" ? html`<${OpenGrouping} session=${session} now=${now} />` : html`
        <${GroupingStatus} state=${state} now=${now} phase=${phase} />
        <p data-testid="grouping-answered-count">${t("council_answered", { n: views.grouping.answered, total: views.grouping.council_members })}</p>`}
    </section>
    ${phase !== "none" ? html`<section class="card" aria-labelledby="tally-h">
      <h2 id="tally-h">${t("tally")} ${tally.loading ? html`<span class="muted small">${t("loading")}</span>` : null}</h2>
      ${tally.error ? html`<p class="warning" role="alert" data-testid="tally-error">${t("tally_not_loaded")} ${errorText(tally.error)}</p>` : null}
      <p class="muted small">${closed ? t("tally_closed_explainer") : t("tally_explainer")}</p>
      <div class="row">
        <label class="filter-inline">${t("show")} <select value=${filter} data-testid="tally-filter" onChange=${(e) => setFilter(e.currentTarget.value)}>
          ${TALLY_FILTERS.map((f) => html`<option value=${f}>${t(`tally_filter_${f}`)}</option>`)}</select></label>
      </div>
      <div class="table-wrap scroll tall"><table class="tally" data-testid="tally">
        <thead><tr><th>${t("item")}</th><th class="proposal-cell">${t("proposal")}</th><th>${t("tally_agree")}</th><th>${t("tally_other_group")}</th><th>${t("tally_no_answer")}</th><th>${t("final_say")}</th></tr></thead>
        <tbody>${shown.map((item) => {
          const row = byItem.get(item.ref);
          const override = isOverride(item);
          return html`<tr key=${item.ref} data-item=${item.ref} class=${override ? "override" : ""}>
            <th scope="row"><span class="item-number">${item.number}</span> <span class="muted small nowrap">${item.code}</span>
              <span class="clamp small tally-title" dir="auto" title=${itemTitle(item)}>${itemTitle(item)}</span>
              <span class="proposal-inline"><${GroupTag} group=${proposalOf(state, item)} /></span></th>
            <td class="proposal-cell"><${GroupTag} group=${proposalOf(state, item)} /></td>
            <td>${row ? html`<${Names} state=${state} ids=${row.agree} testid="tally-agree" />` : "…"}</td>
            <td class=${row?.other_group.length ? "hot" : ""}>${row ? html`<${Names} state=${state} ids=${row.other_group} testid="tally-other" />` : "…"}</td>
            <td>${row ? html`<${Names} state=${state} ids=${row.no_answer} testid="tally-none" />` : "…"}</td>
            <td>${closed
              ? html`<${GroupTag} group=${item.group} />${override ? html` <span class="tag tag-override">${t("override")}</span>` : null}`
              : html`<select aria-label=${t("final_say_on", { n: item.ref })} data-testid="final-say" value=${finalOf(item)}
                  onChange=${(e) => setFinal({ ...final, [item.ref]: Number(e.currentTarget.value) })}>
                  ${[1, 2].map((g) => html`<option value=${g}>${t("group_n", { n: g })}</option>`)}</select>
                ${override ? html` <span class="tag tag-override">${t("override")}</span>` : null}`}</td>
          </tr>`;
        })}</tbody>
      </table></div>
      ${closed ? null : html`<div class="stack">
        <p data-testid="overrides-summary">${overrides.length ? t("overrides_n", { n: overrides.length, items: overrides.map((i) => i.ref).join(", ") }) : t("no_overrides")}</p>
        <div class="row">
          <${ConfirmButton} className="go" label=${t("close_grouping")} question=${t("close_grouping_confirm", { n: overrides.length })}
            disabled=${phase !== "answers_closed"} onConfirm=${close} testid="close-grouping" />
          ${phase === "open" ? html`<span class="muted small" data-testid="close-grouping-why">${t("close_after_deadline", { time: `${dateTimeIn(state.grouping.deadline, state.tz)} ${zoneLabel(state.tz)}` })}</span>` : null}
        </div>
      </div>`}
    </section>` : null}
    ${state.grouping ? html`<${ProposedItems} state=${state} />` : null}
  </div>`;
}
