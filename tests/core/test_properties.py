"""Properties of the procedure over random command sequences.

Random actors send random commands at increasing random times, ticks
included, across slot boundaries and a change from CET to CEST. The
generator looks at the state to make plausible commands likely (the granted
delegation's speaker tends to be the one who goes live), and sends
implausible ones too (wrong roles, unknown ids, empty reasons). Along every
sequence:

1. the queue of every item is in priority order among the requests the chair never moved,
   and holds at most one request and one point of order per delegation; only the
   interpreter on duty has a booth's microphone open;
2. folding every event again from scratch gives the live state;
3. ``decide`` raises nothing but ``Rejected``;
4. a rejected command emits no events and leaves the state unchanged (and an
   accepted one is not applied by ``decide`` itself);
5. every rejection code is documented in ``ERROR_CODES``;
6. every event round-trips ``encode_event`` / ``decode_event``;

and, for the clock: a tick does something exactly when ``next_deadline`` has
come, and a second tick at the same instant does nothing.

``test_random_sequences_reach_every_part_of_the_procedure`` runs the same
generator from a seeded ``random.Random`` and checks that it does reach the
floor, the booths, the slot end and the outcomes: the properties are not
vacuously true of sequences that never get past the first rejection.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from datetime import date
from typing import Any, TypeVar

import msgspec
from corekit import (
    CLASS_OF,
    DELEGATIONS,
    MINUTE,
    builtins,
    interpreter,
    member,
    ms,
    setup_commands,
    speaker,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from vcc.core import ConsultationState, Rejected, apply, decide, fold, next_deadline
from vcc.core.clock import slot_bounds
from vcc.core.floor import rank
from vcc.core.outcomes import MAJORITY_POLICIES
from vcc_protocol import commands as c
from vcc_protocol import events as e
from vcc_protocol.errors import ERROR_CODES
from vcc_protocol.vocabulary import LANGUAGES, SYSTEM_ACTOR

T = TypeVar("T")

#: A Friday in CET and the Monday after the change to CEST (28 March 2021).
DAYS = ["2021-03-26", "2021-03-29"]
START = ms(DAYS[0], "11:58")
DELEGATES = [p for d in DELEGATIONS for p in (speaker(d[0]), member(d[0]))]
INTERPRETERS = [interpreter(lang, n) for lang in LANGUAGES for n in (1, 2)]
EVERYONE = [*DELEGATES, "chair", "sec", "tech", *INTERPRETERS, "@admin", SYSTEM_ACTOR, "nobody"]
DELEGATION_IDS = [d[0] for d in DELEGATIONS] + ["xx"]
ITEMS = ["1", "2", "3", "4", "5", "6", "99"]
SECOND = 1_000
#: Time steps: mostly seconds and minutes ...
STEPS = [0, 0, 200, SECOND, 3 * SECOND, 4 * SECOND, 5 * SECOND, 20 * SECOND, 90 * SECOND, 4 * MINUTE, 15 * MINUTE]
#: ... and now and then past the slot end, a night or a weekend.
JUMPS = [45 * MINUTE, 3 * 3600 * SECOND, 21 * 3600 * SECOND, 70 * 3600 * SECOND]
SLOTS = [slot_bounds(day, "12:00", "15:00", "Europe/Zurich") for day in DAYS]


class Picker:
    """Where the generator's choices come from: hypothesis, or a seeded Random."""

    def choice(self, options: Sequence[T]) -> T:
        raise NotImplementedError

    def chance(self, percent: int) -> bool:
        return self.choice(range(100)) < percent


class BytesPicker(Picker):
    """Choices from bytes hypothesis drew: one draw per example keeps examples
    cheap (drawing each choice costs more than running the step), and
    hypothesis shrinks the bytes towards zeros, the first options, and
    shorter. Past the end of the bytes, the first option."""

    def __init__(self, data: bytes) -> None:
        self.data = iter(data)

    def choice(self, options: Sequence[T]) -> T:
        return options[next(self.data, 0) % len(options)]


class RandomPicker(Picker):
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def choice(self, options: Sequence[T]) -> T:
        return self.rng.choice(options)


