"""Embedded event store: one SQLite file in WAL mode, no server to install.

Theory of operation
-------------------
One connection lives in one worker thread, so the event loop never blocks on
disk. Callers put jobs on a queue and await a future. The worker takes
*everything* queued (up to ``MAX_BATCH`` jobs), runs it in one transaction
and commits once: appends that arrive while a commit's fsync is in progress
are committed together by the next one (group commit). Each append still
makes its own ``expected_seq`` and ``command_id`` checks, in queue order, and
gets its own result or exception; refusals are decided before the append
writes anything, so they need no rollback. Futures are resolved only after
the COMMIT, so an append never returns before it is on disk.

Reads go through the same queue, which keeps one simple rule: jobs take
effect in the order they were submitted. ``subscribe`` relies on it to
start exactly after the head it reads.

Durability: ``journal_mode=WAL`` with ``synchronous=FULL`` fsyncs the WAL
at every commit, so an acknowledged append survives a process crash and,
on a disk that honours fsync, a power cut.
"""

from __future__ import annotations

import asyncio
import collections
import os
import queue
import secrets
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .base import (
    ConcurrencyConflict,
    DuplicateCommand,
    EventStore,
    StoreError,
    StoreUnavailable,
    StreamHead,
    Subscription,
    check_append,
    check_read,
    check_stream,
    command_spans,
)

