"""Several nodes, one media adapter per consultation, chosen by a lease in Redis.

Every node serving a consultation competes for ``vcc:media:<consultation>``
(``SET NX PX 10000``, renewed every 3 s by its holder, in one Lua script so
that a node renews only a lease it still holds). Only the holder runs the
consultation's reconciler: one session in Janus, one set of mixes, one sender of
what the media hears, whatever node a participant is connected to.

The other nodes pass their clients' media requests to the holder over Redis
pub/sub (each node listens on ``vcc:media:node:<node>``; a request carries the
node to answer, and the answer comes back the same way) and the holder's
"media rebuilt" goes to every node on ``vcc:media:reset``, so each tells its own
browsers to connect again.

Failover: when the holder dies its lease lapses within 10 s; the next node to
renew takes it (at most 3 s later), its reconciler removes what the old one left
in Janus and builds everything from the state, as after a Janus restart, and
every browser is told to connect again. A node that finds the lease held by
another stops its own reconciler.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio
import redis.exceptions

log = logging.getLogger(__name__)

LEASE_MS = 10_000
RENEW_S = 3.0
#: How long a node waits for the holder to answer a forwarded media request.
FORWARD_TIMEOUT_S = 5.0
RESET_CHANNEL = "vcc:media:reset"

_HOLD = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

Json = dict[str, Any]


def lease_key(consultation: str) -> str:
    return f"vcc:media:{consultation}"


def node_channel(node: str) -> str:
    return f"vcc:media:node:{node}"


class MediaCluster:
    """This node's part in the media leases. ``await start()`` before use, ``await close()`` after."""

    def __init__(self, url: str) -> None:
        self.node = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self.redis = redis.asyncio.Redis.from_url(url, protocol=2, socket_connect_timeout=1.0, decode_responses=True)
        #: Answers a request forwarded to this node (it holds the consultation's lease).
        self.on_request: Callable[[Json], Awaitable[Json]] | None = None
        #: Called with a consultation whose media the holder rebuilt.
        self.on_reset: Callable[[str], None] | None = None
        self._waiting: dict[str, asyncio.Future[Json]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._listener: asyncio.Task[None] | None = None
        self._hold = self.redis.register_script(_HOLD)
        self._release = self.redis.register_script(_RELEASE)

    async def start(self) -> None:
        pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(node_channel(self.node), RESET_CHANNEL)
        self._listener = asyncio.ensure_future(self._listen(pubsub))

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.redis.aclose()

    async def hold(self, consultation: str) -> bool:
        """Take or renew the consultation's lease: True if this node holds it now."""
        return bool(await self._hold(keys=[lease_key(consultation)], args=[self.node, LEASE_MS]))

    async def release(self, consultation: str) -> None:
        await self._release(keys=[lease_key(consultation)], args=[self.node])

    async def holder(self, consultation: str) -> str | None:
        value = await self.redis.get(lease_key(consultation))
        return str(value) if value is not None else None

    async def forward(self, holder: str, message: Json) -> Json:
        """A request for the holder's media adapter; its answer, or ``TimeoutError``."""
        ident = secrets.token_hex(8)
        future: asyncio.Future[Json] = asyncio.get_running_loop().create_future()
        self._waiting[ident] = future
        try:
            await self.redis.publish(node_channel(holder), json.dumps({**message, "kind": "request", "id": ident, "from": self.node}))
            return await asyncio.wait_for(future, FORWARD_TIMEOUT_S)
        finally:
            self._waiting.pop(ident, None)

    async def announce_reset(self, consultation: str) -> None:
        await self.redis.publish(RESET_CHANNEL, consultation)

    async def _listen(self, pubsub: Any) -> None:
        while True:
            try:
                async for message in pubsub.listen():
                    self._dispatch(message["channel"], message["data"])
            except (redis.exceptions.RedisError, OSError) as exc:
                log.warning("media leases: Redis subscription lost (%s); subscribing again", exc)
                await asyncio.sleep(1.0)
                try:
                    await pubsub.subscribe(node_channel(self.node), RESET_CHANNEL)
                except (redis.exceptions.RedisError, OSError):
                    continue

    def _dispatch(self, channel: str, data: str) -> None:
        if channel == RESET_CHANNEL:
            if self.on_reset is not None:
                self.on_reset(data)
            return
        message = json.loads(data)
        if message.get("kind") == "reply":
            future = self._waiting.get(message.get("id", ""))
            if future is not None and not future.done():
                future.set_result(message["answer"])
        elif message.get("kind") == "request" and self.on_request is not None:
            task = asyncio.ensure_future(self._answer(message))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _answer(self, message: Json) -> None:
        assert self.on_request is not None
        answer = await self.on_request(message)
        await self.redis.publish(node_channel(message["from"]), json.dumps({"kind": "reply", "id": message["id"], "answer": answer}))
