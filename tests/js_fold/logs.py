"""Event logs made by the Python core, to check the browser's fold against it.

``scripted_log`` walks through every kind of event on purpose; ``random_log``
throws random commands from random participants at the core, at random
moments, and keeps the events of those it accepts. Both run the pure core
(``decide`` + ``apply``): no server, no clock.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from vcc.core import ConsultationState, Rejected, apply, decide
from vcc_protocol import commands as c
from vcc_protocol.events import BothPartnersLive, Event
from vcc_protocol.vocabulary import ADMIN_ACTOR, LANGUAGES, MEDIA_ACTOR, SYSTEM_ACTOR
from vcc_testkit.consultations import (
    CAPTIONER,
    CHAIR,
    COUNCIL,
    COUNCIL_NON_SPEAKER,
    FRENCH_SPEAKER,
    INTERPRETER,
    OBSERVER,
    OBSERVER_STATE,
    PARTNER,
    SECTOR,
    TECHNICAL,
    live_commands,
)

#: 2026-06-08 10:00 UTC: a Monday, inside the test slot of live_commands.
START = int(datetime(2026, 6, 8, 10, 0, tzinfo=UTC).timestamp() * 1000)
SECOND = 1_000
MINUTE = 60_000


@dataclass
class Log:
    """The core's state and the events it produced, with a clock the script moves."""

    now: int = START
    state: ConsultationState = field(default_factory=ConsultationState)
    events: list[Event] = field(default_factory=list)
    #: (number of events so far, now) after each event (and each command that made none):
    #: where the fold is compared, so that events of one command are checked one by one.
    checkpoints: list[tuple[int, int]] = field(default_factory=list)

    def run(self, actor: str, command: c.Command, after_ms: int = 0) -> bool:
        """Move the clock, send the command; True if the core accepted it."""
        self.now += after_ms
        try:
            events = decide(self.state, command, actor, self.now)
        except Rejected:
            return False
        for event in events:
            apply(self.state, event)
            self.events.append(event)
            self.checkpoints.append((len(self.events), self.now))
        if not events:
            self.checkpoints.append((len(self.events), self.now))
        return True

    def must(self, actor: str, command: c.Command, after_ms: int = 0) -> None:
        assert self.run(actor, command, after_ms), f"the core refused {command!r} from {actor}"

    def wire_events(self, redacted: bool = False) -> list[dict[str, Any]]:
        """The events as the gateway sends them (``msgspec.to_builtins``), redacted for the public room."""
        from vcc_protocol.events import redact

        return [msgspec.to_builtins(redact(e) if redacted else e) for e in self.events]


def setup(log: Log) -> None:
    """The live test consultation, open for written contributions until tomorrow."""
    commands = live_commands(log.now)
    create = commands[0]
    assert isinstance(create, c.CreateConsultation)
    tomorrow = (date.fromisoformat(create.days[0]) + timedelta(days=1)).isoformat()
    commands[0] = msgspec.structs.replace(create, contributions_deadline=tomorrow)
    for command in commands:
        log.must(ADMIN_ACTOR, command)


def local_time(log: Log, after_ms: int) -> str:
    """A moment as the secretariat writes it: wall-clock time in the consultation's zone."""
    moment = datetime.fromtimestamp((log.now + after_ms) / 1000, ZoneInfo(log.state.tz))
    return moment.strftime("%Y-%m-%dT%H:%M")


