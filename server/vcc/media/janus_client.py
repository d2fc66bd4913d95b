"""A small asynchronous client of Janus's HTTP API (aiohttp).

One ``JanusSession`` is one Janus session: it attaches plugin handles, sends
synchronous plugin requests (the answer is in the HTTP reply) and asynchronous
ones (the answer is an event, matched by transaction), long-polls for events,
and sends keepalives. When Janus is gone or has forgotten the session (a
restart: error 458), ``lost`` is set and every pending call fails with
``SessionLost``: the owner makes a new session and rebuilds.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from . import metrics

log = logging.getLogger(__name__)

Json = dict[str, Any]
#: Janus error codes that mean the session or handle is gone (Janus restarted or timed it out).
GONE = frozenset({458, 459})
KEEPALIVE_S = 20.0
LONG_POLL_EVENTS = 10
REQUEST_TIMEOUT_S = 5.0


class JanusError(Exception):
    """Janus or a plugin refused a request."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"Janus error {code}: {reason}")
        self.code = code
        self.reason = reason


class SessionLost(Exception):
    """Janus is unreachable or no longer knows the session."""


def _transaction() -> str:
    return secrets.token_hex(8)


class JanusSession:
    """A session on a Janus HTTP API. Create with ``await JanusSession.create(...)``."""

    def __init__(self, http: aiohttp.ClientSession, url: str, api_secret: str, session_id: int) -> None:
        self.http = http
        self.url = url
        self.api_secret = api_secret
        self.id = session_id
        self.lost = asyncio.Event()
        self.lost_reason = ""
        self._waiting: dict[str, asyncio.Future[Json]] = {}
        #: Called with (handle id, plugin data, jsep or None) for events nobody waits for.
        self.on_event: Callable[[int, Json, Json | None], None] | None = None
        self._tasks = [asyncio.ensure_future(self._poll()), asyncio.ensure_future(self._keepalive())]

    @classmethod
    async def create(cls, http: aiohttp.ClientSession, url: str, api_secret: str) -> JanusSession:
        answer = await _post(http, url, {"janus": "create", "transaction": _transaction(), "apisecret": api_secret})
        return cls(http, url, api_secret, int(answer["data"]["id"]))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if not self.lost.is_set():
            try:
                await self._post(f"{self.url}/{self.id}", {"janus": "destroy"})
            except (SessionLost, JanusError):
                pass
        self._fail("session closed")

    def _fail(self, reason: str) -> None:
        if not self.lost.is_set():
            self.lost_reason = reason
            self.lost.set()
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(SessionLost(reason))
        self._waiting.clear()

    async def _post(self, url: str, body: Json) -> Json:
        if self.lost.is_set():
            raise SessionLost(self.lost_reason)
        body = {**body, "transaction": body.get("transaction") or _transaction(), "apisecret": self.api_secret}
        try:
            return await _post(self.http, url, body)
        except SessionLost as lost:
            self._fail(str(lost))
            raise
        except JanusError as refused:
            if refused.code in GONE:
                self._fail(refused.reason)
                raise SessionLost(refused.reason) from None
            raise

    async def attach(self, plugin: str) -> int:
        answer = await self._post(f"{self.url}/{self.id}", {"janus": "attach", "plugin": plugin})
        return int(answer["data"]["id"])

    async def detach(self, handle: int) -> None:
        await self._post(f"{self.url}/{self.id}/{handle}", {"janus": "detach"})

    async def request(self, handle: int, body: Json) -> Json:
        """A synchronous plugin request: the plugin's answer, or ``JanusError`` if it refused."""
        started = time.perf_counter()
        answer = await self._post(f"{self.url}/{self.id}/{handle}", {"janus": "message", "body": body})
        metrics.JANUS_REQUEST_SECONDS.labels(body.get("request", "?")).observe(time.perf_counter() - started)
        return _plugin_data(answer)

    async def message(self, handle: int, body: Json, jsep: Json | None = None) -> tuple[Json, Json | None]:
        """An asynchronous plugin request: the event that answers it (plugin data, jsep)."""
        transaction = _transaction()
        future: asyncio.Future[Json] = asyncio.get_running_loop().create_future()
        self._waiting[transaction] = future
        message: Json = {"janus": "message", "body": body, "transaction": transaction}
        if jsep is not None:
            message["jsep"] = jsep
        try:
            await self._post(f"{self.url}/{self.id}/{handle}", message)
            event = await asyncio.wait_for(future, REQUEST_TIMEOUT_S)
        finally:
            self._waiting.pop(transaction, None)
        return _plugin_data(event), event.get("jsep")

    async def trickle(self, handle: int, candidate: Json | None) -> None:
        """A browser's ICE candidate for a handle (None: its gathering is complete)."""
        body: Json = {"janus": "trickle", "candidate": candidate if candidate is not None else {"completed": True}}
        await self._post(f"{self.url}/{self.id}/{handle}", body)

    async def _poll(self) -> None:
        timeout = aiohttp.ClientTimeout(total=60)
        url = f"{self.url}/{self.id}?maxev={LONG_POLL_EVENTS}&apisecret={self.api_secret}"
        while not self.lost.is_set():
            try:
                async with self.http.get(url, timeout=timeout) as reply:
                    events = await reply.json(content_type=None)
            except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
                self._fail(f"Janus unreachable: {exc!r}")
                return
            for event in events if isinstance(events, list) else [events]:
                self._dispatch(event)

    def _dispatch(self, event: Json) -> None:
        kind = event.get("janus")
        if kind == "error" and event.get("error", {}).get("code") in GONE:
            self._fail(event["error"].get("reason", "session gone"))
            return
        if kind == "keepalive":
            return
        future = self._waiting.get(event.get("transaction", ""))
        if future is not None and kind == "event" and not future.done():
            future.set_result(event)
            return
        if kind == "event" and self.on_event is not None:
            self.on_event(int(event.get("sender", 0)), event.get("plugindata", {}).get("data", {}), event.get("jsep"))

    async def _keepalive(self) -> None:
        while not self.lost.is_set():
            await asyncio.sleep(KEEPALIVE_S)
            try:
                await self._post(f"{self.url}/{self.id}", {"janus": "keepalive"})
            except (SessionLost, JanusError):
                return


async def _post(http: aiohttp.ClientSession, url: str, body: Json) -> Json:
    try:
        async with http.post(url, json=body, timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)) as reply:
            answer: Json = await reply.json(content_type=None)
    except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
        raise SessionLost(f"Janus unreachable at {url}: {exc!r}") from None
    if answer.get("janus") == "error":
        error = answer.get("error", {})
        raise JanusError(int(error.get("code", 0)), str(error.get("reason", "")))
    return answer


def _plugin_data(answer: Json) -> Json:
    data: Json = answer.get("plugindata", {}).get("data", {})
    if "error_code" in data or "error" in data:
        raise JanusError(int(data.get("error_code", 0)), str(data.get("error", "")))
    return data
