"""The event-store contract shared by every backend.

Theory of operation
-------------------
A *stream* is the append-only event log of one consultation. Events are
opaque ``bytes`` to the store. Each stream numbers its events 1, 2, 3, ...
without gaps; ``StreamHead(epoch, seq)`` names the last one. The epoch is a
random token minted by the first append to a stream and never changed
afterwards: a client that remembers ``(epoch, seq)`` and later sees a
different epoch knows the log it followed is gone (restored from an older
backup, a different server) and must reload from a snapshot rather than
replay a gap.

Writers never lock. ``append`` carries the ``expected_seq`` the writer
decided against; if someone else appended first the store raises
``ConcurrencyConflict`` with the actual head and stores nothing, and the
writer catches up and decides again. A ``command_id`` recorded in the same
atomic step makes a retried command idempotent: the retry raises
``DuplicateCommand`` naming the seqs the first attempt produced.

Live followers use ``subscribe``. Backends push notifications that may be
lost, duplicated or overtaken (a pub/sub reconnect, an overflowing inbox);
``Subscription`` turns them into an exact, gap-free sequence by reading
every gap back from the log, which is the only source of truth.
"""

from __future__ import annotations

import abc
import asyncio
import collections
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import NamedTuple

log = logging.getLogger(__name__)


class StreamHead(NamedTuple):
    """Where a stream stands: its epoch and the seq of its last event.

    A stream that was never appended to has ``epoch == ""`` and ``seq == 0``.
    """

    epoch: str
    seq: int


class StoreError(Exception):
    """Base class of the errors this package raises."""


class ConcurrencyConflict(StoreError):
    """``append`` was called with a stale ``expected_seq``; nothing was stored.

    ``actual`` is the head at the moment of the check: read the events after
    your ``expected_seq``, apply them, decide again and append with
    ``expected_seq=actual.seq`` (or newer).
    """

    def __init__(self, stream: str, expected_seq: int, actual: StreamHead) -> None:
        super().__init__(f"stream {stream!r} is at seq {actual.seq}, not {expected_seq}: read the newer events, decide again and retry")
        self.stream = stream
        self.expected_seq = expected_seq
        self.actual = actual


class DuplicateCommand(StoreError):
    """The ``command_id`` was already appended; nothing was stored this time.

    ``first_seq``..``last_seq`` are the events the first attempt produced:
    answer the retried command with them instead of executing it again.
    """

    def __init__(self, stream: str, command_id: str, first_seq: int, last_seq: int) -> None:
        super().__init__(f"command {command_id!r} was already applied to stream {stream!r} as seq {first_seq}..{last_seq}")
        self.stream = stream
        self.command_id = command_id
        self.first_seq = first_seq
        self.last_seq = last_seq


class StoreUnavailable(StoreError):
    """The backend cannot be reached or cannot write; the message says what to do.

    After a failed ``append`` the outcome is unknown (the backend may have
    stored the events before the connection broke): retry with the same
    ``command_id`` and treat ``DuplicateCommand`` as success.
    """


def check_stream(stream: str) -> None:
    """Reject stream names the backends cannot key safely.

    Braces are reserved because the Redis backend wraps the name in a
    cluster hash tag (``vcc:{name}:log``).
    """
    if not isinstance(stream, str) or not stream:
        raise ValueError("stream must be a non-empty str")
    if "{" in stream or "}" in stream:
        raise ValueError(f"stream name {stream!r} must not contain '{{' or '}}'")


def check_append(
    stream: str,
    expected_seq: int,
    events: Sequence[bytes],
    command_id: str | None,
    commands: Sequence[tuple[str, int]] = (),
) -> None:
    """Validate ``append`` arguments the same way for every backend."""
    check_stream(stream)
    if command_id is not None and (not isinstance(command_id, str) or not command_id):
        raise ValueError("command_id must be None or a non-empty str")
    if commands:
        if command_id is not None:
            raise ValueError("give either command_id or commands, not both")
        if sum(count for _, count in commands) != len(events) or any(count < 1 for _, count in commands):
            raise ValueError("commands must give each command's number of events, covering the events in order")
        named = [cid for cid, _ in commands if cid]
        if len(set(named)) != len(named):
            raise ValueError("a command id appears twice in commands")
    if not isinstance(expected_seq, int) or expected_seq < 0:
        raise ValueError(f"expected_seq must be an int >= 0, got {expected_seq!r}")
    if not events:
        raise ValueError("append needs at least one event")
    for event in events:
        if not isinstance(event, bytes):
            raise TypeError(f"events must be bytes, got {type(event).__name__}")


def command_spans(events: Sequence[bytes], command_id: str | None, commands: Sequence[tuple[str, int]]) -> list[tuple[str, int]]:
    """The (command id, number of events) of an append: one command covering every
    event, or several commands appended together (group commit by the service)."""
    if command_id is not None:
        return [(command_id, len(events))]
    return list(commands)


