"""The report of proposed conclusions to the next in-person session.

A consultation is strictly consultative: it never decides. The report lists,
per agenda item, the proposed conclusion; or the deferral to the in-person
session with the council member that objected, asked to postpone or proposed
to suspend; the items approved as a package; the items pointed to decision by
correspondence with the majority rule that applies and, once balloted, the
result and each council member's answer (on screen, or by letter with its
reference).
"""

import html
from dataclasses import dataclass

from vcc_protocol.state import Ballot, ConsultationState

PREAMBLE = (
    "This consultation was held under Rule 3.1 of the Rules of Procedure. It is strictly "
    "consultative and takes no decisions: what follows are proposed conclusions, which the "
    "Secretary-General submits to the next in-person session, where any of them may be reopened."
)
BLOCKS = {
    "objection": "objected to the proposed conclusion",
    "postponement": "asked to postpone",
    "suspension": "proposed to suspend the discussion",
}
POLICY_WORDS = {
    "simple_majority_of_voting_council_members": "a simple majority of the council members with the right to vote",
    "simple_majority_of_all_council_members": "a simple majority of all council members",
    "two_thirds_of_voting_council_members": "two thirds of the council members with the right to vote",
}


ANSWER_WORDS = {"yes": "yes", "no": "no", "abstain": "abstains"}
RESULT_WORDS = {"approved": "approved", "not_approved": "not approved"}


@dataclass(frozen=True)
class BallotSummary:
    #: The ballot in one sentence: open until when, or closed with its result and tally.
    status: str
    #: (delegation, its answer in words), in the order of the electorate.
    answers: list[tuple[str, str]]


@dataclass(frozen=True)
class Entry:
    number: int
    code: str
    #: The agenda's section ("" when it has none).
    section: str
    title: str
    documents: list[str]
    #: "Proposed conclusion", "Approved as part of a package", "Deferred to the in-person session", ...
    outcome: str
    #: The proposed conclusion text, when there is one.
    conclusion: str | None
    #: Who blocked, or the majority rule, in words.
    detail: str | None
    #: The ballot of decision by correspondence, once opened.
    ballot: BallotSummary | None = None


@dataclass(frozen=True)
class ConclusionsReport:
    code: str
    title: str
    days: list[str]
    entries: list[Entry]

    def count(self, outcome_prefix: str) -> int:
        return sum(1 for e in self.entries if e.outcome.startswith(outcome_prefix))


def ballot_summary(state: ConsultationState, ballot: Ballot) -> BallotSummary:
    def name(delegation: str) -> str:
        return state.delegations[delegation].name if delegation in state.delegations else delegation

    answers = []
    for delegation in ballot.electorate:
        vote = ballot.votes.get(delegation)
        if vote is None:
            words = "no reply"
        elif vote.reference is not None:
            words = f"{ANSWER_WORDS[vote.answer]} (by letter, {vote.reference})"
        else:
            words = f"{ANSWER_WORDS[vote.answer]} (on screen)"
        answers.append((name(delegation), words))
    voters = len(ballot.electorate)
    if ballot.result is None:
        status = f"Ballot open until {ballot.deadline_local}: {len(ballot.votes)} of {voters} council members with the right to vote have answered."
    else:
        tally = ballot.tally
        status = (
            f"Ballot closed at its deadline ({ballot.deadline_local}): {RESULT_WORDS[ballot.result]}, "
            f"with {tally['yes']} yes, {tally['no']} no, {tally['abstain']} abstention{'' if tally['abstain'] == 1 else 's'} and {voters - len(ballot.votes)} without reply; "
            f"{ballot.required} yes of the {voters} council members with the right to vote were required."
        )
    return BallotSummary(status, answers)