def next_time(pick: Picker, state: ConsultationState, now: int) -> int:
    """Never back in time: to the next deadline (or just before it), a small step, or a jump."""
    if state.tail is not None and pick.chance(70):
        return now + pick.choice([0, 200, SECOND])  # a quick next speaker
    deadline = next_deadline(state)
    if deadline is not None and deadline > now and pick.chance(15 if deadline - now <= 5 * MINUTE else 1):
        return deadline - pick.choice([0, 0, 1])
    starts = [start for start, _ in SLOTS if start > now]
    in_slot = any(start <= now < end for start, end in SLOTS)
    if starts and not in_slot and pick.chance(30):
        return starts[0] + pick.choice(STEPS)
    if pick.chance(3):
        ends = [end - 30 * SECOND for _, end in SLOTS if end - 30 * SECOND > now]
        return pick.choice([now + jump for jump in JUMPS] + ends[:1])
    return now + pick.choice(STEPS)


def progress(pick: Picker, state: ConsultationState, now: int) -> tuple[str, c.Command] | None:
    """The command that moves the sitting on, as a chair and delegates who know the tool would send it."""
    if state.sitting is None or now >= state.sitting.ends_at:
        return "chair", c.OpenSitting(id=c.new_id())
    if state.current_item is None or state.items[state.current_item].status != "open":
        return "chair", c.TakeUpItem(id=c.new_id(), item=pick.choice(_open_items(state)))
    if state.speech is not None:
        return _yield(pick, state) if pick.chance(70) else ("chair", c.EndSpeech(id=c.new_id()))
    if state.tail is not None and state.grant is None and _queue(state):
        return "chair", c.GrantFloor(id=c.new_id())
    if state.grant is not None:
        if state.tail is not None and pick.chance(30):
            return _booth_finished(pick, state)
        return _go_live(pick, state)
    if _queue(state) and pick.chance(35):
        return "chair", c.GrantFloor(id=c.new_id())
    return None


def ballot_progress(pick: Picker, state: ConsultationState) -> tuple[str, c.Command] | None:
    """The secretariat opens the ballot on an item pointed to correspondence; council members answer."""
    unopened = [n for n, item in state.items.items() if item.status == "correspondence" and n not in state.ballots]
    if unopened:
        return "sec", c.OpenBallot(
            id=c.new_id(), item=pick.choice(unopened), deadline=pick.choice(["2021-03-26T14:00", "2021-03-29T13:00"])
        )
    if any(b.closed_at is None for b in state.ballots.values()):
        return MAKERS["vote"](pick, state)
    return None


def command(pick: Picker, state: ConsultationState, now: int) -> tuple[str, c.Command]:
    """A plausible command and its sender, or now and then an implausible one."""
    moving_on = progress(pick, state, now) if pick.chance(30) else None
    if moving_on is None and pick.chance(20):
        moving_on = ballot_progress(pick, state)
    actor, cmd = moving_on or MAKERS[pick.choice(KINDS)](pick, state)
    if pick.chance(8):
        actor = pick.choice(EVERYONE)
    return actor, cmd


def _queue(state: ConsultationState) -> list[str]:
    return [r.delegation for r in state.queues.get(state.current_item, [])] if state.current_item is not None else []


def _delegation(pick: Picker, state: ConsultationState) -> str:
    queue = _queue(state)
    return pick.choice(queue) if queue and pick.chance(70) else pick.choice(DELEGATION_IDS)


def _move(pick: Picker, state: ConsultationState) -> tuple[str, c.Command]:
    """The chair moves a request: often the first to the back (past lower priorities), else anywhere."""
    queue = _queue(state)
    reason = pick.choice(["Asked to speak last", "Author of the document", " "])
    if len(queue) > 1 and pick.chance(40):
        return "chair", c.MoveFloorRequest(id=c.new_id(), delegation=queue[0], position=len(queue), reason=reason)
    size = max(len(queue), 1)
    place = pick.choice([1, 2, size, size - 1 or 1, size + 1])
    return "chair", c.MoveFloorRequest(id=c.new_id(), delegation=_delegation(pick, state), position=place, reason=reason)


def _open_items(state: ConsultationState) -> list[int]:
    return [n for n, item in state.items.items() if item.status == "open"] or ITEMS


def _item(pick: Picker, state: ConsultationState) -> int:
    return pick.choice(_open_items(state)) if pick.chance(80) else pick.choice(ITEMS)