def check_read(stream: str, after_seq: int, limit: int | None) -> None:
    """Validate ``read`` arguments the same way for every backend."""
    check_stream(stream)
    if not isinstance(after_seq, int) or after_seq < 0:
        raise ValueError(f"after_seq must be an int >= 0, got {after_seq!r}")
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit must be None or an int >= 1, got {limit!r}")


class EventStore(abc.ABC):
    """An append-only event log per stream with optimistic concurrency.

    All methods are coroutines except ``subscribe``; all raise
    ``StoreUnavailable`` when the backend cannot be reached, and
    ``RuntimeError`` when called before ``open()`` or after ``close()``.
    Many tasks may call any method concurrently.
    """

    async def __aenter__(self) -> EventStore:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @abc.abstractmethod
    async def open(self) -> None:
        """Connect or open files, create the schema; raise ``StoreUnavailable`` if impossible."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release resources and end every open subscription. Idempotent."""

    @abc.abstractmethod
    async def head(self, stream: str) -> StreamHead:
        """The stream's epoch and last seq; ``StreamHead("", 0)`` if never appended to."""

    @abc.abstractmethod
    async def append(
        self,
        stream: str,
        expected_seq: int,
        events: Sequence[bytes],
        *,
        command_id: str | None = None,
        commands: Sequence[tuple[str, int]] = (),
    ) -> int:
        """Append ``events`` as seqs ``expected_seq + 1``.. and return the last seq.

        Atomic: either every event (and the ``command_id`` record) is stored,
        or nothing is. Durable before it returns, as far as the backend is
        configured to be (see the backend's docstring). ``commands`` instead of
        ``command_id`` appends several commands at once (one durable write for
        all): ``(id, number of its events)`` in event order, each recorded with
        its own seq range (an empty id: a command without one, e.g. a tick, not recorded).

        :raises DuplicateCommand: a command id was already recorded for this
            stream (checked before the seq, so a retry after a lost reply is
            recognised even if the stream moved on since).
        :raises ConcurrencyConflict: the head is not ``expected_seq``.
        :raises ValueError: no events, negative ``expected_seq``, bad name.
        :raises StoreUnavailable: outcome unknown; retry with the same
            ``command_id``.

        Cancelling the caller does not cancel the write: as after a crash,
        the outcome is then unknown.
        """

    @abc.abstractmethod
    async def find_command(self, stream: str, command_id: str) -> tuple[int, int] | None:
        """``(first_seq, last_seq)`` appended under ``command_id``, or ``None``."""

    @abc.abstractmethod
    async def read(self, stream: str, after_seq: int, limit: int | None = None) -> list[tuple[int, bytes]]:
        """Events with ``seq > after_seq`` in ascending order, at most ``limit``."""

    @abc.abstractmethod
    async def save_snapshot(self, stream: str, seq: int, data: bytes) -> None:
        """Keep ``data`` as the state folded up to ``seq``.

        Only the newest snapshot is kept: saving one older than the stored
        one is a no-op, so racing nodes cannot move it backwards.

        :raises ValueError: ``seq`` is beyond the stream's head (a snapshot
            of events that do not exist).
        """

    @abc.abstractmethod
    async def load_snapshot(self, stream: str) -> tuple[int, bytes] | None:
        """The newest snapshot as ``(seq, data)``, or ``None``."""

    @abc.abstractmethod
    async def streams(self) -> list[str]:
        """Names of all streams that were appended to, sorted."""

    @abc.abstractmethod
    async def set_meta(self, key: str, value: str) -> None:
        """Keep a small setting of the store itself (not of a stream), e.g. the
        public URL the node serves; the last write wins. Durable like an append."""

    @abc.abstractmethod
    async def get_meta(self, key: str) -> str | None:
        """The setting ``set_meta`` kept under ``key``, or ``None``."""

    @abc.abstractmethod
    def subscribe(self, stream: str, *, after_seq: int | None = None) -> Subscription:
        """Follow ``stream`` live; see ``Subscription`` for the guarantees.

        With ``after_seq`` the subscription yields every event with a higher
        seq, including ones already stored (read back from the log), so a
        caller that folded the log up to ``after_seq`` misses nothing. Without
        it, it starts at the head read while the subscription is set up;
        ``await subscription.ready()`` waits for that and returns the seq, and
        every event appended after it returns is delivered. Must be called
        from a running event loop.
        """


