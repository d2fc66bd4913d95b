"""The 2021 consultation from the circular to the reports: the agenda consultation
with answers from all 48 council members, the derived agenda, the plan over 9
days, sittings with speeches and outcomes, and both reports in all three formats
(the Word files read back with a DOCX reader)."""

from __future__ import annotations

import io
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import docx
import msgspec
import pytest
from vcc.core import ConsultationState, Rejected, apply, decide, fold, next_deadline
from vcc.core.grouping import tally
from vcc.documents import importers
from vcc.documents.reports import conclusions, docx_render, technical
from vcc_protocol import commands as c
from vcc_protocol.events import Event
from vcc_protocol.vocabulary import SYSTEM_ACTOR

GENEVA = ZoneInfo("Europe/Zurich")


def at(day: str, hhmm: str) -> int:
    return int(datetime.combine(date.fromisoformat(day), time.fromisoformat(hhmm), GENEVA).timestamp() * 1000)


class Run:
    def __init__(self) -> None:
        self.state = ConsultationState()
        self.events: list[Event] = []
        self.now = at("2021-02-15", "09:00")

    def __call__(self, command: c.Command, actor: str = "@admin", when: int | None = None) -> list[Event]:
        self.now = max(self.now, when or self.now)
        while (deadline := next_deadline(self.state)) is not None and deadline <= self.now:
            self._do(c.Tick(id=c.new_id()), SYSTEM_ACTOR, deadline)
        return self._do(command, actor, self.now)

    def _do(self, command: c.Command, actor: str, now: int) -> list[Event]:
        events = decide(self.state, command, actor, now)
        for event in events:
            apply(self.state, event)
        self.events += events
        return events


