// Written contributions (core/contributions.py): the list per item for
// everyone, and for member-state delegates the template to submit one: title,
// the agenda item and the document it refers to, co-submitters (member states
// too), comments and a proposed way forward, as text (through the socket) or
// as a PDF or DOCX file (through the HTTP upload, which counts its pages).
import { useMemo, useState } from "preact/hooks";
import { html } from "../html.js";
import { t } from "../../i18n/index.js";
import { useNow } from "../hooks.js";
import { errorText, notify } from "../feedback.js";
import { dateTimeIn, number, sizeText, zoneLabel } from "../format.js";
import { currentItem, delegationName, itemTitle } from "../names.js";
import { Deadline, shownDeadline } from "../parts/deadline.js";

/** The longest text contribution (code points, as the server counts them): its pages at the characters of a page. */
function maxCharacters(limits) {
  return limits.max_pages * limits.characters_per_page;
}

/** The server's refusal in plain words; the server's own sentence stays as the detail. */
export function contributionError(error, { withFile, item, state, limits }) {
  let text;
  switch (error.code) {
    case "too_long":
      text = withFile ? t("contribution_too_long_file") : t("contribution_too_long_text", { max: number(maxCharacters(limits)) });
      break;
    case "not_on_agenda":
      text = t("contribution_not_on_agenda", { n: item });
      break;
    case "deadline_passed":
      text = state.contributions_deadline
        ? t("contribution_deadline_passed", { time: `${dateTimeIn(shownDeadline(state.contributions_deadline, state.tz), state.tz)} ${zoneLabel(state.tz)}` })
        : t("contribution_deadline_passed_plain");
      break;
    case "not_allowed":
      text = t("contribution_not_allowed");
      break;
    case "invalid_value":
      text = withFile ? t("contribution_bad_file") : t("contribution_empty");
      break;
    default:
      text = errorText(error);
  }
  // The server's sentence adds what varies (why a file cannot be read, which field is wrong); the rest is said above.
  const varies = error.code === "invalid_value" || error.code === "invalid_command" || !text;
  return { text: text || error.message, detail: varies && error.message && error.message !== text ? error.message : null };
}

function newId(me) {
  return `${me.participant}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`.replace(/[^A-Za-z0-9_.:@-]/g, "-").slice(-80);
}

function CoSubmitters({ state, views, own, chosen, setChosen }) {
  const [filter, setFilter] = useState("");
  const states = useMemo(() => Object.values(state.delegations).filter((d) => views.allowed[d.cls].member_state && d.id !== own)
    .sort((a, b) => a.name.localeCompare(b.name)), [state.delegations, own]);
  const needle = filter.trim().toLowerCase();
  const toggle = (id) => setChosen(chosen.includes(id) ? chosen.filter((x) => x !== id) : [...chosen, id]);
  return html`<fieldset class="co-submitters" data-testid="co-submitters">
    <legend>${t("co_submitters")}</legend>
    <p class="muted small">${t("co_submitters_explainer")}</p>
    ${chosen.length ? html`<p class="chips">${chosen.map((id) => html`<span class="chip-on" key=${id}>${delegationName(state, id)}
      <button type="button" class="link" aria-label=${t("remove_co_submitter", { name: delegationName(state, id) })} onClick=${() => toggle(id)}>×</button></span>`)}</p>` : null}
    <details>
      <summary>${t("add_co_submitters")}</summary>
      <input type="search" placeholder=${t("find_member_state")} aria-label=${t("find_member_state")} value=${filter} onInput=${(e) => setFilter(e.currentTarget.value)} />
      <div class="pick-list">
        ${states.filter((d) => !needle || d.name.toLowerCase().includes(needle)).map((d) => html`<label class="check" key=${d.id}>
          <input type="checkbox" checked=${chosen.includes(d.id)} onChange=${() => toggle(d.id)} /> ${d.name}</label>`)}
      </div>
    </details>
  </fieldset>`;
}

