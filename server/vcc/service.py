"""The service: each consultation's folded state in memory, and commands
executed as decide -> durable append -> apply -> publish.

Theory of operation
-------------------
A ``Runtime`` owns one consultation on this node. Commands queue for one
committer; each is decided against the state at ``seq``, appended with
``expected_seq=seq`` and applied once durable, so an acknowledged command is
in the log. If another node appended first the store says so
(``ConcurrencyConflict``): the runtime catches up and decides again — no
leader is needed. Commands that queued during an append are decided together,
each against the state the earlier ones leave, and appended in one durable
write (group commit); a single command is a batch of one.
Events appended elsewhere arrive through the store's
subscription and are applied in sequence; ``_ingest`` ignores what is
already applied, so the local path and the subscription can race safely.

Every command id is recorded with its events in the same atomic append
(``actor:id``), so a retry, even on another node, returns the first answer
and is never applied twice. Rejections change nothing and are remembered
only in memory.

Time-driven rules are the core's deadlines: after every change the runtime
sets one timer for ``next_deadline`` and sends a ``Tick`` when it falls due.

Lifecycle
---------
The ``Service`` loads a runtime on first use, and only for a consultation
whose stream exists (``existing``): a request naming any other id allocates
nothing. A loaded runtime costs its folded state and a store subscription, so
it is unloaded again once idle: no pin (a socket connection pins it with
``acquire`` until ``release``), no command or read for ``idle_seconds``, and
no pending deadline. Beyond ``max_loaded`` runtimes the least recently used idle
ones go first. A runtime with a deadline (an open sitting) stays loaded, so
its ticks fire on time rather than when someone next asks: sittings are few
and last hours, and only the secretariat opens them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import msgspec
from vcc_protocol import commands as c
from vcc_protocol.events import Event, decode_event, encode_event
from vcc_protocol.vocabulary import SYSTEM_ACTOR

from .ahead import Ahead, copy_state
from .core import ConsultationState, Rejected, apply, decide, next_deadline
from .ops import metrics
from .store.base import (
    ConcurrencyConflict,
    DuplicateCommand,
    EventStore,
    StoreUnavailable,
    check_stream,
)

log = logging.getLogger(__name__)

Ack = dict[str, Any]
Clock = Callable[[], int]

#: How far behind a reconnecting client may be and still get the missed events rather than a snapshot.
REPLAY_LIMIT = 2_000
MAX_ATTEMPTS = 20
SNAPSHOT_EVERY = 2_000
#: Answers that say nothing happened *yet*: a retry with the same id must be tried again.
TRANSIENT = frozenset({"unavailable", "conflict", "internal_error"})
#: Runtimes kept in memory at most, besides those in use (pinned or with a deadline).
DEFAULT_MAX_LOADED = 100
#: Seconds without a connection, a command or a read after which a runtime is unloaded.
DEFAULT_IDLE_SECONDS = 300.0
_state_decoder = msgspec.msgpack.Decoder(ConsultationState)


class UnknownConsultation(Exception):
    """No consultation of that id in the store; nothing was loaded."""


def wall_clock() -> int:
    return time.time_ns() // 1_000_000


def ok(seq: int) -> Ack:
    return {"ok": True, "seq": seq}


def error(code: str, message: str) -> Ack:
    return {"ok": False, "error": {"code": code, "message": message}}


@dataclass(frozen=True, slots=True)
class Batch:
    """Events first..last of a consultation, in order."""

    consultation: str
    epoch: str
    first: int
    last: int
    events: list[Event]


Listener = Callable[[Batch], None]


def settle(future: asyncio.Future[Ack]) -> Callable[[Ack], None]:
    """A ``reply`` for ``Runtime.submit`` that resolves ``future``, unless its awaiter gave up on it."""

    def reply(answer: Ack) -> None:
        if not future.done():
            future.set_result(answer)

    return reply


@dataclass(frozen=True, slots=True)
class Pending:
    """A command waiting for the committer."""

    command: c.Command
    actor: str
    #: ``actor:id``, under which the store records it; None for a command without an id (a tick).
    key: str | None
    #: Told the answer once, as soon as it is known (see ``Runtime.submit``).
    reply: Callable[[Ack], None]
    #: When it was submitted (``time.perf_counter``), for the command latency metric.
    since: float


class Runtime:
    """One consultation on this node. Create with ``await Runtime.load(...)``."""

    def __init__(self, store: EventStore, consultation: str, clock: Clock) -> None:
        self.store = store
        self.consultation = consultation
        self.clock = clock
        self.state = ConsultationState()
        self.seq = 0
        self.epoch = ""
        self._queue: list[Pending] = []
        #: The state batches are decided on (:mod:`.ahead`).
        self._ahead = Ahead()
        self._committer: asyncio.Task[None] | None = None
        self._answers: OrderedDict[str, Ack] = OrderedDict()
        self._recent: deque[tuple[int, Event]] = deque(maxlen=REPLAY_LIMIT)
        self._listeners: list[Listener] = []
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: int | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self._snapshot_seq = 0
        self._subscription: Any = None
        self._follower: asyncio.Task[None] | None = None
        #: Socket connections using this runtime (see ``Service.acquire``).
        self.pins = 0
        #: When it was last used (the loop's monotonic clock), for unloading the idle.
        self.used_at = asyncio.get_running_loop().time()

    @classmethod
    async def load(cls, store: EventStore, consultation: str, clock: Clock = wall_clock) -> Runtime:
        """Rebuild the state from the latest snapshot and the events after it, then follow the log."""
        runtime = cls(store, consultation, clock)
        snapshot = await store.load_snapshot(consultation)
        if snapshot is not None:
            try:
                state = _state_decoder.decode(snapshot[1])
            except msgspec.ValidationError:
                # A snapshot of an older state shape: replay the log instead (events are upcast on read).
                log.info("snapshot of %s at %d is of an older shape; replaying the log", consultation, snapshot[0])
            else:
                runtime.seq, runtime.state = snapshot[0], state
                runtime._snapshot_seq = runtime.seq
        runtime._subscription = store.subscribe(consultation, after_seq=runtime.seq)
        await runtime.catch_up()
        runtime._follower = asyncio.get_running_loop().create_task(runtime._follow())
        runtime._schedule_tick()
        return runtime

    def touch(self) -> None:
        self.used_at = asyncio.get_running_loop().time()

    @property
    def busy(self) -> bool:
        """In use: pinned, executing, saving, or waiting for a deadline; never unloaded then."""
        return bool(
            self.pins
            or self._queue
            or self._background
            or self._timer_at is not None
            or (self._committer is not None and not self._committer.done())
        )

    async def close(self) -> None:
        if self._committer is not None:
            await asyncio.gather(self._committer, return_exceptions=True)
        if self._timer is not None:
            self._timer.cancel()
        if self._subscription is not None:
            await self._subscription.close()
        tasks = [*self._background, *([self._follower] if self._follower else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._listeners.clear()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with every new batch, synchronously and in order. Returns an unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    # --- commands ----------------------------------------------------------------------

    async def execute(self, command: c.Command, actor: str) -> Ack:
        """Decide, append durably, apply. Answers ``{ok, seq}`` or ``{ok: false, error}``.

        Commands queue for one committer. The commands that arrived while the
        previous append was being made durable are decided together, in
        arrival order, and appended in one durable write (group commit): under
        a burst, one fsync and one broadcast serve many commands.
        """
        future: asyncio.Future[Ack] = asyncio.get_running_loop().create_future()
        self.submit(command, actor, settle(future))
        return await future

    def submit(self, command: c.Command, actor: str, reply: Callable[[Ack], None]) -> None:
        """``execute`` without a coroutine: queue the command; ``reply`` is called once with its answer.

        ``reply`` is called synchronously: at once for a command answered before,
        else by the committer as soon as the command's events are applied, after
        the listeners were told of them and before any callback they scheduled
        runs. The gateway's command path relies on that to send the ack in the
        same write as the events batch the publisher sends next.
        """
        self.touch()
        key = f"{actor}:{command.id}" if command.id else None
        if key is not None and key in self._answers:
            reply(self._answers[key])
            return
        self._queue.append(Pending(command, actor, key, reply, time.perf_counter()))
        if self._committer is None or self._committer.done():
            self._committer = asyncio.get_running_loop().create_task(self._commit())

    async def _commit(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            try:
                answers = await self._execute_batch(batch)
            except Exception:
                log.exception("commands of %s failed", self.consultation)
                answers = [error("internal_error", "The server failed to handle this command; nothing was changed.")] * len(batch)
            answered = time.perf_counter()
            for pending, answer in zip(batch, answers, strict=True):
                if pending.key is not None and (answer["ok"] or answer["error"]["code"] not in TRANSIENT):
                    self._remember(pending.key, answer)
                metrics.COMMANDS.labels(pending.command.__struct_config__.tag, "ok" if answer["ok"] else answer["error"]["code"]).inc()
                metrics.COMMAND_SECONDS.observe(answered - pending.since)
                try:
                    pending.reply(answer)
                except Exception:
                    log.exception("the answer to %s could not be given", pending.key or pending.command.__struct_config__.tag)

    async def _execute_batch(self, batch: list[Pending]) -> list[Ack]:
        """Decide the commands in arrival order and append all their events in one durable write.

        Each command is decided against the state the earlier ones in the batch
        leave: a batch of several is decided on the ahead state (:mod:`.ahead`),
        which takes each command's events at once. A batch of one, the common
        case on a quiet consultation, is decided on the live state and needs no
        ahead state (``decide`` never mutates; the events are applied to the live
        state once durable, by ``_ingest``).
        """
        #: Commands the store already holds (a retry that reached another node first): their first answer.
        settled: dict[str, Ack] = {}
        for attempt in range(MAX_ATTEMPTS):
            expected = self.seq
            ahead = self._ahead if len(batch) > 1 else None
            scratch = self.state if ahead is None else ahead.at(self.state, expected)
            now = self.clock()
            answers: list[Ack | None] = []
            spans: list[tuple[int, int]] = []  # (index of the command, number of its events)
            events: list[Event] = []
            encoded: list[bytes] = []
            rejected: list[tuple[int, str | None, Rejected]] = []
            first_of: dict[str, int] = {}
            for index, pending in enumerate(batch):
                key = pending.key
                if key is not None:
                    known = self._answers.get(key) or settled.get(key)
                    if known is not None:
                        answers.append(known)
                        continue
                    if key in first_of:  # the same command twice in one batch
                        answers.append(None)
                        continue
                try:
                    decided = decide(scratch, pending.command, pending.actor, now)
                except Rejected as rejection:
                    answers.append(None)
                    rejected.append((index, key, rejection))
                    continue
                if not decided:
                    answers.append(ok(expected + len(events)))
                    continue
                answers.append(None)
                for event in decided:
                    data = encode_event(event)
                    encoded.append(data)
                    if ahead is not None:
                        ahead.decided(data)
                if key is not None:
                    first_of[key] = index
                spans.append((index, len(decided)))
                events += decided
            if not events and rejected and attempt < MAX_ATTEMPTS - 1:
                # An append on a stale state is refused by the store and decided again; a
                # refusal appends nothing, so ask the store: "nobody waiting" must not be
                # said of a request another node has already acknowledged.
                await self.catch_up()
                if self.seq > expected:
                    continue
            if events:
                commands = [(batch[i].key or "", n) for i, n in spans]
                try:
                    with self._ahead.appending():
                        await self.store.append(self.consultation, expected, encoded, commands=commands)
                except ConcurrencyConflict:
                    await self.catch_up()
                    continue
                except DuplicateCommand as duplicate:
                    # Nothing was stored: answer that one as the first time, decide the others again.
                    await self.catch_up()
                    settled[duplicate.command_id] = ok(duplicate.last_seq)
                    continue
                except StoreUnavailable as exc:
                    # "May not": a store that hung rather than refused can still
                    # apply the append later; a retry with the same id is safe.
                    failed = error(
                        "unavailable", f"The event store is unavailable ({exc}); the command may not have been recorded. Try again shortly."
                    )
                    for index, _ in spans:
                        answers[index] = failed
                    for index, _, rejection in rejected:
                        answers[index] = error(rejection.code, rejection.message)
                    return [a if a is not None else failed for a in answers]
                metrics.APPENDS.inc()
                metrics.EVENTS_APPENDED.inc(len(events))
                self._ingest(expected + 1, events)
                seq = expected
                for index, count in spans:
                    seq += count
                    answers[index] = ok(seq)
            for index, key, rejection in rejected:
                answers[index] = await self._first_answer(key) or error(rejection.code, rejection.message)
            for index, pending in enumerate(batch):
                if answers[index] is None and pending.key is not None:
                    answers[index] = answers[first_of[pending.key]]
            return [a if a is not None else ok(self.seq) for a in answers]
        return [error("conflict", "The consultation kept changing while this command was retried; try again.")] * len(batch)

    async def execute_atomically(self, commands: list[c.Command], actor: str, *, dry_run: bool = False) -> Ack:
        """All or nothing: decide every command in order on a copy of the state,
        then append all their events in one durable write.

        A refusal appends nothing; its answer carries ``index``, the command
        refused. ``dry_run`` decides and appends nothing, so it says whether the
        commands would be accepted now. Concurrent commands are safe: a stale
        ``expected_seq`` makes the store refuse the write, and the commands are
        decided again after catching up.
        """
        self.touch()
        for _ in range(MAX_ATTEMPTS):
            expected = self.seq
            scratch = copy_state(self.state)
            now = self.clock()
            events: list[Event] = []
            spans: list[tuple[str, int]] = []
            for index, command in enumerate(commands):
                try:
                    decided = decide(scratch, command, actor, now)
                except Rejected as rejection:
                    return {**error(rejection.code, rejection.message), "index": index}
                for event in decided:
                    apply(scratch, event)
                if decided:
                    spans.append((f"{actor}:{command.id}" if command.id else "", len(decided)))
                    events += decided
            if dry_run or not events:
                return ok(expected)
            try:
                await self.store.append(self.consultation, expected, [encode_event(e) for e in events], commands=spans)
            except (ConcurrencyConflict, DuplicateCommand):
                await self.catch_up()
                continue
            except StoreUnavailable as exc:
                return error(
                    "unavailable",
                    f"The event store is unavailable ({exc}); the commands may not have been recorded. Run them again: once recorded, an import is reported as already imported.",
                )
            metrics.APPENDS.inc()
            metrics.EVENTS_APPENDED.inc(len(events))
            self._ingest(expected + 1, events)
            return ok(expected + len(events))
        return error("conflict", "The consultation kept changing while these commands were retried; try again.")

    async def _first_answer(self, key: str | None) -> Ack | None:
        """``ok`` if the command was already applied, by this node or another.

        A retry that reaches another node (its first node died before
        answering) is decided against a state that already holds its events,
        so the core rejects it ("already requested"); the store's record of
        the command id says it succeeded. Asked only on a rejection, so the
        common path costs no extra round trip.
        """
        if key is None:
            return None
        try:
            done = await self.store.find_command(self.consultation, key)
        except StoreUnavailable as exc:
            return error("unavailable", f"The event store is unavailable ({exc}); try again shortly.")
        return ok(done[1]) if done is not None else None

    def _remember(self, key: str, answer: Ack) -> None:
        self._answers[key] = answer
        if len(self._answers) > 50_000:
            self._answers.popitem(last=False)

    # --- following the log -------------------------------------------------------------

    async def catch_up(self) -> None:
        """Apply every event in the store after ``seq``."""
        head = await self.store.head(self.consultation)
        self.epoch = head.epoch
        while self.seq < head.seq:
            rows = await self.store.read(self.consultation, self.seq, limit=10_000)
            if not rows:
                break
            for seq, data in rows:
                self._ingest(seq, [decode_event(data)])

    async def _follow(self) -> None:
        async for seq, data in self._subscription:
            if seq <= self.seq:
                continue
            if seq == self.seq + 1:
                if not self.epoch:
                    self.epoch = (await self.store.head(self.consultation)).epoch
                self._ingest(seq, [decode_event(data)])
            else:
                await self.catch_up()

    def _ingest(self, first: int, events: list[Event]) -> None:
        """Apply events first.. if they are the next ones; skip what is already applied."""
        skip = self.seq + 1 - first
        if skip < 0:
            raise RuntimeError(f"gap in {self.consultation}: have {self.seq}, got {first}")
        events = events[skip:]
        if not events:
            return
        first = self.seq + 1
        for offset, event in enumerate(events):
            apply(self.state, event)
            self._ahead.follow(first + offset, event)
            self._recent.append((first + offset, event))
        self.seq = first + len(events) - 1
        batch = Batch(self.consultation, self.epoch, first, self.seq, events)
        for listener in list(self._listeners):
            try:
                listener(batch)
            except Exception:
                log.exception("a batch listener failed")
        self._schedule_tick()
        if self.seq - self._snapshot_seq >= SNAPSHOT_EVERY:
            self._snapshot_seq = self.seq
            self._spawn(self._save_snapshot(self.seq, msgspec.msgpack.encode(self.state)))

    async def _save_snapshot(self, seq: int, data: bytes) -> None:
        try:
            await self.store.save_snapshot(self.consultation, seq, data)
        except StoreUnavailable:
            log.warning("snapshot of %s at %d not saved: store unavailable", self.consultation, seq)

    async def history(self) -> list[Event]:
        """The log up to the state's sequence, for the folds the state does not keep (the whole caption record)."""
        rows = await self.store.read(self.consultation, 0, self.seq)
        return [decode_event(data) for _, data in rows]

    def events_after(self, seq: int) -> list[tuple[int, Event]] | None:
        """The events after ``seq`` from memory, or None when they are not all there (send a snapshot)."""
        if seq == self.seq:
            return []
        if seq > self.seq or not self._recent or self._recent[0][0] > seq + 1:
            return None
        start = seq + 1 - self._recent[0][0]
        return list(self._recent)[start:]

    # --- the clock ---------------------------------------------------------------------

    def _schedule_tick(self) -> None:
        deadline = next_deadline(self.state)
        if deadline == self._timer_at:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._timer_at = deadline
        if deadline is None:
            return
        loop = asyncio.get_running_loop()
        delay = max((deadline - self.clock()) / 1000, 0)
        self._timer = loop.call_later(delay, self._fire_tick)

    def _fire_tick(self) -> None:
        self._timer, self._timer_at = None, None
        self._spawn(self._tick())

    async def _tick(self) -> None:
        answer = await self.execute(c.Tick(id=c.new_id()), SYSTEM_ACTOR)
        if not answer["ok"]:
            # The store is down: try again shortly rather than lose the slot end.
            # Kept as the timer, so the runtime counts as busy and is not unloaded meanwhile.
            log.warning("tick of %s failed: %s", self.consultation, answer["error"]["message"])
            if self._timer is not None:
                self._timer.cancel()
            self._timer_at = next_deadline(self.state)
            self._timer = asyncio.get_running_loop().call_later(1.0, self._fire_tick)
        else:
            self._schedule_tick()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)


