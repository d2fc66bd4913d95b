"""Event store on Redis Streams, shared by many service nodes.

Theory of operation
-------------------
Per stream ``s`` (the ``{s}`` hash tag keeps them in one Redis Cluster slot):

- ``vcc:{s}:log``  a Redis Stream; event ``n`` has ID ``n-1`` and field ``d``;
- ``vcc:{s}:meta`` a hash ``{epoch, seq}``, the head;
- ``vcc:{s}:cmd``  a hash ``command_id -> "first:last"``;
- ``vcc:{s}:snap`` a hash ``{seq, data}``, the newest snapshot;
- ``vcc:{s}:live`` the pub/sub channel;
- ``vcc:streams``  a set of every stream name (outside the hash tag, so it is
  written by a separate command on a stream's first append);
- ``vcc:meta``     a hash of the store's own settings (``set_meta``).

``redis_append.lua`` appends in one atomic step: command check, seq check,
``XADD`` per event, head and command bookkeeping, and one ``PUBLISH`` of
``msgpack([first_seq, [event, ...]])``. Because the publish happens inside
the script, every node receives a stream's notifications in log order, so no
leader is needed.

Each store has one pub/sub connection, subscribed only to the channels of
streams someone subscribed to here. Notifications are hints: a subscriber
that sees a seq gap, or whose connection was re-established, reads the
missing range from the log (``XRANGE``) before yielding (see
``Subscription``).

Durability is Redis's: an append is acknowledged after Redis applied it,
and is on disk then only with ``appendonly yes`` and ``appendfsync always``
(``everysec`` may lose the last second on a power cut or a kill). ``open()``
logs a warning when AOF is off.

Failures: every call has short socket timeouts and no automatic retry, so a
Redis outage raises ``StoreUnavailable`` within about two seconds instead
of hanging; the connection pool reconnects by itself on the next call once
Redis is back. Subscriptions survive the outage and catch up afterwards.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import secrets
import time
from collections.abc import Iterator, Sequence
from importlib import resources
from typing import Any

import msgpack
import redis.asyncio
import redis.exceptions
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

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

log = logging.getLogger(__name__)

STREAMS_KEY = "vcc:streams"
META_KEY = "vcc:meta"
#: Events fetched per read script call: a whole 100k-event log in one reply
#: would stall Redis for every other client while it is built.
READ_PAGE = 10_000

_APPEND_LUA = resources.files(__package__).joinpath("redis_append.lua").read_text()
_SNAPSHOT_LUA = resources.files(__package__).joinpath("redis_snapshot.lua").read_text()
_READ_LUA = resources.files(__package__).joinpath("redis_read.lua").read_text()

# Errors that mean "Redis cannot serve this now", as opposed to a bug.
_DOWN_REPLIES = ("LOADING", "MISCONF", "READONLY", "OOM", "MASTERDOWN", "NOREPLICAS")


def _keys(stream: str) -> tuple[str, str, str, str, str]:
    """(meta, log, cmd, snap, channel) of ``stream``."""
    tag = f"vcc:{{{stream}}}"
    return f"{tag}:meta", f"{tag}:log", f"{tag}:cmd", f"{tag}:snap", f"{tag}:live"


class RedisStore(EventStore):
    """Event store on Redis (5.0 or newer: Streams and scripts with effects replication).

    :param url: ``redis://[:password@]host:port/db``, ``rediss://`` or
        ``unix://`` as understood by redis-py.
    :param socket_timeout: seconds a command may wait for its reply before
        ``StoreUnavailable``.
    :param connect_timeout: seconds to establish a connection.
    """

    def __init__(self, url: str, *, socket_timeout: float = 2.0, connect_timeout: float = 1.0) -> None:
        self.url = url
        self._socket_timeout = socket_timeout
        self._connect_timeout = connect_timeout
        self._redis: redis.asyncio.Redis | None = None
        self._fanout: _Fanout | None = None

    # -- lifecycle ---------------------------------------------------------

    async def open(self) -> None:
        if self._redis is not None:
            raise RuntimeError("RedisStore is already open")
        client = redis.asyncio.Redis.from_url(
            self.url,
            socket_timeout=self._socket_timeout,
            socket_connect_timeout=self._connect_timeout,
            # No retries: retrying an append whose reply was lost would report
            # a conflict with itself; the caller retries with its command_id.
            retry=Retry(NoBackoff(), 0),
            # RESP2 works with every Redis, and with it redis-py checks an idle
            # pooled connection before reuse; over RESP3 (redis-py 8's default,
            # with "maintenance notifications") it skips that check, so the
            # first call after a Redis restart failed on a dead connection.
            protocol=2,
            decode_responses=False,
        )
        try:
            with self._errors("connecting"):
                await client.ping()
                try:
                    aof_enabled = (await client.info("persistence")).get("aof_enabled")
                except redis.exceptions.ResponseError:
                    aof_enabled = None  # INFO is disabled on some hosted Redis
        except BaseException:
            await client.aclose()
            raise
        if aof_enabled == 0:
            log.warning(
                "Redis at %s has AOF off: acknowledged events can be lost on a restart; "
                "set `appendonly yes` and `appendfsync always` for a durable log",
                self._where(),
            )
        self._redis = client
        self._append_script = client.register_script(_APPEND_LUA)
        self._snapshot_script = client.register_script(_SNAPSHOT_LUA)
        self._read_script = client.register_script(_READ_LUA)
        self._fanout = _Fanout(client, setup_timeout=self._socket_timeout + self._connect_timeout)

    async def close(self) -> None:
        if self._redis is None:
            return
        assert self._fanout is not None
        await self._fanout.close()
        client, self._redis, self._fanout = self._redis, None, None
        await client.aclose()

    # -- helpers -----------------------------------------------------------

    def _where(self) -> str:
        # The URL without credentials, for messages and logs.
        return self.url.rsplit("@", 1)[-1]

    @contextlib.contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        """Turn "Redis cannot serve this now" into ``StoreUnavailable``."""
        try:
            yield
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError) as exc:
            raise StoreUnavailable(
                f"Redis at {self._where()} did not answer while {doing} ({exc}): "
                "check that redis-server is running and reachable; "
                "the store reconnects by itself once it is"
            ) from exc
        except redis.exceptions.ResponseError as exc:
            if str(exc).startswith(_DOWN_REPLIES):
                raise StoreUnavailable(f"Redis at {self._where()} refused while {doing}: {exc}") from exc
            raise

    def _client(self) -> redis.asyncio.Redis:
        if self._redis is None:
            raise RuntimeError("the store is not open: call `await store.open()` first")
        return self._redis

    # -- the contract ------------------------------------------------------

    async def head(self, stream: str) -> StreamHead:
        check_stream(stream)
        meta = _keys(stream)[0]
        with self._errors(f"reading the head of {stream!r}"):
            epoch, seq = await self._client().hmget(meta, ["epoch", "seq"])
        return StreamHead(epoch.decode() if epoch else "", int(seq or 0))

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
        spans = command_spans(events, command_id, commands)
        client = self._client()
        meta, log_key, cmd, _snap, channel = _keys(stream)
        with self._errors(f"appending to {stream!r}"):
            if expected_seq == 0:
                # Before the append, so a crash in between can only list a
                # stream that is still empty, never hide one that is not.
                await client.sadd(STREAMS_KEY, stream)
            reply = await self._append_script(
                keys=[meta, log_key, cmd],
                args=[expected_seq, secrets.token_hex(8), msgpack.packb(spans) if spans else "", channel, *events],
                client=client,
            )
        status = reply[0]
        if status == b"ok":
            return int(reply[1])
        if status == b"dup":
            first, last = reply[1].split(b":")
            raise DuplicateCommand(stream, reply[2].decode(), int(first), int(last))
        actual = StreamHead(reply[1].decode(), int(reply[2]))
        raise ConcurrencyConflict(stream, expected_seq, actual)

    async def find_command(self, stream: str, command_id: str) -> tuple[int, int] | None:
        check_stream(stream)
        with self._errors(f"looking up command {command_id!r}"):
            done = await self._client().hget(_keys(stream)[2], command_id)
        if done is None:
            return None
        first, last = done.split(b":")
        return int(first), int(last)

    async def read(self, stream: str, after_seq: int, limit: int | None = None) -> list[tuple[int, bytes]]:
        check_read(stream, after_seq, limit)
        client = self._client()
        log_key = _keys(stream)[1]
        out: list[tuple[int, bytes]] = []
        with self._errors(f"reading {stream!r}"):
            while limit is None or len(out) < limit:
                count = READ_PAGE if limit is None else min(READ_PAGE, limit - len(out))
                # "n" alone means "n-0", so the range starts at event n's ID "n-1".
                start = (out[-1][0] if out else after_seq) + 1
                blob = await self._read_script(keys=[log_key], args=[start, count], client=client)
                first, last, events = msgpack.unpackb(blob, raw=True)
                if events and last - first + 1 != len(events):
                    raise StoreError(
                        f"{log_key} holds seqs {first}..{last} as {len(events)} entries: "
                        "the log was written by something other than this store; "
                        "restore it from a backup"
                    )
                out.extend(zip(range(first, last + 1), events, strict=False))
                if len(events) < count:
                    break
        return out

    async def save_snapshot(self, stream: str, seq: int, data: bytes) -> None:
        check_stream(stream)
        meta, _log, _cmd, snap, _channel = _keys(stream)
        with self._errors(f"saving a snapshot of {stream!r}"):
            reply = await self._snapshot_script(keys=[meta, snap], args=[seq, data], client=self._client())
        if reply[0] == b"beyond":
            raise ValueError(f"snapshot at seq {seq} is beyond stream {stream!r}'s head {int(reply[1])}")

    async def load_snapshot(self, stream: str) -> tuple[int, bytes] | None:
        check_stream(stream)
        with self._errors(f"loading the snapshot of {stream!r}"):
            seq, data = await self._client().hmget(_keys(stream)[3], ["seq", "data"])
        if seq is None:
            return None
        return int(seq), data

    async def streams(self) -> list[str]:
        with self._errors("listing streams"):
            names = await self._client().smembers(STREAMS_KEY)
        return sorted(name.decode() for name in names)

    async def set_meta(self, key: str, value: str) -> None:
        with self._errors(f"writing the setting {key!r}"):
            await self._client().hset(META_KEY, key, value)

    async def get_meta(self, key: str) -> str | None:
        with self._errors(f"reading the setting {key!r}"):
            value = await self._client().hget(META_KEY, key)
        return None if value is None else value.decode()

    def subscribe(self, stream: str, *, after_seq: int | None = None) -> Subscription:
        """Follow appends made by any process through the same Redis."""
        check_read(stream, after_seq or 0, None)
        client = self._client()
        assert self._fanout is not None
        fanout = self._fanout
        channel = _keys(stream)[4].encode()

        async def start() -> int:
            await fanout.ensure(channel)
            if after_seq is not None:
                return after_seq
            with self._errors(f"reading the head of {stream!r}"):
                seq = await client.hget(_keys(stream)[0], "seq")
            return int(seq or 0)

        sub = Subscription(stream, read=self.read, start=start(), on_close=fanout.detach)
        fanout.attach(channel, sub)
        return sub


class _Fanout:
    """One pub/sub connection per store, routing notifications to subscriptions.

    A background task owns the connection: it (re)connects with backoff,
    subscribes every channel that has subscribers, and reads. After each
    (re)subscription it asks that channel's subscriptions to resync, since
    anything published while it was not subscribed is lost to pub/sub.
    SUBSCRIBE/UNSUBSCRIBE commands are sent under one lock so they reach
    Redis in the order they were decided.
    """

    #: Seconds of silence after which the connection is pinged; after more
    #: than two of them without hearing anything (a PING's answer included)
    #: it is considered dead, e.g. a half-open TCP link.
    IDLE = 5.0

    def __init__(self, client: redis.asyncio.Redis, *, setup_timeout: float) -> None:
        self._client = client
        self._setup_timeout = setup_timeout
        self._subs: dict[bytes, set[Subscription]] = collections.defaultdict(set)
        self._channel_of: dict[Subscription, bytes] = {}
        self._confirmed: set[bytes] = set()
        self._waiters: dict[bytes, list[asyncio.Future[None]]] = collections.defaultdict(list)
        self._pubsub: PubSub | None = None
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[None]] = set()
        self._healthy = False
        self._closing = False

    def attach(self, channel: bytes, sub: Subscription) -> None:
        self._subs[channel].add(sub)
        self._channel_of[sub] = channel
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="vcc-redis-fanout")

    async def ensure(self, channel: bytes) -> None:
        """Return once ``channel`` is subscribed on the live connection.

        :raises StoreUnavailable: not confirmed within the setup timeout.
        """
        if channel in self._confirmed:
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters[channel].append(waiter)
        await self._send("SUBSCRIBE", channel)
        try:
            await asyncio.wait_for(waiter, self._setup_timeout)
        except TimeoutError:
            raise StoreUnavailable(
                f"could not subscribe to {channel.decode()!r} within {self._setup_timeout:g} s: "
                "check that redis-server is running and reachable"
            ) from None
        finally:
            waiters = self._waiters[channel]
            waiters.remove(waiter)
            if not waiters:
                del self._waiters[channel]

    def detach(self, sub: Subscription) -> None:
        channel = self._channel_of.pop(sub, None)
        if channel is None:
            return
        subs = self._subs.get(channel)
        if subs is None:
            return
        subs.discard(sub)
        if not subs:
            del self._subs[channel]
            self._confirmed.discard(channel)
            if self._closing:
                return  # the connection is about to close anyway
            task = asyncio.get_running_loop().create_task(self._send("UNSUBSCRIBE", channel))
            # Keep a reference until done: the loop holds tasks only weakly.
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    async def _send(self, command: str, channel: bytes) -> None:
        """Send (UN)SUBSCRIBE if still wanted; a broken connection is left to ``_run``."""
        async with self._lock:
            pubsub = self._pubsub
            wanted = channel in self._subs
            if pubsub is None or wanted != (command == "SUBSCRIBE"):
                return  # _run subscribes everything wanted when it connects
            # Any failure here means the connection is going down under us
            # (redis-py may fail with non-Redis errors mid-teardown): _run
            # notices, reconnects and subscribes every wanted channel.
            with contextlib.suppress(Exception):
                if wanted:
                    await pubsub.subscribe(channel)
                else:
                    await pubsub.unsubscribe(channel)

    async def _run(self) -> None:
        delay = 0.05
        while True:
            self._healthy = False
            try:
                await self._session()
            except (redis.exceptions.RedisError, OSError) as exc:
                log.warning("Redis pub/sub connection lost (%s); reconnecting", exc)
            except Exception:
                # A bug must not end live delivery for every subscriber.
                log.exception("Redis pub/sub reader failed; reconnecting")
            self._pubsub = None
            self._confirmed.clear()
            delay = 0.05 if self._healthy else min(delay * 2, 2.0)
            await asyncio.sleep(delay)

    async def _session(self) -> None:
        pubsub = self._client.pubsub()
        try:
            await pubsub.connect()
            async with self._lock:
                self._pubsub = pubsub
                if self._subs:
                    await pubsub.subscribe(*self._subs)
            self._healthy = True
            last_heard = time.monotonic()
            while True:
                message = await pubsub.get_message(timeout=self.IDLE)
                now = time.monotonic()
                if message is not None:
                    last_heard = now
                    self._dispatch(message)
                elif now - last_heard > 2 * self.IDLE:
                    raise redis.exceptions.ConnectionError("no answer to PING")
                else:
                    await pubsub.ping()
        finally:
            self._pubsub = None
            await pubsub.aclose()

    def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        channel = message["channel"]
        if kind == "message":
            try:
                first_seq, events = msgpack.unpackb(message["data"], raw=True)
            except (ValueError, TypeError, msgpack.UnpackException):
                log.warning("ignoring a malformed notification on %r", channel)
                for sub in self._subs.get(channel, ()):
                    sub.resync()
                return
            for sub in self._subs.get(channel, ()):
                sub.push(first_seq, events)
        elif kind == "subscribe":
            if channel not in self._subs:
                return
            self._confirmed.add(channel)
            for waiter in self._waiters.get(channel, ()):
                if not waiter.done():
                    waiter.set_result(None)
            # Publications made while we were not subscribed are lost to us.
            for sub in self._subs[channel]:
                sub.resync()

    async def close(self) -> None:
        self._closing = True
        for sub in list(self._channel_of):
            await sub.close()
        if self._task is not None:
            # Cancel until it is done: on Python 3.11, asyncio.wait_for (which
            # redis-py awaits while connecting) drops a cancellation that
            # arrives just as what it waits for completes (CPython gh-86296),
            # and a single cancel would leave this close waiting for ever.
            while not self._task.done():
                self._task.cancel()
                await asyncio.wait({self._task}, timeout=0.1)
            self._task = None
        for task in list(self._pending):
            task.cancel()