function SubmitForm({ session, now, closedReason }) {
  const { state } = session;
  const me = session.me;
  const current = currentItem(state);
  const [item, setItem] = useState(() => (current && state.agenda.includes(current.ref) ? current.ref : state.agenda[0] ?? ""));
  const [title, setTitle] = useState("");
  const [document_, setDocument] = useState("");
  const [coSubmitters, setCoSubmitters] = useState([]);
  const [how, setHow] = useState("text");
  const [comments, setComments] = useState("");
  const [wayForward, setWayForward] = useState("");
  const [file, setFile] = useState(null);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState(null);
  const [done, setDone] = useState(null);
  // The file field cannot be cleared by a value: a new key gives an empty one after each contribution.
  const [round, setRound] = useState(0);
  const chosenItem = state.items[String(item)];
  const characters = [...title, ...document_, ...comments, ...wayForward].length;
  const { limits } = session.views;
  const tooLong = how === "text" && characters > maxCharacters(limits);

  const reset = () => {
    setTitle("");
    setComments("");
    setWayForward("");
    setFile(null);
    setCoSubmitters([]);
    setRound(round + 1);
  };
  const submit = async (event) => {
    event.preventDefault();
    setProblem(null);
    setDone(null);
    const withFile = how === "file";
    if (withFile && !file) {
      setProblem({ text: t("choose_a_file") });
      return;
    }
    if (withFile && file.size > limits.max_upload_bytes) {
      setProblem({ text: t("contribution_file_too_big", { size: sizeText(file.size) }) });
      return;
    }
    setBusy(true);
    const contribution = newId(me);
    let failure = null;
    if (withFile) {
      const form = new FormData();
      for (const [name, value] of Object.entries({ contribution, item: String(item), title: title.trim(), document: document_.trim(), co_submitters: coSubmitters.join(",") })) form.append(name, value);
      form.append("file", file, file.name);
      const answer = await session.api.postForm("contributions", form);
      if (!answer.ok) failure = answer.data?.error ?? { code: "unavailable" };
    } else {
      const answer = await session.perform("submit_contribution", {
        contribution, item, title: title.trim(), document: document_.trim(), co_submitters: coSubmitters, comments, way_forward: wayForward,
      });
      if (!answer.ok) failure = answer.error;
    }
    setBusy(false);
    if (failure) {
      setProblem(contributionError(failure, { withFile, item, state, limits }));
      return;
    }
    setDone(title.trim());
    notify(t("contribution_received", { title: title.trim() }), "info");
    reset();
  };

  if (closedReason) return html`<p class="warning" data-testid="contribution-closed">${closedReason}</p>`;
  return html`<form class="stack contribution-form" onSubmit=${submit} data-testid="contribution-form" aria-busy=${busy}>
    <label>${t("agenda_item")}
      <select required value=${item} data-testid="contribution-item" onChange=${(e) => { setItem(e.currentTarget.value); setDocument(""); }}>
        ${state.agenda.map((n) => { const it = state.items[String(n)]; return html`<option value=${n}>${it.number} · ${it.code} — ${shorten(itemTitle(it), 70)}</option>`; })}
      </select></label>
    <label>${t("contribution_title")}<input required maxlength="200" data-testid="contribution-title" value=${title} onInput=${(e) => setTitle(e.currentTarget.value)} /></label>
    <label>${t("document_referred")}
      <input list="item-documents" maxlength="200" data-testid="contribution-document" placeholder=${chosenItem?.documents[0] ?? "C21/…"} value=${document_} onInput=${(e) => setDocument(e.currentTarget.value)} />
      <datalist id="item-documents">${(chosenItem?.documents ?? []).map((d) => html`<option value=${d} />`)}</datalist></label>
    <${CoSubmitters} state=${state} views=${session.views} own=${me.delegation} chosen=${coSubmitters} setChosen=${setCoSubmitters} />
    <fieldset class="inline"><legend>${t("send_as")}</legend>
      <label class="check"><input type="radio" name="how" value="text" checked=${how === "text"} data-testid="send-as-text" onChange=${() => setHow("text")} /> ${t("send_as_text")}</label>
      <label class="check"><input type="radio" name="how" value="file" checked=${how === "file"} data-testid="send-as-file" onChange=${() => setHow("file")} /> ${t("send_as_file")}</label>
    </fieldset>
    ${how === "text" ? html`
      <label>${t("comments_on_document")}<textarea rows="6" maxlength="20000" data-testid="contribution-comments" value=${comments} onInput=${(e) => setComments(e.currentTarget.value)}></textarea></label>
      <label>${t("way_forward")}<textarea rows="4" maxlength="20000" data-testid="contribution-way-forward" value=${wayForward} onInput=${(e) => setWayForward(e.currentTarget.value)}></textarea></label>
      <p class=${`small ${tooLong ? "warning" : "muted"}`} data-testid="contribution-length" aria-live="polite">
        ${t("characters_used", { n: number(characters), max: number(maxCharacters(limits)) })}</p>`
    : html`<label class="file">${t("contribution_file")}
        <input type="file" key=${round} accept=".pdf,.docx,application/pdf,application/vnd.openxmlformats-officedocument.wordprocessingml.document" data-testid="contribution-file"
          onChange=${(e) => setFile(e.currentTarget.files?.[0] ?? null)} /></label>
      <p class="muted small">${t("file_rules", { mb: limits.max_upload_bytes / 1024 / 1024 })}</p>`}
    <p class="muted small">${t("two_page_rule", { max: number(maxCharacters(limits)), per: number(limits.characters_per_page) })}</p>
    ${problem ? html`<div class="form-error" role="alert" data-testid="contribution-error">
      <strong>${problem.text}</strong>${problem.detail ? html`<span class="muted small detail">${problem.detail}</span>` : null}</div>` : null}
    ${done ? html`<p class="success" role="status" data-testid="contribution-done">${t("contribution_received", { title: done })}</p>` : null}
    <div><button type="submit" data-testid="submit-contribution" disabled=${busy || tooLong || !title.trim() || item === ""}>${busy ? t("sending") : t("submit_contribution")}</button></div>
  </form>`;
}

