"""Everything time-driven: the deadlines the core reports and what a tick does.

The core never reads a clock. ``next_deadline(state)`` says when the shell
must send a ``Tick``; the tick turns every deadline that has passed into
events: the slot end closes the sitting (cutting the running speech), a
speaking limit warns (and cuts if the consultation is so configured), the
interpretation tail elapses, an interpreter's turn calls for a handover, a
ballot of decision by correspondence closes at its deadline.
A tick is idempotent: what it did is in the state, so it never happens twice.
"""

from collections.abc import Callable
from typing import Any

from vcc_protocol import commands as c
from vcc_protocol import events as e
from vcc_protocol.state import ConsultationState
from vcc_protocol.vocabulary import SYSTEM_ACTOR

from . import clock
from .actors import Actor
from .clock import require_open_sitting, sitting_is_open
from .floor import end_of_floor, speech_ended
from .outcomes import ballot_deadlines, close_due_ballots

MINUTE = 60_000


def close_sitting(state: ConsultationState, cmd: c.CloseSitting, actor: Actor, now: int) -> list[e.Event]:
    require_open_sitting(state, now, "close the sitting")
    assert state.sitting is not None
    day = state.sitting.day
    return [*end_of_floor(state, actor.id, now, "ended_by_chair"), e.SittingClosed(at=now, actor=actor.id, day=day, reason="chair")]


def slot_end(state: ConsultationState, now: int) -> list[e.Event]:
    """Rule: the slot is strictly kept; at its end the running speech is cut
    (its duration counted to the slot end, never beyond) and the sitting closes."""
    sitting = state.sitting
    assert sitting is not None
    return [
        *end_of_floor(state, SYSTEM_ACTOR, now, "slot_end", at_most=sitting.ends_at),
        e.SittingClosed(at=now, actor=SYSTEM_ACTOR, day=sitting.day, reason="slot_end"),
    ]


def open_sitting(state: ConsultationState, cmd: c.OpenSitting, actor: Actor, now: int) -> list[e.Event]:
    """``clock.open_sitting``, after closing a sitting whose slot has ended
    without the shell's tick (a shell that was down): the closing the tick
    would have made comes first, so no sitting and no speech run on unclosed."""
    opened = clock.open_sitting(state, cmd, actor, now)
    stale = state.sitting is not None and not sitting_is_open(state, now)
    return [*slot_end(state, now), *opened] if stale else opened


def tick(state: ConsultationState, cmd: c.Tick, actor: Actor, now: int) -> list[e.Event]:
    if not state.created:
        return []
    events: list[e.Event] = []
    if state.tail is not None and now >= state.tail.until:
        events.append(e.InterpretationTailEnded(at=now, actor=SYSTEM_ACTOR, reason="elapsed"))
    sitting, speech = state.sitting, state.speech
    if sitting is not None and now >= sitting.ends_at:
        events += slot_end(state, now)
    elif speech is not None and not speech.warned and now >= speech.started_at + speech.limit_ms:
        events.append(e.SpeakingTimeExceeded(at=now, actor=SYSTEM_ACTOR, participant=speech.participant, delegation=speech.delegation, limit_ms=speech.limit_ms))
        if state.settings.auto_cut:
            events.append(speech_ended(state, SYSTEM_ACTOR, now, "time_limit", at_most=speech.started_at + speech.limit_ms))
    turn = state.settings.turn_minutes * MINUTE
    # An interpreter's turn counts only while a sitting is open: no alarms overnight.
    for booth in state.booths.values() if state.sitting is not None else ():
        if booth.on_duty is not None and booth.duty_since is not None and not booth.handover_alerted and now >= booth.duty_since + turn:
            events.append(e.HandoverDue(at=now, actor=SYSTEM_ACTOR, booth=booth.language, participant=booth.on_duty, on_duty_since=booth.duty_since))
    events += close_due_ballots(state, SYSTEM_ACTOR, now)
    return events


def next_deadline(state: ConsultationState) -> int | None:
    """The earliest moment at which a tick would change the state, or None."""
    candidates: list[int] = []
    if state.sitting is not None:
        candidates.append(state.sitting.ends_at)
    if state.speech is not None and not state.speech.warned:
        candidates.append(state.speech.started_at + state.speech.limit_ms)
    if state.tail is not None:
        candidates.append(state.tail.until)
    turn = state.settings.turn_minutes * MINUTE
    if state.sitting is not None:
        candidates += [b.duty_since + turn for b in state.booths.values() if b.on_duty is not None and b.duty_since is not None and not b.handover_alerted]
    candidates += ballot_deadlines(state)
    return min(candidates) if candidates else None


DECIDERS = {c.OpenSitting: open_sitting, c.CloseSitting: close_sitting, c.Tick: tick}
APPLIERS: dict[type[e.Event], Callable[[ConsultationState, Any], None]] = {}
