"""The permission table, exhaustively: every command type from every role.

``EXPECTED`` is who may send what, written from the domain (``domain.md``)
rather than read from the core; it must equal the core's table. Then each
command is tried by every actor in a state where it can succeed: a refused
pair raises ``not_allowed`` (and changes nothing), an allowed pair goes
through (or, for the one command that cannot succeed twice, fails for a
reason of state, never ``not_allowed``).
"""

from collections.abc import Callable
from functools import cache

import pytest
from corekit import Consultation, builtins, interpreter, member, ms, speaker
from vcc.core import Rejected, decide
from vcc.core.actors import PERMISSIONS
from vcc_protocol import commands as c

#: The actor who tries each command on behalf of a role. "@system" is the
#: shell's clock, "@media" the media adapter, and "@admin" the admin API,
#: which acts as the secretariat.
ACTORS = {
    "delegate": speaker("ch"),
    "chair": "chair",
    "secretariat": "sec",
    "interpreter": interpreter("en"),
    "technical": "tech",
    "captioner": "cap",
    "@system": "@system",
    "@media": "@media",
    "@admin": "@admin",
}
ROLE_OF = {"@system": "system", "@media": "media", "@admin": "secretariat"}

SETUP = {"secretariat", "@admin"}
EVERY_PARTICIPANT = {"delegate", "chair", "secretariat", "interpreter", "technical", "captioner", "@admin"}

EXPECTED: dict[type[c.Command], set[str]] = {
    c.CreateConsultation: SETUP,
    c.AddDelegation: SETUP,
    c.SetVotingRights: SETUP,
    c.AddParticipant: SETUP,
    c.AddItem: SETUP,
    c.SetItemMinutes: SETUP,
    c.PlanAgenda: SETUP,
    c.SetSpeakingLimit: SETUP | {"chair"},
    c.OpenSitting: SETUP | {"chair"},
    c.CloseSitting: {"chair"},
    c.TakeUpItem: {"chair"},
    c.Tick: {"@system"},
    c.RequestFloor: {"delegate"},
    c.WithdrawFloorRequest: {"delegate"},
    c.MoveFloorRequest: {"chair"},
    c.CloseSpeakersList: {"chair"},
    c.ReopenSpeakersList: {"chair"},
    c.GrantFloor: {"chair"},
    c.RevokeGrant: {"chair"},
    c.GoLive: {"delegate"},
    c.YieldFloor: {"delegate"},
    c.EndSpeech: {"chair"},
    c.TakeBoothDuty: {"interpreter"},
    c.RequestHandover: {"interpreter"},
    c.AcceptHandover: {"interpreter"},
    c.SetBoothMic: {"interpreter"},
    c.SetBoothSource: {"interpreter"},
    c.BoothFinished: {"interpreter"},
    c.OverrideTail: {"chair"},
    c.SignalSpeakSlowly: {"interpreter"},
    c.ObserveBoothSilent: {"@media"},
    c.ObserveBothTalking: {"@media"},
    c.ObserveSpeakerHeard: {"@media"},
    c.PostCaption: {"captioner"},
    c.CorrectCaption: {"captioner"},
    c.SetWebcast: SETUP,
    c.ProposeConclusion: SETUP | {"chair"},
    c.RecordConsensus: {"chair"},
    c.BlockItem: {"delegate", "chair"},
    c.ProposePackage: {"chair"},
    c.PullFromPackage: {"delegate", "chair"},
    c.ApprovePackage: {"chair"},
    c.PointToCorrespondence: {"chair"},
    c.OpenBallot: SETUP,
    c.CastVote: {"delegate"},
    c.RecordVoteByLetter: SETUP,
    c.OpenGrouping: SETUP,
    c.AnswerGrouping: {"delegate"},
    c.ProposeItem: {"delegate"},
    c.CloseGrouping: SETUP,
    c.SubmitContribution: {"delegate"},
    c.RecordConnectionTest: EVERY_PARTICIPANT,
    c.RecordAttendance: EVERY_PARTICIPANT,
    c.RequestHelp: EVERY_PARTICIPANT,
    c.ResolveHelp: {"technical"},
}


