"""decide / apply / fold: the one entry point to the procedure.

``decide`` checks that the consultation exists, who the actor is and the
permission table, then hands the command to the area that owns its rules.
``apply`` hands an event to the area that owns its part of the state.
"""

from collections.abc import Callable, Iterable
from typing import Any

from vcc_protocol import commands as c
from vcc_protocol import events as e
from vcc_protocol.state import ConsultationState

from . import (
    captions,
    clock,
    contributions,
    deadlines,
    floor,
    grouping,
    interpretation,
    outcomes,
    roster,
    sitting,
    support,
)
from .actors import check_permission, resolve
from .deadlines import next_deadline
from .rejections import Rejected

_AREAS = (roster, grouping, contributions, clock, sitting, floor, interpretation, outcomes, support, captions, deadlines)

DECIDERS: dict[type[c.Command], Callable[..., list[e.Event]]] = {k: v for a in _AREAS for k, v in a.DECIDERS.items()}
APPLIERS: dict[type[e.Event], Callable[[ConsultationState, Any], None]] = {k: v for a in _AREAS for k, v in a.APPLIERS.items()}


def decide(state: ConsultationState, command: c.Command, actor: str, now: int) -> list[e.Event]:
    """The events a command produces, or ``Rejected``. Never changes ``state``."""
    if not state.created and not isinstance(command, (c.CreateConsultation, c.Tick)):
        raise Rejected("not_created", "The consultation has not been created yet; the secretariat creates it first.")
    who = resolve(state, actor)
    check_permission(command, who)
    return DECIDERS[type(command)](state, command, who, now)


def apply(state: ConsultationState, event: e.Event) -> ConsultationState:
    """Fold one event into ``state`` (in place, for speed) and return it."""
    APPLIERS[type(event)](state, event)
    return state


def fold(events: Iterable[e.Event], state: ConsultationState | None = None) -> ConsultationState:
    state = ConsultationState() if state is None else state
    appliers = APPLIERS
    for event in events:
        appliers[type(event)](state, event)
    return state


__all__ = ["APPLIERS", "DECIDERS", "apply", "decide", "fold", "next_deadline"]
