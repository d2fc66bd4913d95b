"""The procedure as a pure state machine: no I/O, no clock reads, no randomness.

    decide(state, command, actor, now) -> [event, ...]   or raises Rejected(code, message)
    apply(state, event) -> state
    next_deadline(state) -> when the shell must send a Tick

Time comes in as ``now`` (milliseconds since the Unix epoch, UTC). One module
per area of the procedure: roster, floor, interpretation, clock, outcomes,
support; ``machine`` dispatches to them; ``views`` projects the state per role.
"""

from vcc_protocol.state import ConsultationState

from .machine import apply, decide, fold, next_deadline
from .rejections import Rejected

__all__ = ["ConsultationState", "Rejected", "apply", "decide", "fold", "next_deadline"]