# --- a state in which each command can succeed ----------------------------------------


def _base() -> Consultation:
    return Consultation()


def _sitting() -> Consultation:
    cons = Consultation()
    cons.open_sitting(0, "12:00")
    cons.take_up("3")
    return cons


def _hands(*delegations: str) -> Consultation:
    cons = _sitting()
    for d in delegations:
        cons.hand(speaker(d))
    return cons


def _granted() -> Consultation:
    cons = _hands("ch")
    cons.grant()
    return cons


def _speaking() -> Consultation:
    cons = _granted()
    cons.go_live(speaker("ch"))
    return cons


def _closed_list() -> Consultation:
    cons = _sitting()
    cons.run(c.CloseSpeakersList(id=c.new_id()), "chair")
    return cons


def _slot_over() -> Consultation:
    cons = _sitting()
    cons.now = cons.at("15:00")
    return cons


def _at_noon() -> Consultation:
    cons = Consultation()
    cons.now = cons.at("12:00")
    return cons


def _partner_on_duty(handover: bool) -> Consultation:
    cons = Consultation()
    cons.run(c.TakeBoothDuty(id=c.new_id()), interpreter("en", 2))
    if handover:
        cons.run(c.RequestHandover(id=c.new_id()), interpreter("en", 2))
    return cons


def _on_duty() -> Consultation:
    cons = Consultation()
    cons.run(c.TakeBoothDuty(id=c.new_id()), interpreter("en"))
    return cons


def _tail() -> Consultation:
    cons = _sitting()
    cons.booth_live("en")
    cons.speak("ch", seconds=30)
    return cons


def _proposed(*items: str, package: bool = False) -> Consultation:
    cons = Consultation()
    for item in items:
        cons.run(c.ProposeConclusion(id=c.new_id(), item=item, text="Takes note."), "sec")
    if package:
        cons.run(c.ProposePackage(id=c.new_id(), items=list(items)), "chair")
    return cons


def _pointed(ballot: bool) -> Consultation:
    cons = _proposed("4")
    cons.run(c.PointToCorrespondence(id=c.new_id(), item="4"), "chair")
    if ballot:
        cons.run(c.OpenBallot(id=c.new_id(), item="4", deadline="2021-06-10T17:00"), "sec")
    return cons


def _package() -> Consultation:
    cons = Consultation()
    cons.run(c.ProposePackage(id=c.new_id(), items=["1", "2"]), "chair")
    return cons


def _weeks_before() -> Consultation:
    """Early May 2021: before the agenda consultation's and the contributions' deadlines."""
    return Consultation(start=ms("2021-05-03", "10:00"))


def _grouping(after_deadline: bool) -> Consultation:
    cons = _weeks_before()
    cons.run(c.OpenGrouping(id=c.new_id(), deadline="2021-05-10T23:59"), "sec")
    if after_deadline:
        cons.now = ms("2021-05-11", "09:00")
    return cons


def _captioned() -> Consultation:
    cons = _sitting()
    cons.run(c.PostCaption(id=c.new_id(), text="The chair opens the sitting."), "cap")
    cons.later(1)
    return cons


def _help() -> Consultation:
    cons = Consultation()
    cons.run(c.RequestHelp(id=c.new_id(), message="No sound"), speaker("ch"))
    return cons