function shorten(text, max) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function ContributionCard({ session, contribution }) {
  const { state } = session;
  const c = contribution;
  const download = async () => {
    const { ok, data } = await session.api.download(`contributions/${encodeURIComponent(c.id)}/file`, c.file.name);
    if (!ok) notify(data.error?.message ?? t("download_failed"));
  };
  const hasText = c.comments || c.way_forward;
  return html`<li class="contribution" data-contribution=${c.id} data-testid="contribution">
    <p class="c-title" dir="auto"><strong>${c.title || t("untitled")}</strong></p>
    <p class="small"><span class="muted">${t("submitted_by")}</span> <span data-testid="contribution-submitters">${c.submitters.map((d) => delegationName(state, d)).join(", ")}</span></p>
    <p class="small meta">
      ${c.document ? html`<span class="doc">${c.document}</span>` : null}
      <span data-testid="contribution-pages">${t("pages_n", { n: c.pages })}</span>
      <span class="muted">${dateTimeIn(c.at, state.tz)}</span></p>
    ${c.file ? html`<p><button class="small secondary" data-testid="contribution-download" onClick=${download}>
      ${t("download_file", { name: c.file.name, kind: c.file.kind.toUpperCase(), size: sizeText(c.file.size) })}</button></p>` : null}
    ${hasText ? html`<details class="c-text"><summary>${t("read_text")}</summary>
      ${c.comments ? html`<h3>${t("comments_on_document")}</h3><p class="pre" dir="auto">${c.comments}</p>` : null}
      ${c.way_forward ? html`<h3>${t("way_forward")}</h3><p class="pre" dir="auto">${c.way_forward}</p>` : null}
    </details>` : null}
    ${c.contacts ? html`<p class="muted small">${t("contacts")}: ${Object.values(c.contacts).flat().join(", ") || "—"}</p>` : null}
  </li>`;
}

export function ContributionList({ session }) {
  const { state } = session;
  const [only, setOnly] = useState("");
  const all = Object.values(state.contributions);
  const withContributions = Object.keys(state.items).filter((ref) => all.some((c) => c.item === ref));
  const items = only === "" ? withContributions : [only];
  return html`<section class="card" aria-labelledby="clist-h" data-testid="contribution-list">
    <h2 id="clist-h">${t("contributions_received")} <span class="count">${all.length}</span></h2>
    ${all.length ? html`<label class="filter-inline">${t("item")} <select value=${only} onChange=${(e) => setOnly(e.currentTarget.value)}>
      <option value="">${t("all_items")}</option>
      ${withContributions.map((n) => html`<option value=${n}>${state.items[n].number} · ${state.items[n].code}</option>`)}</select></label>` : html`<p class="muted">${t("no_contributions")}</p>`}
    ${items.map((n) => {
      const item = state.items[String(n)];
      return html`<div class="c-item" key=${n} data-item=${n}>
        <h3><span class="item-number">${t("item_number", { n: item.number })}</span> <span class="muted">${item.code}</span></h3>
        <p class="muted small clamp" dir="auto">${itemTitle(item)}</p>
        <ul class="contributions">${Object.values(state.contributions).filter((c) => c.item === n).sort((a, b) => a.at - b.at).map((c) => html`<${ContributionCard} key=${c.id} session=${session} contribution=${c} />`)}</ul>
      </div>`;
    })}
  </section>`;
}

export function ContributionsView({ session }) {
  const { state, views } = session;
  const me = session.me;
  const now = useNow(session, 1000);
  const delegation = me.delegation ? state.delegations[me.delegation] : null;
  const memberState = Boolean(delegation && views.allowed[delegation.cls].member_state);
  const deadline = state.contributions_deadline;
  const passed = deadline !== null && now >= deadline;
  let closedReason = null;
  if (passed) closedReason = t("contribution_deadline_passed", { time: `${dateTimeIn(shownDeadline(deadline, state.tz), state.tz)} ${zoneLabel(state.tz)}` });
  else if (!state.agenda.length) closedReason = t("no_agenda_yet");
  const submit = html`<section class="card" aria-labelledby="csubmit-h" data-testid="contribution-submit">
    <h2 id="csubmit-h">${t("written_contributions")}</h2>
    <p class="small">${t("contributions_explainer")}</p>
    ${deadline !== null ? html`<p class="label">${t("contributions_until")}</p><${Deadline} at=${deadline} tz=${state.tz} now=${now} testid="contributions-deadline" />` : null}
    ${memberState
      ? html`<${SubmitForm} session=${session} now=${now} closedReason=${closedReason} />`
      : html`<p class="info" data-testid="contribution-not-member">${t("only_member_states_contribute")}</p>`}
  </section>`;
  const list = html`<${ContributionList} session=${session} />`;
  // A member state's delegate comes here to send one: the form first (on a phone, above the list).
  return html`<div class="grid contributions-grid">
    <div class="col-main">${memberState ? submit : list}</div>
    <div class="col-side">${memberState ? list : submit}</div>
  </div>`;
}