class Subscription:
    """An async iterator of ``(seq, event)`` for one stream: in order, no gaps, no repeats.

    The backend feeds it with ``push`` (live notifications, possibly lost,
    repeated or out of step) and ``resync`` (after a reconnect or whenever
    notifications may have been missed). Whatever the notifications do, the
    subscription reads each gap back with ``read`` before yielding, so the
    sequence it yields is exactly the log's. It survives backend outages:
    a failed gap read is retried with backoff, not raised.

    Its inbox is bounded (``max_pending`` notifications): a consumer that
    falls behind costs no unbounded memory, it catches up from the log.
    One consumer task per subscription. ``close()`` ends the iteration.
    """

    #: Events read per gap-filling ``read`` call.
    PAGE = 1000

    def __init__(
        self,
        stream: str,
        *,
        read: Callable[[str, int, int | None], Awaitable[list[tuple[int, bytes]]]],
        start: Awaitable[int],
        on_close: Callable[[Subscription], None],
        max_pending: int = 10_000,
    ) -> None:
        """
        :param read: the store's ``read``, used to fill gaps.
        :param start: resolves to the seq after which to deliver, once live
            notifications are flowing (so nothing between the two is missed).
        :param on_close: detaches the subscription from the backend's fan-out.
        """
        self.stream = stream
        self._read = read
        self._start = asyncio.ensure_future(start)
        # Its error is re-raised by ready(); this only stops asyncio from
        # logging it as "never retrieved" when no one iterates.
        self._start.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._on_close = on_close
        self._max_pending = max_pending
        self._last: int | None = None
        self._inbox: collections.deque[tuple[int, Sequence[bytes]]] = collections.deque()
        self._out: collections.deque[tuple[int, bytes]] = collections.deque()
        self._catchup = False
        self._closed = False
        self._wakeup = asyncio.Event()

    async def ready(self) -> int:
        """Wait until live delivery is in place; return the seq it delivers after.

        :raises StoreUnavailable: the backend could not be reached to set the
            subscription up; the subscription is then closed.
        :raises RuntimeError: the subscription was closed first.
        """
        if not await self._become_ready():
            raise RuntimeError(f"the subscription to {self.stream!r} is closed")
        assert self._last is not None
        return self._last

    async def _become_ready(self) -> bool:
        """Resolve the start once; False if the subscription is closed."""
        if self._last is not None:
            return True
        if self._closed:
            return False
        try:
            # Shielded: cancelling one waiter must not kill the shared setup.
            start = await asyncio.shield(self._start)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if self._closed and task is not None and not task.cancelling():
                return False  # close() cancelled the setup, not our caller
            raise
        except Exception:
            await self.close()
            raise
        if self._last is None:
            self._last = start
            # Events stored between `start` and the first notification may
            # never be notified to us; one read closes that window.
            self._catchup = True
        return True

    def push(self, first_seq: int, events: Sequence[bytes]) -> None:
        """Hand over a live notification of ``events`` stored from ``first_seq``. Non-blocking."""
        if self._closed:
            return
        if len(self._inbox) >= self._max_pending:
            # Dropping is lossless: the log has them, and the flag makes the
            # consumer read them back.
            self._inbox.clear()
            self._catchup = True
        self._inbox.append((first_seq, events))
        self._wakeup.set()

    def resync(self) -> None:
        """Notifications may have been missed: read the log before trusting them again."""
        self._catchup = True
        self._wakeup.set()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> tuple[int, bytes]:
        if not await self._become_ready():
            raise StopAsyncIteration
        backoff = 0.05
        while True:
            if self._closed:
                raise StopAsyncIteration
            if self._out:
                return self._out.popleft()
            if self._catchup:
                if not await self._fill():
                    await self._sleep(backoff)
                    backoff = min(backoff * 2, 2.0)
                continue
            if self._inbox:
                self._take(*self._inbox.popleft())
                continue
            self._wakeup.clear()
            await self._wakeup.wait()

    def _take(self, first_seq: int, events: Sequence[bytes]) -> None:
        assert self._last is not None
        if first_seq > self._last + 1:
            # A gap: the log already holds everything notified, so read it.
            self._catchup = True
            return
        skip = self._last + 1 - first_seq  # already delivered: duplicates
        for offset, event in enumerate(events[skip:], start=self._last + 1):
            self._out.append((offset, event))
        self._last = max(self._last, first_seq + len(events) - 1)

    async def _fill(self) -> bool:
        """Read one page after ``_last`` into ``_out``; False if the backend failed."""
        assert self._last is not None
        # Cleared before the read so a resync requested meanwhile survives it.
        self._catchup = False
        try:
            page = await self._read(self.stream, self._last, self.PAGE)
        except Exception as exc:
            if self._closed:
                return True  # the store closed under us; __anext__ ends
            if not isinstance(exc, StoreError):
                raise
            self._catchup = True
            log.warning("subscription to %r cannot read the log yet: %s", self.stream, exc)
            return False
        if self._closed:
            return True
        self._out.extend(page)
        if page:
            self._last = page[-1][0]
        if len(page) == self.PAGE:
            self._catchup = True
        return True

    async def _sleep(self, seconds: float) -> None:
        self._wakeup.clear()
        try:
            await asyncio.wait_for(self._wakeup.wait(), seconds)
        except TimeoutError:
            pass

    async def close(self) -> None:
        """Stop delivering and detach from the backend. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._wakeup.set()
        if not self._start.done():
            self._start.cancel()
        self._on_close(self)

    async def __aenter__(self) -> Subscription:
        await self.ready()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