def scripted_log() -> Log:
    """Every kind of event, in a plausible sitting."""
    log = Log()
    setup(log)
    fr, en, es, ar = INTERPRETER["fr"], INTERPRETER["en"], INTERPRETER["es"], INTERPRETER["ar"]
    log.must(ADMIN_ACTOR, c.OpenGrouping(id=c.new_id(), deadline=local_time(log, 20 * MINUTE)))
    log.must(COUNCIL[0], c.AnswerGrouping(id=c.new_id(), item="3", answer="agree"))
    log.must(COUNCIL[1], c.AnswerGrouping(id=c.new_id(), item="12", answer="other_group"))
    log.must(COUNCIL[2], c.ProposeItem(id=c.new_id(), title="Remote participation in the next in-person session", group=2))
    log.must(
        COUNCIL[0],
        c.SubmitContribution(
            id=c.new_id(),
            contribution="c-argentina-1",
            item="3",
            title="Comments on the report",
            co_submitters=["brazil"],
            document="C21/8",
            comments="We welcome the report.",
            way_forward="Take note of it.",
        ),
    )
    for participant in (COUNCIL[0], CHAIR, TECHNICAL):
        log.must(participant, c.RecordAttendance(id=c.new_id()))
    log.must(ADMIN_ACTOR, c.SetVotingRights(id=c.new_id(), delegation="paraguay", voting_rights=True))
    log.must(ADMIN_ACTOR, c.SetItemMinutes(id=c.new_id(), item="3", minutes=20))
    log.must(CHAIR, c.SetSpeakingLimit(id=c.new_id(), cls="council_member", seconds=60, item="3"))
    log.must(CHAIR, c.SetSpeakingLimit(id=c.new_id(), cls="observer", seconds=90))
    log.must(CHAIR, c.TakeUpItem(id=c.new_id(), item="3"), 5 * SECOND)
    log.must(ADMIN_ACTOR, c.SetWebcast(id=c.new_id(), public=True))
    log.must(CAPTIONER, c.PostCaption(id=c.new_id(), text="The chair takes up item 3."))
    log.must(CAPTIONER, c.CorrectCaption(id=c.new_id(), line=1, text="The chair takes up item three."), SECOND)
    for n in range(2, 72):  # more than the state keeps: the oldest lines roll off in both folds
        log.must(CAPTIONER, c.PostCaption(id=c.new_id(), text=f"Line {n}."), 500)
    log.must(CAPTIONER, c.CorrectCaption(id=c.new_id(), line=60, text="Line sixty, corrected."), 500)
    for booth in (fr, en, es, ar):
        log.must(booth, c.TakeBoothDuty(id=c.new_id()))
    log.must(es, c.SetBoothSource(id=c.new_id(), source="en"))
    log.must(ar, c.SetBoothSource(id=c.new_id(), source="es"))
    log.must(fr, c.SetBoothMic(id=c.new_id(), live=True))
    log.must(en, c.SetBoothMic(id=c.new_id(), live=True))
    for delegate in (SECTOR, OBSERVER, OBSERVER_STATE, COUNCIL[0]):
        log.must(delegate, c.RequestFloor(id=c.new_id()), 700)
    log.must(COUNCIL[1], c.RequestFloor(id=c.new_id(), point_of_order=True), 300)
    log.must(CHAIR, c.MoveFloorRequest(id=c.new_id(), delegation="chile", position=2, reason="asked to speak before the observer"))
    log.must(COUNCIL_NON_SPEAKER, c.RequestFloor(id=c.new_id(), point_of_order=True), 300)  # queued already: keeps its place
    log.must(COUNCIL[0], c.WithdrawFloorRequest(id=c.new_id(), point_of_order=True), 300)
    log.must(OBSERVER, c.WithdrawFloorRequest(id=c.new_id()), SECOND)
    log.must(CHAIR, c.CloseSpeakersList(id=c.new_id()))
    log.must(CHAIR, c.ReopenSpeakersList(id=c.new_id()))
    log.must(OBSERVER, c.RequestFloor(id=c.new_id()), SECOND)
    log.must(CHAIR, c.GrantFloor(id=c.new_id()), 2 * SECOND)
    log.must(CHAIR, c.RevokeGrant(id=c.new_id()), 20 * SECOND)
    log.must(CHAIR, c.GrantFloor(id=c.new_id(), delegation="argentina"), SECOND)
    log.must(MEDIA_ACTOR, c.ObserveSpeakerHeard(id=c.new_id(), participant=COUNCIL[0]), 900)  # heard before going live
    log.must(COUNCIL[0], c.GoLive(id=c.new_id()), 1_600)
    log.must(fr, c.SignalSpeakSlowly(id=c.new_id()), 10 * SECOND)
    log.must(SYSTEM_ACTOR, c.Tick(id=c.new_id()), 55 * SECOND)  # past the 60 s limit of item 3: speaking_time_exceeded
    log.must(COUNCIL[0], c.YieldFloor(id=c.new_id()), 5 * SECOND)  # fr and en live: the tail holds
    log.must(MEDIA_ACTOR, c.ObserveBothTalking(id=c.new_id(), booth="en", talking=True), 300)  # the partner off duty talks too
    log.must(MEDIA_ACTOR, c.ObserveBothTalking(id=c.new_id(), booth="en", talking=False), 2 * SECOND)  # and stops: the alarm clears
    log.must(MEDIA_ACTOR, c.ObserveBoothSilent(id=c.new_id(), booth="fr"), SECOND)  # the media heard the French booth stop
    log.must(en, c.BoothFinished(id=c.new_id()), SECOND)  # the last booth: tail ended, "finished"
    log.must(CHAIR, c.GrantFloor(id=c.new_id()), SECOND)
    log.must(OBSERVER_STATE, c.GoLive(id=c.new_id()), 3 * SECOND)
    log.must(MEDIA_ACTOR, c.ObserveSpeakerHeard(id=c.new_id(), participant=OBSERVER_STATE), 400)  # heard after going live
    log.must(CHAIR, c.EndSpeech(id=c.new_id()), 40 * SECOND)
    log.must(CHAIR, c.OverrideTail(id=c.new_id()), SECOND)
    log.must(CHAIR, c.GrantFloor(id=c.new_id()), SECOND)
    log.must(OBSERVER, c.GoLive(id=c.new_id()), 1_800)
    log.must(OBSERVER, c.YieldFloor(id=c.new_id()), 30 * SECOND)
    log.must(SYSTEM_ACTOR, c.Tick(id=c.new_id()), 5 * SECOND)  # the tail elapsed
    log.must(PARTNER["fr"], c.RequestHandover(id=c.new_id()))
    log.must(fr, c.AcceptHandover(id=c.new_id()))
    log.must(PARTNER["fr"], c.SetBoothMic(id=c.new_id(), live=True))  # the handover closed the microphone: the incoming opens it
    log.must(CHAIR, c.TakeUpItem(id=c.new_id(), item="4"), SECOND)
    log.must(FRENCH_SPEAKER, c.RequestFloor(id=c.new_id()))
    log.must(CHAIR, c.GrantFloor(id=c.new_id()))
    log.must(FRENCH_SPEAKER, c.GoLive(id=c.new_id()), 2 * SECOND)
    log.must(SYSTEM_ACTOR, c.Tick(id=c.new_id()), 31 * MINUTE)  # the interpreters' turn: handover due, and the limit
    log.must(FRENCH_SPEAKER, c.YieldFloor(id=c.new_id()), SECOND)
    log.must(ADMIN_ACTOR, c.CloseGrouping(id=c.new_id(), final={"12": 2}))  # past the deadline now: item 12 leaves the agenda
    log.must(CHAIR, c.ProposeConclusion(id=c.new_id(), item="3", text="The consultation takes note of the report."))
    log.must(CHAIR, c.RecordConsensus(id=c.new_id(), item="3"))
    log.must(ADMIN_ACTOR, c.ProposeConclusion(id=c.new_id(), item="4", text="The consultation endorses the proposal."))
    log.must(COUNCIL[2], c.BlockItem(id=c.new_id(), item="4", kind="objection"))
    log.must(CHAIR, c.BlockItem(id=c.new_id(), item="9", kind="postponement", delegation="mexico"))
    log.must(CHAIR, c.ProposePackage(id=c.new_id(), items=["5", "6", "7"]))
    log.must(COUNCIL_NON_SPEAKER, c.PullFromPackage(id=c.new_id(), item="6"))
    for item in ("5", "7", "8"):
        log.must(CHAIR, c.ProposeConclusion(id=c.new_id(), item=item, text=f"Proposed conclusion on item {item}."))
    log.must(CHAIR, c.ApprovePackage(id=c.new_id()))
    log.must(CHAIR, c.PointToCorrespondence(id=c.new_id(), item="8"))
    log.must(ADMIN_ACTOR, c.OpenBallot(id=c.new_id(), item="8", deadline=local_time(log, 30 * MINUTE)))
    log.must(COUNCIL[0], c.CastVote(id=c.new_id(), item="8", answer="yes"))
    log.must(COUNCIL[1], c.CastVote(id=c.new_id(), item="8", answer="no"))
    log.must(COUNCIL[1], c.CastVote(id=c.new_id(), item="8", answer="abstain"))
    log.must(
        ADMIN_ACTOR, c.RecordVoteByLetter(id=c.new_id(), item="8", delegation="canada", answer="yes", reference="Note verbale 2026/41")
    )
    log.must(
        COUNCIL[1],
        c.RecordConnectionTest(
            id=c.new_id(),
            transport="websocket",
            websocket_ok=True,
            rtt_ms=12.5,
            jitter_ms=1.25,
            clock_offset_ms=-3.0,
            microphone="ok",
            camera="missing",
            input_level=0.31,
            browser="Chromium 156",
        ),
    )
    log.must(COUNCIL[1], c.RequestHelp(id=c.new_id(), message="I cannot hear the French channel"))
    log.must(OBSERVER, c.RequestHelp(id=c.new_id(), message="Which document?"))
    log.must(TECHNICAL, c.ResolveHelp(id=c.new_id(), participant=COUNCIL[1]))
    log.must(ADMIN_ACTOR, c.PlanAgenda(id=c.new_id()))
    log.must(CHAIR, c.CloseSitting(id=c.new_id()), MINUTE)
    log.must(CHAIR, c.OpenSitting(id=c.new_id()), 10 * MINUTE)
    log.must(CHAIR, c.TakeUpItem(id=c.new_id(), item="10"))
    log.must(COUNCIL[0], c.RequestFloor(id=c.new_id()))
    log.must(CHAIR, c.GrantFloor(id=c.new_id()))
    log.must(COUNCIL[0], c.GoLive(id=c.new_id()), SECOND)
    slot_end = log.state.sitting.ends_at  # type: ignore[union-attr]
    log.must(SYSTEM_ACTOR, c.Tick(id=c.new_id()), slot_end - log.now + 5 * SECOND)  # the slot end cuts the speech
    # An alarm older logs hold (a partner off duty opened a second microphone); the core
    # writes none any more, and both folds must read it as changing nothing.
    old = BothPartnersLive(at=log.now, actor=PARTNER["en"], booth="en")
    apply(log.state, old)
    log.events.append(old)
    log.checkpoints.append((len(log.events), log.now))
    return log