class Service:
    """The consultations this node serves, loaded on first use and unloaded when idle.

    :param max_loaded: runtimes kept in memory at most; beyond it the least
        recently used idle one is unloaded. Busy runtimes (pinned by a
        connection, executing, or with a pending deadline) are never unloaded,
        so they may exceed it.
    :param idle_seconds: an idle runtime is unloaded after this long unused.
    """

    def __init__(
        self,
        store: EventStore,
        clock: Clock = wall_clock,
        *,
        max_loaded: int = DEFAULT_MAX_LOADED,
        idle_seconds: float = DEFAULT_IDLE_SECONDS,
    ) -> None:
        self.store = store
        self.clock = clock
        self.max_loaded = max_loaded
        self.idle_seconds = idle_seconds
        #: Least recently used first.
        self._runtimes: OrderedDict[str, Runtime] = OrderedDict()
        self._loading: dict[str, asyncio.Future[Runtime]] = {}
        self._unload_listeners: list[Callable[[Runtime], None]] = []
        self._closing: set[asyncio.Task[None]] = set()
        self._sweeper: asyncio.TimerHandle | None = None
        self._load_listeners: list[Callable[[Runtime], None]] = []

    def on_load(self, callback: Callable[[Runtime], None]) -> None:
        """Call ``callback`` with every runtime this node loads from now on (the media adapter follows them)."""
        self._load_listeners.append(callback)

    async def runtime(self, consultation: str) -> Runtime:
        """The runtime of ``consultation``, loaded if need be, even for a stream
        that does not exist yet: for trusted callers that may create it (the
        CLI, the deployment admin). Others use ``existing`` or ``acquire``."""
        runtime = self._runtimes.get(consultation)
        if runtime is None:
            if consultation not in self._loading:
                self._loading[consultation] = asyncio.ensure_future(Runtime.load(self.store, consultation, self.clock))
            try:
                loaded = await asyncio.shield(self._loading[consultation])
            finally:
                self._loading.pop(consultation, None)
            # Several requests may have awaited the same load: the first one back registers it.
            if consultation not in self._runtimes:
                self._runtimes[consultation] = loaded
                metrics.RUNTIMES_LOADED.inc()
                for callback in self._load_listeners:
                    callback(loaded)
                self._evict(keep=loaded)
                self._start_sweeping()
            runtime = self._runtimes[consultation]
        runtime.touch()
        self._runtimes.move_to_end(consultation)
        return runtime

    async def exists(self, consultation: str) -> bool:
        """Whether the store holds events for ``consultation``: one read, nothing loaded."""
        runtime = self._runtimes.get(consultation)
        # A loaded runtime may hold nothing: a trusted caller's dry run or refused import loads one.
        if runtime is not None and runtime.seq > 0:
            return True
        try:
            check_stream(consultation)
        except ValueError:
            return False
        return (await self.store.head(consultation)).seq > 0

    async def existing(self, consultation: str) -> Runtime:
        """The runtime of a consultation the store holds; ``UnknownConsultation`` otherwise."""
        if not await self.exists(consultation):
            raise UnknownConsultation(consultation)
        return await self.runtime(consultation)

    async def acquire(self, consultation: str) -> Runtime:
        """``existing``, pinned until ``release``: a connection's runtime is never unloaded under it."""
        runtime = await self.existing(consultation)
        runtime.pins += 1
        return runtime

    def release(self, runtime: Runtime) -> None:
        runtime.pins -= 1
        runtime.touch()

    @asynccontextmanager
    async def using(self, consultation: str) -> AsyncIterator[Runtime]:
        """``acquire`` for the duration of a block."""
        runtime = await self.acquire(consultation)
        try:
            yield runtime
        finally:
            self.release(runtime)

    def adopt(self, runtime: Runtime) -> None:
        """Serve a runtime loaded over another store (a practice consultation, in
        memory) like the others: connections acquire it by its id, and it is
        unloaded as they are. The load listeners are not called: the media plane
        follows only the consultations of the durable store."""
        if runtime.consultation in self._runtimes or runtime.consultation in self._loading:
            raise ValueError(f"{runtime.consultation!r} is already loaded")
        self._runtimes[runtime.consultation] = runtime
        metrics.RUNTIMES_LOADED.inc()
        self._evict(keep=runtime)
        self._start_sweeping()

    def discard(self, runtime: Runtime) -> None:
        """Unload ``runtime`` now if it is still the one loaded under its id, busy or not."""
        if self._runtimes.get(runtime.consultation) is runtime:
            self._unload(runtime.consultation, "discarded")

    def on_unload(self, listener: Callable[[Runtime], None]) -> None:
        """Call ``listener`` with each runtime as it is unloaded (to drop what refers to it)."""
        self._unload_listeners.append(listener)

    @property
    def loaded(self) -> list[str]:
        return list(self._runtimes)

    def _evict(self, keep: Runtime) -> None:
        """Unload the least recently used idle runtimes beyond ``max_loaded``."""
        excess = len(self._runtimes) - self.max_loaded
        for consultation, runtime in list(self._runtimes.items()):
            if excess <= 0:
                break
            if runtime is not keep and not runtime.busy:
                self._unload(consultation, "lru")
                excess -= 1

    def _start_sweeping(self) -> None:
        if self._sweeper is None:
            self._sweeper = asyncio.get_running_loop().call_later(self._sweep_every, self._sweep)

    @property
    def _sweep_every(self) -> float:
        return min(max(self.idle_seconds / 4, 0.05), 30.0)

    def _sweep(self) -> None:
        self._sweeper = None
        cutoff = asyncio.get_running_loop().time() - self.idle_seconds
        for consultation, runtime in list(self._runtimes.items()):
            if runtime.used_at <= cutoff and not runtime.busy:
                self._unload(consultation, "idle")
        if self._runtimes:
            self._start_sweeping()

    def _unload(self, consultation: str, reason: str) -> None:
        runtime = self._runtimes.pop(consultation)
        metrics.RUNTIMES_LOADED.dec()
        metrics.RUNTIME_UNLOADS.labels(reason).inc()
        for listener in list(self._unload_listeners):
            try:
                listener(runtime)
            except Exception:
                log.exception("an unload listener failed")
        task = asyncio.get_running_loop().create_task(runtime.close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def consultations(self) -> list[str]:
        return sorted(await self.store.streams())

    @asynccontextmanager
    async def holding(self, consultation: str) -> AsyncIterator[Runtime]:
        """``runtime``, kept loaded for the duration of a block: a trusted caller's
        several steps (commands in turn, an import's plan and its write)."""
        runtime = await self.runtime(consultation)
        runtime.pins += 1
        try:
            yield runtime
        finally:
            self.release(runtime)

    async def execute_all(self, consultation: str, commands: list[c.Command], actor: str) -> list[Ack]:
        """Run commands in order, stopping at the first refusal (its answer is last)."""
        async with self.holding(consultation) as runtime:
            answers = []
            for command in commands:
                answer = await runtime.execute(command, actor)
                answers.append(answer)
                if not answer["ok"]:
                    break
            return answers

    async def execute_atomically(self, consultation: str, commands: list[c.Command], actor: str, *, dry_run: bool = False) -> Ack:
        """Every command or none (see ``Runtime.execute_atomically``)."""
        async with self.holding(consultation) as runtime:
            return await runtime.execute_atomically(commands, actor, dry_run=dry_run)

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        for runtime in self._runtimes.values():
            await runtime.close()
        metrics.RUNTIMES_LOADED.dec(len(self._runtimes))
        self._runtimes.clear()
        await asyncio.gather(*self._closing, return_exceptions=True)
