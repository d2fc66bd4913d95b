"""The state a batch of commands is decided on, kept in step with the live one.

The runtime decides the commands that queued during an append together, each
against the state the earlier ones leave, before any of them is durable: it
cannot apply their events to the live state, which screens, snapshots and
other nodes' events read meanwhile. It used to decide them on a full copy of
the live state, made for each batch. With 1,000 delegations on the roster and
their requests queued, that copy costs 1.6-2.8 ms, and under a burst of floor
requests the copies took a third of the event loop (bench/README.md, "Where
a burst's time goes").

:class:`Ahead` is that second state, made once and then kept in step: every
event applied to the live state is applied to it as well, and the events a
batch decides are applied to it at once, so it runs ahead of the live state
until their append is durable. A failed append leaves it holding events the
log does not: it is dropped, and made again from the live state when next
needed.

Its objects are its own: it is made by a msgpack round trip, and it is given
decoded copies of the events, so no applier can make the two states share a
mutable object.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import msgspec
from vcc_protocol.events import Event, decode_event, encode_event

from .core import ConsultationState, apply

_state_decoder = msgspec.msgpack.Decoder(ConsultationState)


def copy_state(state: ConsultationState) -> ConsultationState:
    """A deep copy, sharing nothing with ``state``."""
    return _state_decoder.decode(msgspec.msgpack.encode(state))


class Ahead:
    """The live state at ``seq``, plus the events decided but not yet durable."""

    def __init__(self) -> None:
        self.state: ConsultationState | None = None
        #: The sequence number of the last event in ``state``.
        self.seq = 0
        #: How many times it was made from the live state (tests and the bench read it).
        self.copies = 0

    def at(self, live: ConsultationState, seq: int) -> ConsultationState:
        """The state to decide on, equal to ``live`` at ``seq``: made by a copy if there
        is none, or if it holds events past ``seq`` (decided by a batch that failed)."""
        if self.state is None or self.seq != seq:
            self.state = copy_state(live)
            self.seq = seq
            self.copies += 1
        return self.state

    def decided(self, data: bytes) -> None:
        """Apply an event a batch decided (encoded for the store), before it is durable."""
        assert self.state is not None, "decided before at()"
        apply(self.state, decode_event(data))
        self.seq += 1

    def follow(self, seq: int, event: Event) -> None:
        """The live state applied ``event`` at ``seq``: apply it too, unless already
        here (the batch that decided it). A gap cannot be filled: drop the state."""
        if self.state is None or seq <= self.seq:
            return
        if seq != self.seq + 1:
            self.drop()
            return
        apply(self.state, decode_event(encode_event(event)))
        self.seq = seq

    def drop(self) -> None:
        self.state = None

    @contextmanager
    def appending(self) -> Iterator[None]:
        """Around the append of what was decided here: if it fails in any way, the
        events are not in the log and this state must not keep them."""
        try:
            yield
        except BaseException:
            self.drop()
            raise