def random_log(seed: int, commands: int = 300) -> Log:
    """Random commands from random participants; the core keeps what its rules accept."""
    rng = random.Random(seed)
    log = Log()
    setup(log)
    state = log.state
    delegates = [p.id for p in state.participants.values() if p.role == "delegate"]
    # A few delegations of every class do the talking, so that queues form.
    talkers = [COUNCIL[0], COUNCIL[1], COUNCIL[2], COUNCIL_NON_SPEAKER, OBSERVER_STATE, OBSERVER, SECTOR, FRENCH_SPEAKER] + rng.sample(
        delegates, 6
    )
    interpreters = [*INTERPRETER.values(), *PARTNER.values()]
    items = list(state.agenda)
    council = [d.id for d in state.delegations.values() if d.cls == "council_member"]

    def queued() -> list[str]:
        if state.current_item is None:
            return []
        return [r.delegation for r in state.queues.get(state.current_item, [])]

    def chair_command() -> c.Command:
        kind = rng.choice(
            [
                "take_up",
                "grant",
                "grant",
                "grant_named",
                "revoke",
                "end",
                "move",
                "close",
                "reopen",
                "override",
                "conclusion",
                "consensus",
                "block",
                "package",
                "pull",
                "approve",
                "correspondence",
                "limit",
                "open",
                "close_sitting",
            ]
        )
        if kind == "take_up":
            return c.TakeUpItem(id=c.new_id(), item=rng.choice(items[:12]))
        if kind == "grant_named":
            return c.GrantFloor(id=c.new_id(), delegation=rng.choice(queued() or council))
        if kind == "move":
            q = queued() or council
            return c.MoveFloorRequest(
                id=c.new_id(),
                delegation=rng.choice(q),
                position=rng.randint(1, max(len(q), 1)),
                reason=rng.choice(["", "right of reply", "chair's ruling"]),
            )
        if kind == "conclusion":
            return c.ProposeConclusion(id=c.new_id(), item=rng.choice(items[:12]), text=f"Conclusion {rng.randint(1, 99)}")
        if kind == "consensus":
            return c.RecordConsensus(id=c.new_id(), item=rng.choice(items[:12]))
        if kind == "block":
            return c.BlockItem(
                id=c.new_id(),
                item=rng.choice(items[:12]),
                kind=rng.choice(["objection", "postponement", "suspension"]),
                delegation=rng.choice(council + ["chile"]),
            )
        if kind == "package":
            return c.ProposePackage(id=c.new_id(), items=rng.sample(items[:12], rng.randint(1, 4)))
        if kind == "pull":
            return c.PullFromPackage(id=c.new_id(), item=rng.choice(items[:12]), delegation=rng.choice(council))
        if kind == "correspondence":
            return c.PointToCorrespondence(id=c.new_id(), item=rng.choice(items[:12]))
        if kind == "limit":
            return c.SetSpeakingLimit(
                id=c.new_id(),
                cls=rng.choice(["council_member", "observer_state", "observer", "sector_member"]),
                seconds=rng.choice([30, 60, 90]),
                item=rng.choice([None, *items[:5]]),
            )
        simple = {
            "grant": c.GrantFloor,
            "revoke": c.RevokeGrant,
            "end": c.EndSpeech,
            "close": c.CloseSpeakersList,
            "reopen": c.ReopenSpeakersList,
            "override": c.OverrideTail,
            "approve": c.ApprovePackage,
            "open": c.OpenSitting,
            "close_sitting": c.CloseSitting,
        }
        return simple[kind](id=c.new_id())

    def delegate_command() -> c.Command:
        kind = rng.choice(
            [
                "request",
                "request",
                "request",
                "point_of_order",
                "withdraw",
                "withdraw_point",
                "go_live",
                "go_live",
                "yield",
                "block",
                "pull",
                "help",
                "test",
                "vote",
            ]
        )
        if kind == "request":
            return c.RequestFloor(id=c.new_id())
        if kind == "withdraw_point":
            return c.WithdrawFloorRequest(id=c.new_id(), point_of_order=True)
        if kind == "vote":
            return c.CastVote(
                id=c.new_id(), item=rng.choice(list(state.ballots) or items[:12]), answer=rng.choice(["yes", "no", "abstain"])
            )
        if kind == "point_of_order":
            return c.RequestFloor(id=c.new_id(), point_of_order=True)
        if kind == "block":
            return c.BlockItem(id=c.new_id(), item=rng.choice(items[:12]), kind=rng.choice(["objection", "postponement", "suspension"]))
        if kind == "pull":
            return c.PullFromPackage(id=c.new_id(), item=rng.choice(items[:12]))
        if kind == "help":
            return c.RequestHelp(id=c.new_id(), message=rng.choice(["no sound", "cannot see the document"]))
        if kind == "test":
            return c.RecordConnectionTest(
                id=c.new_id(),
                transport=rng.choice(["websocket", "polling"]),
                websocket_ok=rng.random() < 0.8,
                rtt_ms=rng.uniform(5, 400),
                jitter_ms=rng.uniform(0, 50),
                clock_offset_ms=rng.uniform(-2000, 2000),
                microphone=rng.choice(["ok", "denied", "silent"]),
                camera=rng.choice(["ok", "missing"]),
                input_level=rng.random(),
                browser="Firefox 140",
            )
        return {"withdraw": c.WithdrawFloorRequest, "go_live": c.GoLive, "yield": c.YieldFloor}[kind](id=c.new_id())

    def interpreter_command() -> c.Command:
        kind = rng.choice(["duty", "handover", "accept", "mic", "mic", "source", "finished", "finished", "slowly"])
        if kind == "mic":
            return c.SetBoothMic(id=c.new_id(), live=rng.random() < 0.6)
        if kind == "source":
            return c.SetBoothSource(id=c.new_id(), source=rng.choice(["floor", "floor", *LANGUAGES]))
        return {
            "duty": c.TakeBoothDuty,
            "handover": c.RequestHandover,
            "accept": c.AcceptHandover,
            "finished": c.BoothFinished,
            "slowly": c.SignalSpeakSlowly,
        }[kind](id=c.new_id())

    def secretariat_command() -> c.Command:
        pointed = [n for n, item in state.items.items() if item.status == "correspondence" and n not in state.ballots]
        if pointed:
            return c.OpenBallot(id=c.new_id(), item=rng.choice(pointed), deadline=local_time(log, rng.choice([2, 20, 90]) * MINUTE))
        return c.RecordVoteByLetter(
            id=c.new_id(),
            item=rng.choice(list(state.ballots) or items[:12]),
            delegation=rng.choice(council),
            answer=rng.choice(["yes", "no"]),
            reference="Letter",
        )

    for _ in range(commands):
        after = rng.choice([0, 200, 900, 1_500, 2_500, 4_000, 10_000, 45_000]) if rng.random() > 0.03 else rng.randint(5, 40) * MINUTE
        who = rng.random()
        if who < 0.3:
            log.run(CHAIR, chair_command(), after)
        elif who < 0.65:
            log.run(rng.choice(talkers), delegate_command(), after)
        elif who < 0.88:
            log.run(rng.choice(interpreters), interpreter_command(), after)
        elif who < 0.93:
            log.run(SYSTEM_ACTOR, c.Tick(id=c.new_id()), after)
        elif who < 0.95:
            roll = rng.random()
            observed: c.Command = (
                c.ObserveSpeakerHeard(id=c.new_id(), participant=rng.choice(talkers))
                if roll < 0.5
                else c.ObserveBoothSilent(id=c.new_id(), booth=rng.choice(LANGUAGES))
                if roll < 0.8
                else c.ObserveBothTalking(id=c.new_id(), booth=rng.choice(LANGUAGES), talking=rng.random() < 0.6)
            )
            log.run(MEDIA_ACTOR, observed, after)
        elif who < 0.97:
            log.run(TECHNICAL, c.ResolveHelp(id=c.new_id(), participant=rng.choice(talkers)), after)
        elif who < 0.985:
            # Bursts of lines, so that the kept lines roll over and corrections land in and out of the window.
            for _ in range(rng.randint(1, 40)):
                line = rng.randint(max(1, state.caption_count - 70), state.caption_count + 1)
                command = (
                    c.CorrectCaption(id=c.new_id(), line=line, text="Corrected.")
                    if rng.random() < 0.2
                    else c.PostCaption(id=c.new_id(), text=f"Line {state.caption_count + 1}")
                )
                log.run(CAPTIONER, command, rng.choice([0, 500, 700, 5_000]))
        else:
            log.run(ADMIN_ACTOR, secretariat_command(), after)
    return log