SCENARIOS: dict[type[c.Command], tuple[Callable[[], Consultation], c.Command]] = {
    c.CreateConsultation: (_base, c.CreateConsultation(id=c.new_id(), code="X", title="X", days=["2021-06-08"])),
    c.AddDelegation: (_base, c.AddDelegation(id=c.new_id(), delegation="new", name="New", cls="observer_state")),
    c.SetVotingRights: (_base, c.SetVotingRights(id=c.new_id(), delegation="ch", voting_rights=False)),
    c.AddParticipant: (_base, c.AddParticipant(id=c.new_id(), participant="new", name="New", role="delegate", delegation="ch")),
    c.AddItem: (_base, c.AddItem(id=c.new_id(), item="6", number=6, code="ADM 3", title="New")),
    c.SetItemMinutes: (_base, c.SetItemMinutes(id=c.new_id(), item="3", minutes=20)),
    c.PlanAgenda: (_base, c.PlanAgenda(id=c.new_id())),
    c.SetSpeakingLimit: (_base, c.SetSpeakingLimit(id=c.new_id(), cls="observer", seconds=90, item="3")),
    c.OpenSitting: (_at_noon, c.OpenSitting(id=c.new_id())),
    c.CloseSitting: (_sitting, c.CloseSitting(id=c.new_id())),
    c.TakeUpItem: (_base, c.TakeUpItem(id=c.new_id(), item="3")),
    c.Tick: (_slot_over, c.Tick(id=c.new_id())),
    c.RequestFloor: (_sitting, c.RequestFloor(id=c.new_id())),
    c.WithdrawFloorRequest: (lambda: _hands("ch"), c.WithdrawFloorRequest(id=c.new_id())),
    c.MoveFloorRequest: (
        lambda: _hands("cn", "ch"),
        c.MoveFloorRequest(id=c.new_id(), delegation="ch", position=1, reason="Author of the proposal"),
    ),
    c.CloseSpeakersList: (_sitting, c.CloseSpeakersList(id=c.new_id())),
    c.ReopenSpeakersList: (_closed_list, c.ReopenSpeakersList(id=c.new_id())),
    c.GrantFloor: (lambda: _hands("ch"), c.GrantFloor(id=c.new_id())),
    c.RevokeGrant: (_granted, c.RevokeGrant(id=c.new_id())),
    c.GoLive: (_granted, c.GoLive(id=c.new_id())),
    c.YieldFloor: (_speaking, c.YieldFloor(id=c.new_id())),
    c.EndSpeech: (_speaking, c.EndSpeech(id=c.new_id())),
    c.TakeBoothDuty: (_base, c.TakeBoothDuty(id=c.new_id())),
    c.RequestHandover: (lambda: _partner_on_duty(False), c.RequestHandover(id=c.new_id())),
    c.AcceptHandover: (lambda: _partner_on_duty(True), c.AcceptHandover(id=c.new_id())),
    c.SetBoothMic: (_on_duty, c.SetBoothMic(id=c.new_id(), live=True)),
    c.SetBoothSource: (_base, c.SetBoothSource(id=c.new_id(), source="fr")),
    c.BoothFinished: (_tail, c.BoothFinished(id=c.new_id())),
    c.OverrideTail: (_tail, c.OverrideTail(id=c.new_id())),
    c.SignalSpeakSlowly: (_speaking, c.SignalSpeakSlowly(id=c.new_id())),
    c.ObserveBoothSilent: (_tail, c.ObserveBoothSilent(id=c.new_id(), booth="en")),
    c.ObserveBothTalking: (_tail, c.ObserveBothTalking(id=c.new_id(), booth="en", talking=True)),
    c.ObserveSpeakerHeard: (_granted, c.ObserveSpeakerHeard(id=c.new_id(), participant=speaker("ch"))),
    c.PostCaption: (_sitting, c.PostCaption(id=c.new_id(), text="The chair opens the sitting.")),
    c.CorrectCaption: (_captioned, c.CorrectCaption(id=c.new_id(), line=1, text="The chair opened the sitting.")),
    c.SetWebcast: (_base, c.SetWebcast(id=c.new_id(), public=True)),
    c.ProposeConclusion: (_base, c.ProposeConclusion(id=c.new_id(), item="3", text="Takes note.")),
    c.RecordConsensus: (lambda: _proposed("3"), c.RecordConsensus(id=c.new_id(), item="3")),
    c.BlockItem: (_base, c.BlockItem(id=c.new_id(), item="4", kind="objection", delegation="ch")),
    c.ProposePackage: (_base, c.ProposePackage(id=c.new_id(), items=["1", "2"])),
    c.PullFromPackage: (_package, c.PullFromPackage(id=c.new_id(), item="1", delegation="ch")),
    c.ApprovePackage: (lambda: _proposed("1", "2", package=True), c.ApprovePackage(id=c.new_id())),
    c.PointToCorrespondence: (lambda: _proposed("4"), c.PointToCorrespondence(id=c.new_id(), item="4")),
    c.OpenBallot: (lambda: _pointed(False), c.OpenBallot(id=c.new_id(), item="4", deadline="2021-06-10T17:00")),
    c.CastVote: (lambda: _pointed(True), c.CastVote(id=c.new_id(), item="4", answer="yes")),
    c.RecordVoteByLetter: (
        lambda: _pointed(True),
        c.RecordVoteByLetter(id=c.new_id(), item="4", delegation="cn", answer="no", reference="Note 2021/12"),
    ),
    c.RecordConnectionTest: (
        _base,
        c.RecordConnectionTest(
            id=c.new_id(),
            transport="websocket",
            websocket_ok=True,
            rtt_ms=40,
            jitter_ms=3,
            clock_offset_ms=-12,
            microphone="ok",
            camera="none",
            input_level=0.4,
            browser="Firefox 89",
        ),
    ),
    c.OpenGrouping: (_weeks_before, c.OpenGrouping(id=c.new_id(), deadline="2021-05-10T23:59")),
    c.AnswerGrouping: (lambda: _grouping(False), c.AnswerGrouping(id=c.new_id(), item="3", answer="agree")),
    c.ProposeItem: (lambda: _grouping(False), c.ProposeItem(id=c.new_id(), title="An urgent item")),
    c.CloseGrouping: (lambda: _grouping(True), c.CloseGrouping(id=c.new_id())),
    c.SubmitContribution: (
        _weeks_before,
        c.SubmitContribution(
            id=c.new_id(), contribution="ch-3", item="3", title="Comments of Switzerland", comments="We support the proposal."
        ),
    ),
    c.RecordAttendance: (_base, c.RecordAttendance(id=c.new_id())),
    c.RequestHelp: (_base, c.RequestHelp(id=c.new_id(), message="No sound")),
    c.ResolveHelp: (_help, c.ResolveHelp(id=c.new_id(), participant=speaker("ch"))),
}
#: Allowed pairs that cannot succeed in any state, and the code they get instead.
ALLOWED_BUT_REFUSED_BY_STATE = {c.CreateConsultation: "already_exists"}