def _go_live(pick: Picker, state: ConsultationState) -> tuple[str, c.Command]:
    grant = state.grant
    if grant is None or pick.chance(10):
        return pick.choice(DELEGATES), c.GoLive(id=c.new_id())
    return (speaker(grant.delegation) if pick.chance(85) else member(grant.delegation)), c.GoLive(id=c.new_id())


def _booth_partner(pick: Picker, state: ConsultationState, on_duty: bool) -> str:
    """An interpreter of a booth with somebody on duty: the one on duty, or the partner."""
    staffed = [b for b in state.booths.values() if b.on_duty is not None]
    if not staffed or pick.chance(20):
        return pick.choice(INTERPRETERS)
    booth = pick.choice(staffed)
    partner = next(p for p in (interpreter(booth.language, 1), interpreter(booth.language, 2)) if p != booth.on_duty)
    return booth.on_duty if on_duty else partner  # type: ignore[return-value]


def _yield(pick: Picker, state: ConsultationState) -> tuple[str, c.Command]:
    speech = state.speech
    return (speech.participant if speech is not None and pick.chance(80) else pick.choice(DELEGATES)), c.YieldFloor(id=c.new_id())


def _booth_finished(pick: Picker, state: ConsultationState) -> tuple[str, c.Command]:
    tail = state.tail
    if tail is not None and tail.booths and pick.chance(80):
        return interpreter(pick.choice(tail.booths), pick.choice([1, 2])), c.BoothFinished(id=c.new_id())
    return pick.choice(INTERPRETERS), c.BoothFinished(id=c.new_id())


def _block(pick: Picker, state: ConsultationState) -> tuple[str, c.Command]:
    kind = pick.choice(["objection", "postponement", "suspension"])
    if pick.chance(50):
        return "chair", c.BlockItem(id=c.new_id(), item=_item(pick, state), kind=kind, delegation=pick.choice(DELEGATION_IDS))  # type: ignore[arg-type]
    return pick.choice(DELEGATES), c.BlockItem(id=c.new_id(), item=_item(pick, state), kind=kind)  # type: ignore[arg-type]


def _pull(pick: Picker, state: ConsultationState) -> tuple[str, c.Command]:
    item = pick.choice(state.package) if state.package and pick.chance(80) else pick.choice(ITEMS)
    if pick.chance(50):
        return "chair", c.PullFromPackage(id=c.new_id(), item=item, delegation=pick.choice(DELEGATION_IDS))
    return pick.choice(DELEGATES), c.PullFromPackage(id=c.new_id(), item=item)


def _package(pick: Picker, state: ConsultationState) -> tuple[str, c.Command]:
    proposed = [n for n, item in state.items.items() if item.status == "open" and item.conclusion is not None]
    items = proposed if proposed and pick.chance(70) else _open_items(state)
    first = pick.choice(items)
    second = pick.choice(items)
    return "chair", c.ProposePackage(id=c.new_id(), items=[first] if first == second or pick.chance(30) else [first, second])


def _proposed_item(pick: Picker, state: ConsultationState) -> int:
    """Mostly an open item with a proposed conclusion."""
    proposed = [n for n, item in state.items.items() if item.status == "open" and item.conclusion is not None]
    return pick.choice(proposed) if proposed and pick.chance(70) else _item(pick, state)


def _ballot_item(pick: Picker, state: ConsultationState) -> int:
    """Mostly an item whose ballot is open, or one pointed to decision by correspondence."""
    balloting = [n for n, ballot in state.ballots.items() if ballot.closed_at is None]
    pointed = [n for n, item in state.items.items() if item.status == "correspondence"]
    if balloting and pick.chance(70):
        return pick.choice(balloting)
    return pick.choice(pointed) if pointed and pick.chance(85) else pick.choice(ITEMS)


def _voter(pick: Picker) -> str:
    """Mostly a member of a council member with the right to vote."""
    return (
        pick.choice([p for d in DELEGATIONS if d[4] for p in (speaker(d[0]), member(d[0]))]) if pick.chance(70) else pick.choice(DELEGATES)
    )


def _add_delegation(pick: Picker, state: ConsultationState) -> tuple[str, c.Command]:
    n = len(state.delegations)
    cls = pick.choice(["council_member", "observer_state", "sector_member", "sector_member"])
    sector = pick.choice(["R", "R", "T", "D"]) if cls == "sector_member" else None
    return "sec", c.AddDelegation(
        id=c.new_id(), delegation=f"new{n}", name=f"New {n}", cls=cls, sector=sector, voting_rights=cls == "council_member"
    )  # type: ignore[arg-type]


