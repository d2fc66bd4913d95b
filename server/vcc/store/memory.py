"""An event store in memory: for practice consultations, which must never
reach the durable log (``vcc.practice``).

Same contract as the durable backends (``base.EventStore``), nothing written
anywhere: what it holds goes with it. Every stream is bounded
(``max_events``): a practice consultation faces the public internet, and a
participant who keeps sending commands must not grow it without end.
"""

from __future__ import annotations

import asyncio
import collections
import secrets
from collections.abc import Sequence

from .base import (
    ConcurrencyConflict,
    DuplicateCommand,
    EventStore,
    StoreUnavailable,
    StreamHead,
    Subscription,
    check_append,
    check_read,
    check_stream,
    command_spans,
)

#: Events a stream may hold at most (a drill takes a handful per attempt).
DEFAULT_MAX_EVENTS = 5_000


class MemoryStore(EventStore):
    """Streams in this process's memory; lost on ``close``.

    :param max_events: events one stream may hold; an append beyond it raises
        ``StoreUnavailable`` and stores nothing.
    """

    def __init__(self, max_events: int = DEFAULT_MAX_EVENTS) -> None:
        self.max_events = max_events
        self._events: dict[str, list[bytes]] = {}
        self._epochs: dict[str, str] = {}
        self._commands: dict[str, dict[str, tuple[int, int]]] = collections.defaultdict(dict)
        self._snapshots: dict[str, tuple[int, bytes]] = {}
        self._meta: dict[str, str] = {}
        self._subs: dict[str, set[Subscription]] = collections.defaultdict(set)
        self._open = False

    async def open(self) -> None:
        self._open = True

    async def close(self) -> None:
        for subs in list(self._subs.values()):
            for sub in list(subs):
                await sub.close()
        self._open = False
        self._events.clear()
        self._commands.clear()
        self._snapshots.clear()

    def _check_open(self) -> None:
        if not self._open:
            raise RuntimeError("MemoryStore is not open")

    async def head(self, stream: str) -> StreamHead:
        check_stream(stream)
        self._check_open()
        return StreamHead(self._epochs.get(stream, ""), len(self._events.get(stream, ())))

    async def append(
        self,
        stream: str,
        expected_seq: int,
        events: Sequence[bytes],
        *,
        command_id: str | None = None,
        commands: Sequence[tuple[str, int]] = (),
    ) -> int:
        check_append(stream, expected_seq, events, command_id, commands)
        self._check_open()
        spans = command_spans(events, command_id, commands)
        recorded = self._commands[stream]
        for cid, _ in spans:
            if cid and cid in recorded:
                raise DuplicateCommand(stream, cid, *recorded[cid])
        log = self._events.setdefault(stream, [])
        if len(log) != expected_seq:
            raise ConcurrencyConflict(stream, expected_seq, StreamHead(self._epochs.get(stream, ""), len(log)))
        if len(log) + len(events) > self.max_events:
            raise StoreUnavailable(f"this practice session holds its {self.max_events} events at most: start a new one")
        self._epochs.setdefault(stream, secrets.token_hex(8))
        log.extend(events)
        at = expected_seq + 1
        for cid, count in spans:
            if cid:
                recorded[cid] = (at, at + count - 1)
            at += count
        for sub in list(self._subs.get(stream, ())):
            sub.push(expected_seq + 1, list(events))
        return len(log)

    async def find_command(self, stream: str, command_id: str) -> tuple[int, int] | None:
        self._check_open()
        return self._commands.get(stream, {}).get(command_id)

    async def read(self, stream: str, after_seq: int, limit: int | None = None) -> list[tuple[int, bytes]]:
        check_read(stream, after_seq, limit)
        self._check_open()
        log = self._events.get(stream, [])
        end = len(log) if limit is None else min(len(log), after_seq + limit)
        return [(seq, log[seq - 1]) for seq in range(after_seq + 1, end + 1)]

    async def save_snapshot(self, stream: str, seq: int, data: bytes) -> None:
        self._check_open()
        if seq > len(self._events.get(stream, ())):
            raise ValueError(f"snapshot at seq {seq} is beyond the head of {stream!r}")
        if seq > self._snapshots.get(stream, (0, b""))[0]:
            self._snapshots[stream] = (seq, data)

    async def load_snapshot(self, stream: str) -> tuple[int, bytes] | None:
        self._check_open()
        return self._snapshots.get(stream)

    async def streams(self) -> list[str]:
        self._check_open()
        return sorted(stream for stream, log in self._events.items() if log)

    async def set_meta(self, key: str, value: str) -> None:
        self._check_open()
        self._meta[key] = value

    async def get_meta(self, key: str) -> str | None:
        self._check_open()
        return self._meta.get(key)

    def subscribe(self, stream: str, *, after_seq: int | None = None) -> Subscription:
        check_read(stream, after_seq or 0, None)
        start: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        start.set_result(len(self._events.get(stream, ())) if after_seq is None else after_seq)
        sub = Subscription(stream, read=self.read, start=start, on_close=self._detach)
        self._subs[stream].add(sub)
        return sub

    def _detach(self, sub: Subscription) -> None:
        subs = self._subs.get(sub.stream)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subs[sub.stream]
