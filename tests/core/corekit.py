"""Builders for the core's tests: a small consultation with a delegation of
every class, and a harness that runs commands through decide + apply.

The harness checks, on every command, what every test relies on: ``decide``
never changes the state, a rejected command changes nothing, and every event
survives the wire (encode_event / decode_event) unchanged.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from vcc.core import ConsultationState, Rejected, apply, decide, fold, next_deadline
from vcc_protocol import commands as c
from vcc_protocol import events as e
from vcc_protocol.vocabulary import LANGUAGES, SYSTEM_ACTOR

ZURICH = ZoneInfo("Europe/Zurich")
SECOND = 1_000
MINUTE = 60_000

#: Two days in June 2021 (CEST: the slot is 10:00-13:00 UTC).
DAYS = ["2021-06-08", "2021-06-09"]

#: (delegation, name, class, sector, voting rights, language of its delegates)
DELEGATIONS: list[tuple[str, str, str, str | None, bool, str]] = [
    ("ch", "Switzerland", "council_member", None, True, "fr"),
    ("cn", "China", "council_member", None, True, "zh"),
    ("us", "United States", "council_member", None, True, "en"),
    ("py", "Paraguay", "council_member", None, False, "es"),
    ("at", "Austria", "observer_state", None, False, "en"),
    ("pt", "Portugal", "observer_state", None, False, "fr"),
    ("ps", "Palestine", "observer", None, False, "ar"),
    ("r1", "Orbital Relay Networks", "sector_member", "R", False, "en"),
    ("r2", "Polar Satcom", "sector_member", "R", False, "ru"),
    ("t1", "Carrier Standards Forum", "sector_member", "T", False, "en"),
]
CLASS_OF = {d[0]: d[2] for d in DELEGATIONS}
COUNCIL = [d[0] for d in DELEGATIONS if d[2] == "council_member"]
NOT_COUNCIL = [d[0] for d in DELEGATIONS if d[2] != "council_member"]

#: Items 1 and 2 are marked for package approval.
ITEMS: list[tuple[int, str, bool]] = [
    (1, "PL 1.01", True),
    (2, "PL 1.02", True),
    (3, "PL 1.03", False),
    (4, "ADM 1", False),
    (5, "ADM 2", False),
]


def speaker(delegation: str) -> str:
    """The designated speaker of a delegation."""
    return f"{delegation}-1"


def member(delegation: str) -> str:
    """A member of a delegation who is not a designated speaker."""
    return f"{delegation}-2"


def interpreter(booth: str, n: int = 1) -> str:
    return f"i-{booth}-{n}"


def ms(day: str, hhmm: str, tz: ZoneInfo = ZURICH) -> int:
    """Milliseconds since the epoch of a wall-clock time ("12:00" or "12:00:30.5") on a day in a zone."""
    return int(datetime.combine(date.fromisoformat(day), time.fromisoformat(hhmm), tz).timestamp() * 1000)


def setup_commands(
    *,
    days: list[str] | None = None,
    limits: dict[str, int] | None = None,
    auto_cut: bool = False,
    tail_ms: int = 4_000,
    turn_minutes: int = 30,
    majority_policy: str = "simple_majority_of_voting_council_members",
) -> list[c.Command]:
    """The secretariat's commands that set up the test consultation."""
    out: list[c.Command] = [
        c.CreateConsultation(
            id=c.new_id(),
            code="TEST/VCC",
            title="Test consultation",
            days=list(days or DAYS),
            limits=dict(limits or {}),
            auto_cut=auto_cut,
            tail_ms=tail_ms,
            turn_minutes=turn_minutes,
            majority_policy=majority_policy,
        )
    ]
    for did, name, cls, sector, voting, _ in DELEGATIONS:
        out.append(c.AddDelegation(id=c.new_id(), delegation=did, name=name, cls=cls, sector=sector, voting_rights=voting, region="X"))  # type: ignore[arg-type]
    for did, name, _, _, _, lang in DELEGATIONS:
        out.append(
            c.AddParticipant(
                id=c.new_id(),
                participant=speaker(did),
                name=f"{name} speaker",
                role="delegate",
                delegation=did,
                languages=[lang],
                designated_speaker=True,
                contact=f"{did}1@example.org",
            )
        )  # type: ignore[arg-type]
        out.append(
            c.AddParticipant(
                id=c.new_id(),
                participant=member(did),
                name=f"{name} member",
                role="delegate",
                delegation=did,
                languages=[lang],
                contact=f"{did}2@example.org",
            )
        )  # type: ignore[arg-type]
    out.append(c.AddParticipant(id=c.new_id(), participant="chair", name="Presiding vice-chair", role="chair", languages=["en"]))
    out.append(
        c.AddParticipant(
            id=c.new_id(), participant="sec", name="Secretariat", role="secretariat", languages=["en"], contact="sec@example.org"
        )
    )
    out.append(
        c.AddParticipant(
            id=c.new_id(), participant="tech", name="Technical team", role="technical", languages=["en"], contact="+41 22 000 00 00"
        )
    )
    out.append(c.AddParticipant(id=c.new_id(), participant="cap", name="Captioner", role="captioner", languages=["en"]))
    for lang in LANGUAGES:
        for n in (1, 2):
            out.append(
                c.AddParticipant(
                    id=c.new_id(),
                    participant=interpreter(lang, n),
                    name=f"Interpreter {lang.upper()} {n}",
                    role="interpreter",
                    booth=lang,
                    languages=[lang],
                )
            )  # type: ignore[arg-type]
    for number, code, package in ITEMS:
        out.append(c.AddItem(id=c.new_id(), item=str(number), number=number, code=code, title=f"Item {code}", package=package, minutes=15))
    return out


