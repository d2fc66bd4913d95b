// Decision by correspondence: the ballots on proposed conclusions. A voting
// council member answers yes / no / abstain for its delegation until the
// deadline; the secretariat opens a ballot and records replies received by
// letter. The deadline closes a ballot by itself (core/outcomes.py).
import { useState } from "preact/hooks";
import { html } from "../html.js";
import { t } from "../../i18n/index.js";
import { act } from "../feedback.js";
import { useNow } from "../hooks.js";
import { delegationName, itemTitle } from "../names.js";

const ANSWERS = ["yes", "no", "abstain"];

function ballotsOf(state) {
  return Object.values(state.ballots ?? {}).sort((a, b) => a.opened_at - b.opened_at);
}

function isOpen(ballot, now) {
  return ballot.closed_at === null && now < ballot.deadline;
}

function Result({ ballot }) {
  if (ballot.result === null) return null;
  return html`<p class=${`ballot-result ${ballot.result}`} data-testid="ballot-result" data-result=${ballot.result}>
    <strong>${t(`ballot_${ballot.result}`)}</strong> · ${t("ballot_tally", { ...ballot.tally, required: ballot.required, voters: ballot.electorate.length })}</p>`;
}

/** One line for the outcome card: where the item's ballot stands. */
export function BallotLine({ state, item, now }) {
  const ballot = (state.ballots ?? {})[item];
  if (!ballot) return null;
  const where = ballot.result !== null
    ? html`<strong>${t(`ballot_${ballot.result}`)}</strong> · ${t("ballot_tally", { ...ballot.tally, required: ballot.required, voters: ballot.electorate.length })}`
    : html`${isOpen(ballot, now) ? t("ballot_until", { deadline: ballot.deadline_local }) : t("ballot_closed_at", { deadline: ballot.deadline_local })}
      · ${t("ballot_answered", { n: Object.keys(ballot.votes).length, total: ballot.electorate.length })}`;
  return html`<p class="small" data-testid="outcome-ballot">${t("ballots")}: ${where}</p>`;
}

function answerText(vote) {
  if (!vote) return t("ballot_no_reply");
  const answer = t(`vote_${vote.answer}`);
  return vote.reference ? `${answer} (${t("ballot_by_letter", { reference: vote.reference })})` : answer;
}

function BallotHead({ state, ballot, now }) {
  const item = state.items[ballot.item];
  return html`<h3>${t("item")} ${item.number} · ${item.code}</h3>
    <p class="muted small">${itemTitle(item)}</p>
    <blockquote class="conclusion">${item.conclusion}</blockquote>
    <p class="small">${isOpen(ballot, now) ? t("ballot_until", { deadline: ballot.deadline_local }) : t("ballot_closed_at", { deadline: ballot.deadline_local })}
      · ${t("ballot_answered", { n: Object.keys(ballot.votes).length, total: ballot.electorate.length })}</p>`;
}

/** A delegate's screen: the delegation's answer on each ballot, changeable until the deadline. */
export function DelegateBallots({ session }) {
  const { state } = session;
  const now = useNow(session, 1000);
  const ballots = ballotsOf(state);
  const mine = session.me.delegation;
  if (!ballots.length || !mine) return null;
  return html`<section class="card ballots-card" aria-labelledby="ballots-h" data-testid="ballots">
    <h2 id="ballots-h">${t("ballots")}</h2>
    ${ballots.map((ballot) => {
      const voter = ballot.electorate.includes(mine);
      const given = ballot.votes[mine];
      const open = isOpen(ballot, now);
      return html`<article class="ballot" key=${ballot.item} data-testid="ballot" data-item=${ballot.item}>
        <${BallotHead} state=${state} ballot=${ballot} now=${now} />
        ${voter
          ? html`<p data-testid="ballot-mine" data-answer=${given?.answer ?? ""}>${given ? t("ballot_your_answer", { answer: answerText(given) }) : t("ballot_no_answer_yet")}</p>
            ${open ? html`<div class="row" role="group" aria-label=${t("ballots")}>
              ${ANSWERS.map((answer) => html`<button key=${answer} class=${given?.answer === answer ? "" : "secondary"} aria-pressed=${given?.answer === answer}
                data-testid=${`vote-${answer}`} onClick=${() => act(session, "cast_vote", { item: ballot.item, answer })}>${t(`vote_${answer}`)}</button>`)}
            </div><p class="muted small">${t("ballot_change_until")}</p>` : null}`
          : html`<p class="muted small">${t("ballot_not_voter", { delegation: delegationName(state, mine) })}</p>`}
        <${Result} ballot=${ballot} />
      </article>`;
    })}
  </section>`;
}