CONNECTION_TEST = c.RecordConnectionTest(
    id=c.new_id(),
    transport="websocket",
    websocket_ok=True,
    rtt_ms=35.0,
    jitter_ms=2.0,
    clock_offset_ms=5.0,
    microphone="ok",
    camera="ok",
    input_level=0.5,
    browser="Firefox",
)

MAKERS: dict[str, Any] = {
    "tick": lambda p, s: (SYSTEM_ACTOR, c.Tick(id=c.new_id())),
    "open_sitting": lambda p, s: (p.choice(["chair", "chair", "sec"]), c.OpenSitting(id=c.new_id())),
    "close_sitting": lambda p, s: ("chair", c.CloseSitting(id=c.new_id())),
    "take_up": lambda p, s: ("chair", c.TakeUpItem(id=c.new_id(), item=_item(p, s))),
    "request_floor": lambda p, s: (p.choice(DELEGATES), c.RequestFloor(id=c.new_id(), point_of_order=p.chance(15))),
    "withdraw": lambda p, s: (p.choice(DELEGATES), c.WithdrawFloorRequest(id=c.new_id(), point_of_order=p.chance(30))),
    "move": lambda p, s: _move(p, s),
    "close_list": lambda p, s: ("chair", c.CloseSpeakersList(id=c.new_id())),
    "reopen_list": lambda p, s: ("chair", c.ReopenSpeakersList(id=c.new_id())),
    "grant": lambda p, s: ("chair", c.GrantFloor(id=c.new_id(), delegation=None if p.chance(60) else _delegation(p, s))),
    "revoke": lambda p, s: ("chair", c.RevokeGrant(id=c.new_id())),
    "go_live": _go_live,
    "yield": _yield,
    "end_speech": lambda p, s: ("chair", c.EndSpeech(id=c.new_id())),
    "take_duty": lambda p, s: (p.choice(INTERPRETERS), c.TakeBoothDuty(id=c.new_id())),
    "request_handover": lambda p, s: (_booth_partner(p, s, on_duty=p.chance(30)), c.RequestHandover(id=c.new_id())),
    "accept_handover": lambda p, s: (_booth_partner(p, s, on_duty=p.chance(70)), c.AcceptHandover(id=c.new_id())),
    "mic": lambda p, s: (_booth_partner(p, s, on_duty=p.chance(80)), c.SetBoothMic(id=c.new_id(), live=p.chance(70))),
    "source": lambda p, s: (p.choice(INTERPRETERS), c.SetBoothSource(id=c.new_id(), source=p.choice(["floor", *LANGUAGES]))),  # type: ignore[arg-type]
    "booth_finished": _booth_finished,
    "override_tail": lambda p, s: ("chair", c.OverrideTail(id=c.new_id())),
    "speak_slowly": lambda p, s: (p.choice(INTERPRETERS), c.SignalSpeakSlowly(id=c.new_id())),
    "propose": lambda p, s: (
        p.choice(["sec", "chair"]),
        c.ProposeConclusion(id=c.new_id(), item=_item(p, s), text=p.choice(["Takes note.", "Takes note.", "  "])),
    ),
    "consensus": lambda p, s: ("chair", c.RecordConsensus(id=c.new_id(), item=_item(p, s))),
    "block": _block,
    "package": _package,
    "pull": _pull,
    "approve": lambda p, s: ("chair", c.ApprovePackage(id=c.new_id())),
    "correspondence": lambda p, s: ("chair", c.PointToCorrespondence(id=c.new_id(), item=_proposed_item(p, s))),
    "open_ballot": lambda p, s: (
        "sec",
        c.OpenBallot(
            id=c.new_id(),
            item=_ballot_item(p, s),
            deadline=p.choice(["2021-03-26T12:30", "2021-03-29T13:00", "2021-03-31T12:00", "2021-03-01T00:00"]),
        ),
    ),
    "vote": lambda p, s: (_voter(p), c.CastVote(id=c.new_id(), item=_ballot_item(p, s), answer=p.choice(["yes", "no", "abstain"]))),
    "letter_vote": lambda p, s: (
        "sec",
        c.RecordVoteByLetter(
            id=c.new_id(),
            item=_ballot_item(p, s),
            delegation=p.choice(DELEGATION_IDS),
            answer=p.choice(["yes", "no", "abstain"]),
            reference=p.choice(["Note 2021/7", " "]),
        ),
    ),
    "limit": lambda p, s: (
        p.choice(["chair", "sec"]),
        c.SetSpeakingLimit(
            id=c.new_id(),
            cls=p.choice(["council_member", "observer", "sector_member"]),
            seconds=p.choice([10, 60, 600]),
            item=p.choice([None, *ITEMS]),
        ),
    ),  # type: ignore[arg-type]
    "add_delegation": _add_delegation,
    "voting_rights": lambda p, s: (
        "sec",
        c.SetVotingRights(id=c.new_id(), delegation=p.choice(DELEGATION_IDS), voting_rights=p.chance(50)),
    ),
    "add_item": lambda p, s: (
        "sec",
        c.AddItem(
            id=c.new_id(),
            item=(ref := p.choice(ITEMS)),
            number=int(ref),
            code="X",
            title="X",
            package=p.chance(30),
            minutes=p.choice([5, 60, 200]),
        ),
    ),
    "minutes": lambda p, s: ("sec", c.SetItemMinutes(id=c.new_id(), item=p.choice(ITEMS), minutes=p.choice([1, 30, 181]))),
    "plan": lambda p, s: ("sec", c.PlanAgenda(id=c.new_id())),
    "connection_test": lambda p, s: (p.choice(EVERYONE), CONNECTION_TEST),
    "help": lambda p, s: (p.choice(DELEGATES), c.RequestHelp(id=c.new_id(), message="No sound")),
    "resolve_help": lambda p, s: ("tech", c.ResolveHelp(id=c.new_id(), participant=p.choice(list(s.help_requests) or DELEGATES))),
    "create": lambda p, s: ("@admin", c.CreateConsultation(id=c.new_id(), code="Y", title="Y", days=DAYS)),
    "attendance": lambda p, s: (p.choice(EVERYONE), c.RecordAttendance(id=c.new_id())),
    "open_grouping": lambda p, s: (
        "sec",
        c.OpenGrouping(id=c.new_id(), deadline=p.choice(["2021-03-26T12:30", "2021-03-26T18:00", "2021-03-29T13:00", "2021-03-01T00:00"])),
    ),
    "answer_grouping": lambda p, s: (
        p.choice(DELEGATES),
        c.AnswerGrouping(id=c.new_id(), item=p.choice(ITEMS), answer=p.choice(["agree", "other_group"])),
    ),
    "propose_item": lambda p, s: (
        p.choice(DELEGATES),
        c.ProposeItem(id=c.new_id(), title=p.choice(["An urgent item", " "]), group=p.choice([1, 2])),
    ),
    "close_grouping": lambda p, s: ("sec", c.CloseGrouping(id=c.new_id(), final=p.choice([{}, {"3": 2}, {"4": 1, "99": 2}]))),
    "contribution": lambda p, s: (
        p.choice(DELEGATES),
        c.SubmitContribution(
            id=c.new_id(),
            contribution=f"k{len(s.contributions)}",
            item=p.choice(ITEMS),
            title="Comments",
            comments=p.choice(["We support it.", ""]),
            co_submitters=p.choice([[], ["at"], ["r1"]]),
        ),
    ),
}
#: How often each kind comes up: the floor most, the roster least.
WEIGHTS = {
    "tick": 8,
    "open_sitting": 4,
    "close_sitting": 1,
    "take_up": 3,
    "request_floor": 18,
    "withdraw": 2,
    "move": 4,
    "close_list": 1,
    "reopen_list": 1,
    "grant": 8,
    "revoke": 1,
    "go_live": 8,
    "yield": 5,
    "end_speech": 2,
    "take_duty": 3,
    "request_handover": 2,
    "accept_handover": 2,
    "mic": 4,
    "source": 2,
    "booth_finished": 3,
    "override_tail": 1,
    "speak_slowly": 1,
    "propose": 3,
    "consensus": 2,
    "block": 2,
    "package": 1,
    "pull": 1,
    "approve": 2,
    "correspondence": 3,
    "open_ballot": 4,
    "vote": 4,
    "letter_vote": 2,
    "limit": 1,
    "add_delegation": 2,
    "voting_rights": 1,
    "add_item": 1,
    "minutes": 1,
    "plan": 1,
    "connection_test": 1,
    "help": 1,
    "resolve_help": 1,
    "create": 1,
    "attendance": 1,
    "open_grouping": 1,
    "answer_grouping": 1,
    "propose_item": 1,
    "close_grouping": 1,
    "contribution": 1,
}
KINDS = [kind for kind, weight in WEIGHTS.items() for _ in range(weight)]
assert set(MAKERS) == set(WEIGHTS)


