"""The envelopes around commands and events (server <-> client), besides the
commands (``commands.py``) and events (``events.py``) themselves."""

from typing import Any, Literal

import msgspec


class ErrorInfo(msgspec.Struct):
    #: One of ``errors.ERROR_CODES``.
    code: str
    #: A sentence for the person, saying what to do instead.
    message: str


class Ack(msgspec.Struct):
    """The answer to a ``command``: ``ok`` with the sequence number the log is at, or an error."""

    ok: bool
    seq: int | None = None
    error: ErrorInfo | None = None


class EventBatch(msgspec.Struct):
    """``events``: the consultation's events ``first``..``last``, in order.

    A client applies it only when ``first <= its seq + 1``, skipping the events
    it has; on a gap, or another ``epoch``, it sends ``sync``.
    """

    epoch: str
    first: int
    last: int
    #: Server send time (seconds since the epoch), for latency measurements.
    ts: float
    events: list[dict[str, Any]]


class Snapshot(msgspec.Struct):
    """``snapshot``: the whole state at ``seq``; ``resync`` when it replaces a state the client had."""

    epoch: str
    seq: int
    state: dict[str, Any]
    resync: bool


class Welcome(msgspec.Struct):
    """``welcome``: who the connection is, sent first after every connect."""

    protocol: int
    participant: str
    role: str
    audience: Literal["public", "staff"]
    consultation: str
    seq: int
    epoch: str
    server_time: float