def test_from_the_circular_to_the_reports() -> None:
    run = Run()
    agenda = importers.example("c21-vcc1-agenda.json")
    for command in [
        importers.consultation_from_agenda(agenda),
        *importers.items_from_agenda_json(agenda),
        *importers.roster_from_csv(importers.example("roster-demo.csv")),
    ]:
        run(command)
    state = run.state
    assert len(state.items) == 76 and len(state.agenda) == 58

    # The agenda consultation: every council member answers every item; three ask for the other group.
    run(c.OpenGrouping(id=c.new_id(), deadline="2021-03-12T23:59"), "@admin", at("2021-02-20", "10:00"))
    council = [d.id for d in state.delegations.values() if d.cls == "council_member"]
    assert len(council) == 48
    speakers = {p.delegation: p.id for p in state.participants.values() if p.designated_speaker}
    movers = {"france": "14", "china": "14", "kenya": "64"}  # item 14 to group 2; item 64 stays (one voice only)
    for n, delegation in enumerate(council):
        for number in state.items:
            answer = "other_group" if movers.get(delegation) == number else "agree"
            run(c.AnswerGrouping(id=c.new_id(), item=number, answer=answer), speakers[delegation], at("2021-03-01", "10:00") + n)
    run(c.ProposeItem(id=c.new_id(), title="Council contribution to the HLPF 2021", group=1), speakers["india"])
    with pytest.raises(Rejected) as late:
        decide(state, c.AnswerGrouping(id=c.new_id(), item="1", answer="agree"), speakers["japan"], at("2021-03-13", "00:00"))
    assert late.value.code == "deadline_passed"
    row14 = next(t for t in tally(state) if t.item == "14")
    assert sorted(row14.other_group) == ["china", "france"] and len(row14.agree) == 46 and row14.no_answer == []
    run(c.CloseGrouping(id=c.new_id(), final={"14": 2}), "@admin", at("2021-03-15", "09:00"))
    assert "14" not in state.agenda and len(state.agenda) == 57 and state.grouping.overrides == ["14"]

    # The plan over the 9 days.
    run(c.PlanAgenda(id=c.new_id()))
    assert state.plan_unplaced == [] and {a.day for a in state.plan} <= set(range(9))

    # Three sittings: speeches, a package, deferrals, a decision by correspondence.
    chair = "presiding-vice-chair"
    first = state.days[0]
    run(c.OpenSitting(id=c.new_id()), chair, at(first, "12:00"))
    package = [n for n in state.agenda if state.items[n].package]
    for number in package:
        run(c.ProposeConclusion(id=c.new_id(), item=number, text=f"The council takes note of item {number}."), chair)
    run(c.ProposePackage(id=c.new_id(), items=package), chair)
    run(c.PullFromPackage(id=c.new_id(), item=package[-1]), speakers["germany"])
    run(c.ApprovePackage(id=c.new_id()), chair)
    for minute, (number, speaker) in enumerate([("3", "argentina"), ("3", "chile"), ("4", "orbital-relay-networks-ltd"), ("5", "egypt")]):
        if state.current_item != number:
            run(c.TakeUpItem(id=c.new_id(), item=number), chair, at(first, f"12:{10 + minute * 5:02d}"))
        run(c.RequestFloor(id=c.new_id()), speakers[speaker], at(first, f"12:{11 + minute * 5:02d}"))
        run(c.GrantFloor(id=c.new_id()), chair)
        run(c.GoLive(id=c.new_id()), speakers[speaker], at(first, f"12:{11 + minute * 5:02d}:05"))
        run(c.YieldFloor(id=c.new_id()), speakers[speaker], at(first, f"12:{13 + minute * 5:02d}"))
    run(c.ProposeConclusion(id=c.new_id(), item="3", text="The council endorses the report."), chair)
    run(c.RecordConsensus(id=c.new_id(), item="3"), chair)
    run(c.BlockItem(id=c.new_id(), item="4", kind="objection", delegation="russian-federation"), chair)
    run(c.ProposeConclusion(id=c.new_id(), item="5", text="Approve the amendment."), chair)
    run(c.PointToCorrespondence(id=c.new_id(), item="5"), chair)
    run(c.ProposeConclusion(id=c.new_id(), item="6", text="Noted."), chair)
    run(c.BlockItem(id=c.new_id(), item="6", kind="postponement"), speakers["brazil"])
    run(c.TakeUpItem(id=c.new_id(), item="10"), chair, at(first, "14:59"))
    assert state.sitting is not None
    run(c.RequestFloor(id=c.new_id()), speakers["cuba"], at(state.days[1], "11:00"))  # the tick at 15:00 closed day one
    assert state.sittings[0].close_reason == "slot_end"

    # The decision by correspondence on item 5: the secretariat opens the ballot for a week;
    # 30 council members answer on screen (one changes its mind), two by letter; the deadline closes it.
    last = state.days[-1]
    run(c.OpenBallot(id=c.new_id(), item="5", deadline=f"{last}T17:00"), "@admin", at(state.days[1], "16:00"))
    voting = [d.id for d in state.delegations.values() if d.cls == "council_member" and d.voting_rights]
    assert state.ballots["5"].electorate == voting and state.ballots["5"].required == 24
    for n, delegation in enumerate(voting[:30]):
        run(c.CastVote(id=c.new_id(), item="5", answer="no" if n < 5 else "yes"), speakers[delegation], at(state.days[2], "10:00") + n)
    run(c.CastVote(id=c.new_id(), item="5", answer="abstain"), speakers[voting[0]])
    run(c.RecordVoteByLetter(id=c.new_id(), item="5", delegation=voting[30], answer="yes", reference="Note verbale 2021/117"))
    run(c.RecordVoteByLetter(id=c.new_id(), item="5", delegation=voting[31], answer="no", reference="Letter of 23 March 2021"))
    run(c.Tick(id=c.new_id()), SYSTEM_ACTOR, at(last, "17:00"))  # the shell's tick at the deadline
    ballot = state.ballots["5"]
    assert (ballot.result, ballot.tally) == ("approved", {"yes": 26, "no": 5, "abstain": 1})

    # Both reports, in all three formats.
    report = conclusions.build(state)
    text = conclusions.to_markdown(report)
    assert "The council endorses the report." in text and "Russian Federation objected to the proposed conclusion." in text
    assert "Brazil asked to postpone." in text and "24 of 47 votes required" in text
    names = {d: state.delegations[d].name for d in voting}
    assert (
        f"Ballot closed at its deadline ({last} 17:00 Europe/Zurich): approved, with 26 yes, 5 no, 1 abstention and 15 without reply; "
        "24 yes of the 47 council members with the right to vote were required."
    ) in text
    assert f"- {names[voting[0]]}: abstains (on screen)" in text and f"- {names[voting[6]]}: yes (on screen)" in text
    assert f"- {names[voting[30]]}: yes (by letter, Note verbale 2021/117)" in text and f"- {names[voting[46]]}: no reply" in text
    assert conclusions.to_html(report).count("<section>") == 57
    word = docx.Document(io.BytesIO(docx_render.conclusions_docx(report)))
    paragraphs = "\n".join(p.text for p in word.paragraphs)
    assert "Proposed conclusion (approved as part of a package)" in paragraphs and "Deferred to the in-person session" in paragraphs
    answers = {row.cells[0].text: row.cells[1].text for table in word.tables for row in table.rows}
    assert (
        answers[names[voting[31]]] == "no (by letter, Letter of 23 March 2021)"
        and len([a for a in answers.values() if a == "no reply"]) == 15
    )
    tech = technical.build(state)
    # a sector member spoke too: four speakers, three of them states
    assert "4 participants from 3 states, speakers from 3 states (4 speeches)" in technical.to_markdown(
        tech
    ) and "<img" in technical.to_html(tech)
    tech_word = docx.Document(io.BytesIO(docx_render.technical_docx(tech)))
    assert tech_word.inline_shapes and any("Time to floor" in p.text for p in tech_word.paragraphs)

    # Everything above is a fold of the log.
    assert msgspec.to_builtins(fold(run.events)) == msgspec.to_builtins(state)