# --- the properties -------------------------------------------------------------------


def check_queues_in_priority_order(state: ConsultationState) -> None:
    for number, queue in state.queues.items():
        keys = [(rank(state, r), r.requested_at) for r in queue if r.moved_reason is None]
        assert keys == sorted(keys), f"queue of item {number} out of priority order: {[r.delegation for r in queue]}"
        kinds = [(r.delegation, r.point_of_order) for r in queue]
        assert len(kinds) == len(set(kinds)), f"a delegation holds two requests of one kind on item {number}: {kinds}"


def check_microphones_are_the_duty(state: ConsultationState) -> None:
    for booth in state.booths.values():
        assert not booth.mic_open or booth.on_duty is not None, f"the {booth.language} booth's microphone is open with nobody on duty"


def play(pick: Picker, steps: int, seen: Counter[str] | None = None) -> None:
    """Set the consultation up, then run ``steps`` generated commands, checking the properties."""
    settings_ = {"days": DAYS, "tail_ms": pick.choice([0, 4_000]), "auto_cut": pick.chance(30), "turn_minutes": pick.choice([1, 30])}
    state = ConsultationState()
    log: list[e.Event] = []
    now = START - 20 * MINUTE
    for cmd in setup_commands(**settings_):
        for event in decide(state, cmd, "@admin", now):
            apply(state, event)
            log.append(event)
    now = START
    for booth in pick.choice([[], ["en"], ["en", "fr", "zh"]]):
        for cmd in (c.TakeBoothDuty(id=c.new_id()), c.SetBoothMic(id=c.new_id(), live=True)):
            for event in decide(state, cmd, interpreter(booth), now):
                apply(state, event)
                log.append(event)
    for _ in range(steps):
        now = next_time(pick, state, now)
        actor, cmd = command(pick, state, now)
        before = builtins(state)
        try:
            events = decide(state, cmd, actor, now)
        except Rejected as rejected:
            assert rejected.code in ERROR_CODES  # (5)
            assert builtins(state) == before  # (4)
            if seen is not None:
                seen[f"rejected:{rejected.code}"] += 1
            continue
        except Exception as exc:  # (3)
            raise AssertionError(f"decide raised {exc!r} on {cmd!r} from {actor}") from exc
        assert builtins(state) == before, f"decide changed the state on {cmd!r}"  # (4)
        for event in events:
            assert e.decode_event(e.encode_event(event)) == event  # (6)
            apply(state, event)
            if seen is not None:
                seen[type(event).__name__] += 1
                if isinstance(event, e.SpeechEnded):
                    seen[f"speech_ended:{event.reason}"] += 1
        log.extend(events)
        check_queues_in_priority_order(state)  # (1)
        check_microphones_are_the_duty(state)  # (1)
        # The clock: a tick does something exactly when a deadline has come; and twice is once.
        deadline = next_deadline(state)
        due = decide(state, c.Tick(id=c.new_id()), SYSTEM_ACTOR, now)
        assert bool(due) == (deadline is not None and deadline <= now), (deadline, now, due)
        if isinstance(cmd, c.Tick):
            assert due == []
    refolded = fold(e.decode_event(e.encode_event(ev)) for ev in log)
    assert builtins(refolded) == builtins(state)  # (2)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