def builtins(state: ConsultationState) -> Any:
    return msgspec.to_builtins(state)


def wire(event: e.Event) -> e.Event:
    """The event as it comes back from the store."""
    return e.decode_event(e.encode_event(event))


class Consultation:
    """A consultation under test, with the shell's part played by the test.

    ``run`` decides and applies a command and returns its events; ``reject``
    expects a rejection and returns its code; ``advance`` plays the shell's
    clock, sending a Tick at every deadline up to a time.
    """

    def __init__(self, *, setup: bool = True, strict: bool = True, start: int | None = None, **settings: Any) -> None:
        #: Check on every command that decide changed nothing and every event survives
        #: the wire; a long scenario turns this off and checks the refold at the end.
        self.strict = strict
        #: Who chairs: the helpers below act as this participant.
        self.chair = "chair"
        self.state = ConsultationState()
        self.events: list[e.Event] = []
        days = settings.get("days") or DAYS
        self.days = list(days)
        self.now = ms(self.days[0], "11:00") if start is None else start
        if setup:
            for command in setup_commands(**settings):
                self.run(command, "@admin")

    # --- time ---------------------------------------------------------------------
    def at(self, hhmm: str, day: int = 0) -> int:
        return ms(self.days[day], hhmm)

    def advance(self, to: int) -> list[e.Event]:
        """Tick at every deadline up to ``to`` (as the shell does), then set the clock to ``to``."""
        out: list[e.Event] = []
        while (deadline := next_deadline(self.state)) is not None and deadline <= to:
            self.now = max(self.now, deadline)
            ticked = self.tick()
            assert ticked, "a tick at the deadline must change something"
            out += ticked
        self.now = max(self.now, to)
        return out

    def later(self, seconds: float) -> list[e.Event]:
        return self.advance(self.now + int(seconds * 1000))

    # --- commands -----------------------------------------------------------------
    def run(self, command: c.Command, actor: str, at: int | None = None) -> list[e.Event]:
        if at is not None:
            self.now = at
        command = c.parse_command(msgspec.to_builtins(command))  # as the gateway validates it
        if not self.strict:
            events = decide(self.state, command, actor, self.now)
            for event in events:
                apply(self.state, event)
            self.events.extend(events)
            return events
        before = builtins(self.state)
        events = decide(self.state, command, actor, self.now)
        assert builtins(self.state) == before, "decide changed the state"
        for event in events:
            assert wire(event) == event
            apply(self.state, event)
        self.events.extend(events)
        return events

    def reject(self, command: c.Command, actor: str, at: int | None = None) -> str:
        if at is not None:
            self.now = at
        before = builtins(self.state) if self.strict else None
        try:
            events = decide(self.state, command, actor, self.now)
        except Rejected as rejected:
            assert before is None or builtins(self.state) == before, "a rejected command changed the state"
            assert rejected.message
            return rejected.code
        raise AssertionError(f"{type(command).__name__} by {actor} was accepted: {events}")

    def tick(self, at: int | None = None) -> list[e.Event]:
        return self.run(c.Tick(id=c.new_id()), SYSTEM_ACTOR, at)

    def refolded(self) -> Any:
        """The state rebuilt from the stored events."""
        return builtins(fold(wire(ev) for ev in self.events))

    # --- common steps -------------------------------------------------------------
    def open_sitting(self, day: int = 0, hhmm: str = "12:00") -> None:
        self.advance(self.at(hhmm, day))
        self.run(c.OpenSitting(id=c.new_id()), self.chair)

    def take_up(self, item: str) -> None:
        self.run(c.TakeUpItem(id=c.new_id(), item=item), self.chair)

    def hand(self, participant: str, point_of_order: bool = False) -> e.FloorRequested:
        (event,) = self.run(c.RequestFloor(id=c.new_id(), point_of_order=point_of_order), participant)
        assert isinstance(event, e.FloorRequested)
        return event

    def grant(self, delegation: str | None = None) -> e.FloorGranted:
        (event,) = self.run(c.GrantFloor(id=c.new_id(), delegation=delegation), self.chair)
        assert isinstance(event, e.FloorGranted)
        return event

    def go_live(self, participant: str) -> e.SpeakerWentLive:
        (event,) = self.run(c.GoLive(id=c.new_id()), participant)
        assert isinstance(event, e.SpeakerWentLive)
        return event

    def yield_floor(self, participant: str) -> e.SpeechEnded:
        (event,) = self.run(c.YieldFloor(id=c.new_id()), participant)
        assert isinstance(event, e.SpeechEnded)
        return event

    def speak(self, delegation: str, seconds: float = 60, to_floor: float = 5) -> e.SpeechEnded:
        """Ask, be granted, go live ``to_floor`` s later, speak ``seconds`` and yield."""
        self.hand(speaker(delegation))
        self.grant(delegation)
        self.later(to_floor)
        self.go_live(speaker(delegation))
        self.later(seconds)
        return self.yield_floor(speaker(delegation))

    def booth_live(self, booth: str, n: int = 1) -> None:
        self.run(c.TakeBoothDuty(id=c.new_id()), interpreter(booth, n))
        self.run(c.SetBoothMic(id=c.new_id(), live=True), interpreter(booth, n))

    def queue(self, item: str | None = None) -> list[str]:
        number = self.state.current_item if item is None else item
        return [r.delegation for r in self.state.queues.get(number, [])]  # type: ignore[arg-type]

    def kinds(self, events: list[e.Event] | None = None) -> list[str]:
        return [type(ev).__name__ for ev in (self.events if events is None else events)]