#: File name used when the store is given a directory.
DEFAULT_FILENAME = "events.sqlite"
#: Suffixes that make a path that does not exist yet a database file, not a directory.
FILE_SUFFIXES = (".sqlite", ".sqlite3", ".db")
#: Bumped when the tables change; a database of another version is refused.
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS streams (
    stream TEXT PRIMARY KEY,
    epoch TEXT NOT NULL,
    seq INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
    stream TEXT NOT NULL,
    seq INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (stream, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS commands (
    stream TEXT NOT NULL,
    command_id TEXT NOT NULL,
    first_seq INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    PRIMARY KEY (stream, command_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS snapshots (
    stream TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
"""


def database_path(path: str | os.PathLike[str]) -> Path:
    """Resolve the store location to a database file.

    An existing directory, or a path that does not exist and has none of
    ``FILE_SUFFIXES``, is a directory holding ``events.sqlite`` (created on
    open). Anything else is the database file itself.
    """
    p = Path(path)
    if p.is_dir() or (not p.exists() and p.suffix not in FILE_SUFFIXES):
        return p / DEFAULT_FILENAME
    return p


@dataclass(slots=True)
class _Job:
    """Work for the worker thread. ``run`` raises ``StoreError``/``ValueError``
    only before writing; ``on_commit`` runs on the loop after a successful commit."""

    run: Callable[[sqlite3.Connection], Any]
    writes: bool
    future: asyncio.Future[Any]
    on_commit: Callable[[Any], None] | None = field(default=None)


_STOP = None


class SqliteStore(EventStore):
    """Event store in one SQLite file, durable at every acknowledged append.

    One process should own a database file: appends by other processes
    would be serialised by SQLite's lock but not notified to this store's
    subscribers.

    :param path: a directory or a database file, see ``database_path``.
    """

    #: Most jobs committed in one transaction; bounds the latency one commit adds.
    MAX_BATCH = 2000

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = database_path(path)
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._subs: dict[str, set[Subscription]] = collections.defaultdict(set)

    # -- lifecycle ---------------------------------------------------------

    async def open(self) -> None:
        if self._thread is not None:
            raise RuntimeError("SqliteStore is already open")
        self._loop = asyncio.get_running_loop()
        opened: asyncio.Future[None] = self._loop.create_future()
        self._thread = threading.Thread(target=self._work, args=(opened,), name=f"vcc-sqlite:{self.path.name}", daemon=True)
        self._thread.start()
        try:
            await opened
        except BaseException:
            await asyncio.to_thread(self._thread.join)
            self._thread = None
            raise

    async def close(self) -> None:
        if self._thread is None:
            return
        for subs in list(self._subs.values()):
            for sub in list(subs):
                await sub.close()
        thread, self._thread = self._thread, None
        self._jobs.put(_STOP)  # after every job already queued
        await asyncio.to_thread(thread.join)

    # -- the worker thread -------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, one per batch.
        conn = sqlite3.connect(self.path, isolation_level=None)
        try:
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode != "wal":
                raise StoreUnavailable(
                    f"{self.path} cannot use WAL mode (got {mode!r}): put the store on a local disk, not a network file system"
                )
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA busy_timeout=5000")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, SCHEMA_VERSION):
                raise StoreUnavailable(
                    f"{self.path} has schema version {version}, this vcc reads {SCHEMA_VERSION}: run the vcc version that wrote it"
                )
            if version == 0:
                # Only a new file: setting user_version rewrites the header even
                # when unchanged, and an open that writes nothing must leave the
                # file byte for byte as it was (a refused import is checked so).
                conn.executescript(_SCHEMA + f"PRAGMA user_version={SCHEMA_VERSION};")
        except BaseException:
            conn.close()
            raise
        return conn

    def _work(self, opened: asyncio.Future[None]) -> None:
        assert self._loop is not None
        loop = self._loop
        try:
            conn = self._connect()
        except (sqlite3.Error, OSError) as exc:
            error = StoreUnavailable(f"cannot open the event store {self.path}: {exc}; check that the directory exists and is writable")
            loop.call_soon_threadsafe(_settle_one, opened, None, error)
            return
        except StoreError as exc:
            loop.call_soon_threadsafe(_settle_one, opened, None, exc)
            return
        loop.call_soon_threadsafe(_settle_one, opened, None, None)
        try:
            while True:
                job = self._jobs.get()
                if job is _STOP:
                    return
                batch = [job]
                stop = False
                while len(batch) < self.MAX_BATCH:
                    try:
                        job = self._jobs.get_nowait()
                    except queue.Empty:
                        break
                    if job is _STOP:
                        stop = True
                        break
                    batch.append(job)
                outcomes = self._run_batch(conn, batch)
                loop.call_soon_threadsafe(_settle, outcomes)
                if stop:
                    return
        finally:
            conn.close()

    def _run_batch(self, conn: sqlite3.Connection, batch: list[_Job]) -> list[tuple[_Job, Any, BaseException | None]]:
        writes = any(job.writes for job in batch)
        outcomes: list[tuple[_Job, Any, BaseException | None]] = []
        try:
            if writes:
                conn.execute("BEGIN IMMEDIATE")
            for job in batch:
                try:
                    outcomes.append((job, job.run(conn), None))
                except (StoreError, ValueError) as exc:  # refused before writing
                    outcomes.append((job, None, exc))
            if writes:
                conn.execute("COMMIT")
        except Exception as exc:
            # A failure while writing dooms the whole transaction: nothing in
            # this batch is stored, and every job says so.
            if conn.in_transaction:
                conn.rollback()
            error: BaseException = exc
            if isinstance(exc, sqlite3.Error):
                error = StoreUnavailable(
                    f"writing {self.path} failed: {exc}; nothing of this batch was "
                    "stored: check free disk space and permissions, then retry"
                )
            return [(job, None, error) for job in batch]
        return outcomes

    # -- submitting jobs ---------------------------------------------------

    def _submit(
        self,
        run: Callable[[sqlite3.Connection], Any],
        *,
        writes: bool = False,
        on_commit: Callable[[Any], None] | None = None,
    ) -> asyncio.Future[Any]:
        future = self._require_loop().create_future()
        self._jobs.put(_Job(run, writes, future, on_commit))
        return future

    def _require_loop(self) -> asyncio.AbstractEventLoop:
        if self._thread is None or self._loop is None:
            raise RuntimeError("the store is not open: call `await store.open()` first")
        return self._loop

    # -- the contract ------------------------------------------------------

    async def head(self, stream: str) -> StreamHead:
        check_stream(stream)
        return await self._submit(lambda conn: _head(conn, stream))

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
        events = list(events)
        spans = command_spans(events, command_id, commands)

        def run(conn: sqlite3.Connection) -> int:
            for cid, _ in spans:
                if not cid:
                    continue
                done = conn.execute(
                    "SELECT first_seq, last_seq FROM commands WHERE stream = ? AND command_id = ?",
                    (stream, cid),
                ).fetchone()
                if done is not None:
                    raise DuplicateCommand(stream, cid, *done)
            current = _head(conn, stream)
            if current.seq != expected_seq:
                raise ConcurrencyConflict(stream, expected_seq, current)
            last = expected_seq + len(events)
            conn.executemany(
                "INSERT INTO events (stream, seq, data) VALUES (?, ?, ?)",
                [(stream, seq, data) for seq, data in enumerate(events, expected_seq + 1)],
            )
            if current.epoch:
                conn.execute("UPDATE streams SET seq = ? WHERE stream = ?", (last, stream))
            else:
                conn.execute(
                    "INSERT INTO streams (stream, epoch, seq) VALUES (?, ?, ?)",
                    (stream, secrets.token_hex(8), last),
                )
            at = expected_seq + 1
            for cid, count in spans:
                if not cid:
                    at += count
                    continue
                conn.execute(
                    "INSERT INTO commands (stream, command_id, first_seq, last_seq) VALUES (?, ?, ?, ?)",
                    (stream, cid, at, at + count - 1),
                )
                at += count
            return last

        def notify(_last: int) -> None:
            for sub in list(self._subs.get(stream, ())):
                sub.push(expected_seq + 1, events)

        return await self._submit(run, writes=True, on_commit=notify)

    async def find_command(self, stream: str, command_id: str) -> tuple[int, int] | None:
        check_stream(stream)

        def run(conn: sqlite3.Connection) -> tuple[int, int] | None:
            return conn.execute(
                "SELECT first_seq, last_seq FROM commands WHERE stream = ? AND command_id = ?",
                (stream, command_id),
            ).fetchone()

        return await self._submit(run)

    async def read(self, stream: str, after_seq: int, limit: int | None = None) -> list[tuple[int, bytes]]:
        check_read(stream, after_seq, limit)

        def run(conn: sqlite3.Connection) -> list[tuple[int, bytes]]:
            return conn.execute(
                "SELECT seq, data FROM events WHERE stream = ? AND seq > ? ORDER BY seq LIMIT ?",
                (stream, after_seq, -1 if limit is None else limit),
            ).fetchall()

        return await self._submit(run)

    async def save_snapshot(self, stream: str, seq: int, data: bytes) -> None:
        check_stream(stream)

        def run(conn: sqlite3.Connection) -> None:
            head = _head(conn, stream)
            if seq > head.seq:
                raise ValueError(f"snapshot at seq {seq} is beyond stream {stream!r}'s head {head.seq}")
            conn.execute(
                "INSERT INTO snapshots (stream, seq, data) VALUES (?, ?, ?) "
                "ON CONFLICT (stream) DO UPDATE SET seq = excluded.seq, data = excluded.data "
                "WHERE excluded.seq >= snapshots.seq",
                (stream, seq, data),
            )

        await self._submit(run, writes=True)

    async def load_snapshot(self, stream: str) -> tuple[int, bytes] | None:
        check_stream(stream)

        def run(conn: sqlite3.Connection) -> tuple[int, bytes] | None:
            return conn.execute("SELECT seq, data FROM snapshots WHERE stream = ?", (stream,)).fetchone()

        return await self._submit(run)

    async def streams(self) -> list[str]:
        def run(conn: sqlite3.Connection) -> list[str]:
            return [row[0] for row in conn.execute("SELECT stream FROM streams ORDER BY stream")]

        return await self._submit(run)

    async def set_meta(self, key: str, value: str) -> None:
        def run(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))

        await self._submit(run, writes=True)

    async def get_meta(self, key: str) -> str | None:
        def run(conn: sqlite3.Connection) -> str | None:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            return row[0] if row else None

        return await self._submit(run)

    def subscribe(self, stream: str, *, after_seq: int | None = None) -> Subscription:
        """Follow appends made through this store instance (in-process notification).

        Without ``after_seq`` the head is read by a job queued right now, so
        every append submitted after this call is delivered even before
        ``ready()`` is awaited.
        """
        check_read(stream, after_seq or 0, None)
        if after_seq is None:
            start = self._submit(lambda conn: _head(conn, stream).seq)
        else:
            start = self._require_loop().create_future()
            start.set_result(after_seq)
        sub = Subscription(stream, read=self.read, start=start, on_close=self._detach)
        self._subs[stream].add(sub)
        return sub

    def _detach(self, sub: Subscription) -> None:
        subs = self._subs.get(sub.stream)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subs[sub.stream]


def _head(conn: sqlite3.Connection, stream: str) -> StreamHead:
    row = conn.execute("SELECT epoch, seq FROM streams WHERE stream = ?", (stream,)).fetchone()
    return StreamHead(*row) if row is not None else StreamHead("", 0)


def _settle_one(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():  # the caller was cancelled; the outcome stands anyway
        return
    if error is None:
        future.set_result(result)
    else:
        future.set_exception(error)


def _settle(outcomes: list[tuple[_Job, Any, BaseException | None]]) -> None:
    """On the loop: notify subscribers, then resolve futures, in commit order."""
    for job, result, error in outcomes:
        if error is None and job.on_commit is not None:
            job.on_commit(result)
        _settle_one(job.future, result, error)