function OpenBallotForm({ session }) {
  const { state } = session;
  const pointed = state.agenda.map((ref) => state.items[ref]).filter((i) => i.status === "correspondence" && !(state.ballots ?? {})[i.ref]);
  const [item, setItem] = useState("");
  const [deadline, setDeadline] = useState("");
  const chosen = item || (pointed[0]?.ref ?? "");
  if (!pointed.length) return html`<p class="muted small" data-testid="no-ballot-to-open">${t("ballot_nothing_to_open")}</p>`;
  const submit = async (event) => {
    event.preventDefault();
    const answer = await act(session, "open_ballot", { item: chosen, deadline });
    if (answer.ok) setItem("");
  };
  return html`<form class="stack" onSubmit=${submit} data-testid="open-ballot-form">
    <label>${t("ballot_choose_item")} <select data-testid="ballot-item" value=${chosen} onChange=${(e) => setItem(e.currentTarget.value)}>
      ${pointed.map((i) => html`<option value=${i.ref}>${i.number} · ${i.code}</option>`)}</select></label>
    <label>${t("ballot_deadline", { tz: state.tz })} <input type="datetime-local" required data-testid="ballot-deadline" value=${deadline}
      onInput=${(e) => setDeadline(e.currentTarget.value.slice(0, 16))} /></label>
    <button type="submit" data-testid="open-ballot" disabled=${!deadline}>${t("open_ballot")}</button>
  </form>`;
}

function LetterForm({ session, ballot }) {
  const { state } = session;
  const [delegation, setDelegation] = useState("");
  const [answer, setAnswer] = useState("yes");
  const [reference, setReference] = useState("");
  const submit = async (event) => {
    event.preventDefault();
    const sent = await act(session, "record_vote_by_letter", { item: ballot.item, delegation, answer, reference: reference.trim() });
    if (sent.ok) {
      setDelegation("");
      setReference("");
    }
  };
  return html`<form class="row letter-form" onSubmit=${submit} data-testid="letter-form">
    <label>${t("by_council_member")} <select required data-testid="letter-delegation" value=${delegation} onChange=${(e) => setDelegation(e.currentTarget.value)}>
      <option value="">—</option>${ballot.electorate.map((d) => html`<option value=${d}>${delegationName(state, d)}</option>`)}</select></label>
    <label>${t("ballot_answer")} <select data-testid="letter-answer" value=${answer} onChange=${(e) => setAnswer(e.currentTarget.value)}>
      ${ANSWERS.map((a) => html`<option value=${a}>${t(`vote_${a}`)}</option>`)}</select></label>
    <label>${t("letter_reference")} <input required maxlength="200" data-testid="letter-reference" value=${reference}
      placeholder=${t("letter_reference_placeholder")} onInput=${(e) => setReference(e.currentTarget.value)} /></label>
    <button type="submit" class="small" data-testid="record-letter" disabled=${!delegation || !reference.trim()}>${t("record_letter")}</button>
  </form>`;
}

/** The secretariat's screen: open a ballot, follow the answers, record replies received by letter. */
export function SecretariatBallots({ session }) {
  const { state } = session;
  const now = useNow(session, 1000);
  const ballots = ballotsOf(state);
  return html`<section class="card ballots-card" aria-labelledby="sballots-h" data-testid="secretariat-ballots">
    <h2 id="sballots-h">${t("ballots")}</h2>
    <${OpenBallotForm} session=${session} />
    ${ballots.map((ballot) => html`<article class="ballot" key=${ballot.item} data-testid="ballot" data-item=${ballot.item}>
      <${BallotHead} state=${state} ballot=${ballot} now=${now} />
      <${Result} ballot=${ballot} />
      <table class="ballot-answers"><tbody>${ballot.electorate.map((d) => html`<tr key=${d} data-delegation=${d} data-answer=${ballot.votes[d]?.answer ?? ""}>
        <th scope="row">${delegationName(state, d)}</th><td>${answerText(ballot.votes[d])}</td></tr>`)}</tbody></table>
      ${isOpen(ballot, now) ? html`<details><summary>${t("record_letter")}</summary><${LetterForm} session=${session} ballot=${ballot} /></details>` : null}
    </article>`)}
  </section>`;
}