@given(steps=st.integers(1, 90), choices=st.binary(min_size=300, max_size=1_500))
def test_properties_hold_over_random_command_sequences(steps: int, choices: bytes) -> None:
    play(BytesPicker(choices), steps)


def test_random_sequences_reach_every_part_of_the_procedure() -> None:
    seen: Counter[str] = Counter()
    for seed in range(60):
        play(RandomPicker(seed), 150, seen)
    wanted = [
        "FloorRequested",
        "FloorRequestWithdrawn",
        "FloorRequestMoved",
        "FloorGranted",
        "GrantRevoked",
        "SpeakerWentLive",
        "SpeakingTimeExceeded",
        "speech_ended:yielded",
        "speech_ended:ended_by_chair",
        "speech_ended:slot_end",
        "speech_ended:time_limit",
        "InterpretationTailEnded",
        "BoothSignalledFinished",
        "HandoverCompleted",
        "HandoverDue",
        "BoothMicSet",
        "BoothSourceSet",
        "SpeakSlowlySignalled",
        "SittingOpened",
        "SittingClosed",
        "ConsensusRecorded",
        "ItemDeferred",
        "PackageApproved",
        "ItemPulledFromPackage",
        "PointedToCorrespondence",
        "AgendaPlanned",
        "BallotOpened",
        "VoteCast",
        "BallotClosed",
        "rejected:not_on_duty",
        "rejected:deadline_passed",
        "rejected:not_allowed",
        "rejected:interpretation_tail",
        "rejected:outside_sitting",
        "rejected:already_requested",
        "rejected:not_designated_speaker",
        "rejected:only_council_members_may_block",
        "rejected:reason_required",
        "rejected:relay_cycle",
        "rejected:unknown_participant",
        "rejected:floor_closed",
        "rejected:sector_full",
    ]
    missing = [name for name in wanted if not seen[name]]
    assert not missing, f"the generator never produced {missing}"