@cache
def scenario(kind: type[c.Command]) -> tuple[Consultation, c.Command]:
    build, command = SCENARIOS[kind]
    return build(), command


def test_expected_table_is_the_core_table() -> None:
    core = {kind: {a for a in ACTORS if ROLE_OF.get(a, a) in roles} for kind, roles in PERMISSIONS.items()}
    assert core == EXPECTED


def test_every_command_type_has_a_scenario() -> None:
    assert set(SCENARIOS) == set(EXPECTED) == set(c.COMMAND_TYPES)


PAIRS = [(kind, role) for kind in c.COMMAND_TYPES for role in ACTORS]


@pytest.mark.parametrize(("kind", "role"), PAIRS, ids=[f"{k.__name__}-{r}" for k, r in PAIRS])
def test_permission(kind: type[c.Command], role: str) -> None:
    cons, command = scenario(kind)
    before = builtins(cons.state)
    try:
        events = decide(cons.state, command, ACTORS[role], cons.now)
    except Rejected as rejected:
        code = rejected.code
    else:
        code = None
    assert builtins(cons.state) == before
    if role not in EXPECTED[kind]:
        assert code == "not_allowed"
    elif kind in ALLOWED_BUT_REFUSED_BY_STATE:
        assert code == ALLOWED_BUT_REFUSED_BY_STATE[kind]
    else:
        assert code is None and events, f"{kind.__name__} by {role} was refused: {code}"


def test_a_second_member_of_the_delegation_is_the_same_delegate() -> None:
    # The table is about roles: any member of a delegation holds the delegate role.
    cons, command = scenario(c.WithdrawFloorRequest)
    assert decide(cons.state, command, member("ch"), cons.now)