def build(state: ConsultationState) -> ConclusionsReport:
    entries = []
    for ref in state.agenda:
        item = state.items[ref]
        detail = None
        if item.status == "concluded" and item.concluded_by == "package":
            outcome = "Proposed conclusion (approved as part of a package)"
        elif item.status == "concluded":
            outcome = "Proposed conclusion (by consensus)"
        elif item.status == "deferred":
            outcome = "Deferred to the in-person session"
            who = state.delegations[item.blocked_by].name if item.blocked_by in state.delegations else item.blocked_by
            detail = f"{who} {BLOCKS.get(item.block_kind or '', item.block_kind)}."
        elif item.status == "correspondence":
            outcome = "Pointed to decision by correspondence (Rule 3.2)"
            info = item.correspondence
            assert info is not None
            rule = POLICY_WORDS.get(info.policy, info.policy)
            detail = f"Decided by {rule}: {info.required} of {info.voters} votes required."
        else:
            outcome = "Not concluded in this consultation"
        ballot = state.ballots.get(ref)
        summary_ = ballot_summary(state, ballot) if ballot is not None else None
        entries.append(
            Entry(item.number, item.code, item.section, item.title, list(item.documents), outcome, item.conclusion, detail, summary_)
        )
    return ConclusionsReport(state.code, state.title, list(state.days), entries)


def summary(report: ConclusionsReport) -> str:
    return (
        f"{len(report.entries)} items: {report.count('Proposed conclusion')} with a proposed conclusion "
        f"({report.count('Proposed conclusion (approved as part')} approved as a package), "
        f"{report.count('Deferred')} deferred to the in-person session, "
        f"{report.count('Pointed')} pointed to decision by correspondence, "
        f"{report.count('Not concluded')} not concluded."
    )


def sectioned(report: ConclusionsReport) -> list[tuple[Entry, str]]:
    """Each entry with its section's heading where a new section starts ("" elsewhere)."""
    out, shown = [], ""
    for e in report.entries:
        out.append((e, e.section if e.section != shown else ""))
        shown = e.section
    return out


def to_markdown(report: ConclusionsReport) -> str:
    lines = [f"# Report of proposed conclusions: {report.code}", "", f"*{report.title}*", "", PREAMBLE, "", summary(report), ""]
    for e, section in sectioned(report):
        if section:
            lines += [f"## {section}", ""]
        docs = f" ({', '.join(e.documents)})" if e.documents else ""
        lines += [f"### Item {e.number} — {e.code}{docs}", "", e.title, "", f"**{e.outcome}.**", ""]
        if e.detail:
            lines += [e.detail, ""]
        if e.conclusion:
            lines += ["> " + e.conclusion.replace("\n", "\n> "), ""]
        if e.ballot:
            lines += [e.ballot.status, "", *(f"- {who}: {answer}" for who, answer in e.ballot.answers), ""]
    return "\n".join(lines)


def to_html(report: ConclusionsReport) -> str:
    h = html.escape
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Report of proposed conclusions: {h(report.code)}</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem;line-height:1.5}"
        "blockquote{border-left:4px solid #1d4ed8;margin:0;padding:.25rem 1rem;background:#eff6ff}"
        ".deferred{color:#b91c1c}.corr{color:#92400e}</style></head><body>",
        f"<h1>Report of proposed conclusions: {h(report.code)}</h1><p><em>{h(report.title)}</em></p>",
        f"<p>{h(PREAMBLE)}</p><p>{h(summary(report))}</p>",
    ]
    for e, section in sectioned(report):
        if section:
            parts.append(f"<h2>{h(section)}</h2>")
        cls = "deferred" if e.outcome.startswith("Deferred") else "corr" if e.outcome.startswith("Pointed") else ""
        docs = f" ({h(', '.join(e.documents))})" if e.documents else ""
        parts.append(
            f"<section><h3>Item {e.number} — {h(e.code)}{docs}</h3><p>{h(e.title)}</p><p class='{cls}'><strong>{h(e.outcome)}.</strong></p>"
        )
        if e.detail:
            parts.append(f"<p>{h(e.detail)}</p>")
        if e.conclusion:
            parts.append(f"<blockquote>{h(e.conclusion)}</blockquote>")
        if e.ballot:
            rows = "".join(f"<li>{h(who)}: {h(answer)}</li>" for who, answer in e.ballot.answers)
            parts.append(f"<p class='ballot'>{h(e.ballot.status)}</p><ul class='ballot-answers'>{rows}</ul>")
        parts.append("</section>")
    parts.append("</body></html>")
    return "".join(parts)