def test_generated_commands_are_valid_protocol_messages() -> None:
    # The generator builds Structs directly; the gateway would have validated them.
    pick = RandomPicker(7)
    for kind, maker in MAKERS.items():
        for _ in range(20):
            _, cmd = maker(pick, ConsultationState())
            assert c.parse_command(msgspec.to_builtins(cmd)) == cmd, kind


def test_the_delegation_classes_cover_every_priority() -> None:
    assert set(CLASS_OF.values()) == {"council_member", "observer_state", "observer", "sector_member"}


DIGITS = st.text("0123456789", min_size=2, max_size=2)
#: What the protocol's patterns let through: real dates and times, and digits that are not.
DAY = st.one_of(
    st.dates(date(2020, 1, 1), date(2022, 12, 31)).map(date.isoformat), st.builds("{}{}-{}-{}".format, DIGITS, DIGITS, DIGITS, DIGITS)
)
WALL = st.one_of(st.times().map(lambda t: t.strftime("%H:%M")), st.builds("{}:{}".format, DIGITS, DIGITS))


@settings(max_examples=150, deadline=None)
@given(
    days=st.lists(DAY, min_size=1, max_size=4).flatmap(lambda d: st.sampled_from([sorted(set(d)), sorted(set(d)), d])),
    slot=st.one_of(st.sampled_from([("12:00", "15:00"), ("00:00", "23:59"), ("02:30", "03:30")]), st.tuples(WALL, WALL)),
    tz=st.sampled_from(
        ["Europe/Zurich"] * 4 + ["UTC", "America/New_York", "Europe", "Mars/Base", "", "../etc/passwd", "Europe/Zurich\x00"]
    ),
    policy=st.sampled_from([*MAJORITY_POLICIES] * 2 + ["most votes wins"]),
    probe=st.integers(0, 40 * 24 * 3600 * SECOND),
)
def test_any_consultation_settings_are_created_or_refused(days: list[str], slot: tuple[str, str], tz: str, policy: str, probe: int) -> None:
    """Whatever the protocol lets through, creating the consultation either works or
    is refused with ``invalid_value``; once created, the clock never fails."""
    command = c.parse_command(
        {
            "type": "create_consultation",
            "id": "1",
            "code": "C",
            "title": "T",
            "days": days,
            "slot_start": slot[0],
            "slot_end": slot[1],
            "tz": tz,
            "majority_policy": policy,
        }
    )
    state = ConsultationState()
    try:
        events = decide(state, command, "@admin", START)
    except Rejected as rejected:
        assert rejected.code == "invalid_value"
        return
    fold(events, state)
    fold(decide(state, c.AddItem(id=c.new_id(), item="1", number=1, code="X", title="X"), "@admin", START), state)
    decide(state, c.PlanAgenda(id=c.new_id()), "@admin", START)
    now = ms("2021-01-01", "00:00") + probe
    try:
        fold(decide(state, c.OpenSitting(id=c.new_id()), "@admin", now), state)
    except Rejected as rejected:
        assert rejected.code == "outside_sitting"
    assert decide(state, c.Tick(id=c.new_id()), SYSTEM_ACTOR, now) == []
