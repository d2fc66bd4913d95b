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

from .actors import Actor
from .floor import speech_ended
from .outcomes import ballot_deadlines, close_due_ballots
from .sitting import slot_end

MINUTE = 60_000


def tick(state: ConsultationState, cmd: c.Tick, actor: Actor, now: int) -> list[e.Event]:
    if not state.created:
        return []
    events: list[e.Event] = []
    if state.tail is not None and now >= state.tail.until:
        events.append(e.InterpretationTailEnded(at=now, actor=SYSTEM_ACTOR, reason="elapsed"))
    sitting, speech = state.sitting, state.speech
    if sitting is not None and now >= sitting.ends_at:
        events += slot_end(state, now)
    elif speech is not None and not speech.warned and now >= speech.ends_at:
        events.append(
            e.SpeakingTimeExceeded(
                at=now, actor=SYSTEM_ACTOR, participant=speech.participant, delegation=speech.delegation, limit_ms=speech.limit_ms
            )
        )
        if state.settings.auto_cut:
            events.append(speech_ended(state, SYSTEM_ACTOR, now, "time_limit", at_most=speech.ends_at))
    turn = state.settings.turn_minutes * MINUTE
    # An interpreter's turn counts only while a sitting is open: no alarms overnight.
    for booth in state.booths.values() if state.sitting is not None else ():
        if booth.on_duty is not None and booth.duty_since is not None and not booth.handover_alerted and now >= booth.duty_since + turn:
            events.append(
                e.HandoverDue(at=now, actor=SYSTEM_ACTOR, booth=booth.language, participant=booth.on_duty, on_duty_since=booth.duty_since)
            )
    events += close_due_ballots(state, SYSTEM_ACTOR, now)
    return events


def next_deadline(state: ConsultationState) -> int | None:
    """The earliest moment at which a tick would change the state, or None."""
    candidates: list[int] = []
    if state.sitting is not None:
        candidates.append(state.sitting.ends_at)
    if state.speech is not None and not state.speech.warned:
        candidates.append(state.speech.ends_at)
    if state.tail is not None:
        candidates.append(state.tail.until)
    turn = state.settings.turn_minutes * MINUTE
    if state.sitting is not None:
        candidates += [
            b.duty_since + turn
            for b in state.booths.values()
            if b.on_duty is not None and b.duty_since is not None and not b.handover_alerted
        ]
    candidates += ballot_deadlines(state)
    return min(candidates) if candidates else None


DECIDERS = {c.Tick: tick}
APPLIERS: dict[type[e.Event], Callable[[ConsultationState, Any], None]] = {}
