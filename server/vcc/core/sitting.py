"""A sitting's life: opened by the chair inside the day's slot, closed by the
chair or, strictly, at the slot end (the tick), which cuts the running speech.

Whether a sitting is open at a moment (``clock.sitting_is_open``) is a question
of time the other areas ask; opening and closing it live here.
"""

from vcc_protocol import commands as c
from vcc_protocol import events as e
from vcc_protocol.state import ConsultationState, Sitting
from vcc_protocol.vocabulary import SYSTEM_ACTOR

from .actors import Actor
from .clock import next_slot_hint, require_open_sitting, sitting_is_open, slots, stop_item_clock
from .floor import end_of_floor
from .rejections import Rejected


def open_sitting(state: ConsultationState, cmd: c.OpenSitting, actor: Actor, now: int) -> list[e.Event]:
    """Open the sitting of today's slot, after closing a sitting whose slot has
    ended without the shell's tick (a shell that was down): the closing the tick
    would have made comes first, so no sitting and no speech run on unclosed."""
    opened = _open_in_slot(state, cmd, actor, now)
    stale = state.sitting is not None and not sitting_is_open(state, now)
    return [*slot_end(state, now), *opened] if stale else opened


def _open_in_slot(state: ConsultationState, cmd: c.OpenSitting, actor: Actor, now: int) -> list[e.Event]:
    if state.sitting is not None and sitting_is_open(state, now):
        raise Rejected("sitting_open", f"The sitting of {state.sitting.day} is already open.")
    for day, start, end in slots(state):
        if start <= now < end:
            return [e.SittingOpened(at=now, actor=actor.id, day=day, ends_at=end)]
    raise Rejected("outside_sitting", f"A sitting can only open inside the slot. {next_slot_hint(state, now)}")


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


def _sitting_opened(state: ConsultationState, ev: e.SittingOpened) -> None:
    state.sitting = Sitting(day=ev.day, opened_at=ev.at, ends_at=ev.ends_at)
    if state.current_item is not None:
        state.current_since = ev.at


def _sitting_closed(state: ConsultationState, ev: e.SittingClosed) -> None:
    sitting = state.sitting
    assert sitting is not None
    closed_at = min(ev.at, sitting.ends_at)
    stop_item_clock(state, closed_at)
    sitting.closed_at, sitting.close_reason = closed_at, ev.reason
    state.sittings.append(sitting)
    state.sitting = None


DECIDERS = {c.OpenSitting: open_sitting, c.CloseSitting: close_sitting}
APPLIERS = {e.SittingOpened: _sitting_opened, e.SittingClosed: _sitting_closed}
