"""A Python client for integrators, the tests and the benchmarks.

It connects with a join token, sends commands (retried with the same id
across reconnects, so never applied twice) and keeps a local folded copy of
the consultation's state from the snapshot and the event batches, resyncing
from its last sequence number after a reconnect or a gap.
"""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import Callable
from typing import Any

import aiohttp
import msgspec
import socketio
from vcc_protocol.events import Event, EventUnion

from .core import ConsultationState, apply

_ids = itertools.count(1)


def _session_with(cookies: dict[str, str]) -> Callable[[], aiohttp.ClientSession]:
    """A factory of HTTP sessions that send ``cookies`` to any host: engine.io
    makes a new session per connection, and aiohttp's default jar would drop
    cookies for an IP address such as 127.0.0.1."""

    def make() -> aiohttp.ClientSession:
        jar = aiohttp.CookieJar(unsafe=True)
        jar.update_cookies(cookies)
        return aiohttp.ClientSession(cookie_jar=jar)

    return make


class ConsultationClient:
    """:param url: the server, e.g. ``http://127.0.0.1:8080``.
    :param token: a join token (the part after ``#t=`` in a join link).
    :param transports: ``["websocket"]`` (default), or ``["polling"]`` to act as a client behind a firewall.
    :param cookies: sent with every request, reconnections included, e.g. the
        ``vcc_node`` cookie that chooses a node behind the nginx of ``deploy/``.
    """

    def __init__(
        self,
        url: str,
        token: str,
        *,
        transports: list[str] | None = None,
        reconnection: bool = True,
        cookies: dict[str, str] | None = None,
    ) -> None:
        self.url = url
        self.token = token
        self.transports = transports or ["websocket"]
        self.sio = socketio.AsyncClient(
            serializer="msgpack",
            reconnection=reconnection,
            reconnection_delay=0.2,
            reconnection_delay_max=1.0,
            http_session=_session_with(cookies) if cookies else None,
        )
        self.state: ConsultationState | None = None
        self.seq = 0
        self.epoch = ""
        self.welcome: dict[str, Any] = {}
        #: The staff's view of the node's connections, by connection number (``presence``).
        self.presence: dict[int, dict[str, Any]] = {}
        self.events: list[tuple[int, Event]] = []
        self.snapshots = 0
        self.refused: dict[str, Any] | None = None
        self._prefix = f"{os.getpid():x}-{id(self):x}"
        self._changed = asyncio.Condition()
        self._listeners: list[Callable[[list[Event]], None]] = []
        self.sio.on("welcome", self._on_welcome)
        self.sio.on("snapshot", self._on_snapshot)
        self.sio.on("events", self._on_events)
        self.sio.on("presence", self._on_presence)
        self.sio.on("connect_error", self._on_refused)

    def _auth(self) -> dict[str, Any]:
        auth: dict[str, Any] = {"token": self.token}
        if self.state is not None:
            auth.update(last_seq=self.seq, epoch=self.epoch)
        return auth

    async def connect(self, timeout: float = 10) -> None:
        """Connect and wait until the local state is in sync."""
        await self.sio.connect(self.url, auth=self._auth, transports=self.transports, wait_timeout=timeout)
        await self.wait_for(lambda s: True, timeout)

    async def close(self) -> None:
        await self.sio.disconnect()

    def on_events(self, listener: Callable[[list[Event]], None]) -> None:
        self._listeners.append(listener)

    async def send(self, type: str, *, timeout: float = 10, **fields: Any) -> dict[str, Any]:
        """Send a command and return its answer; retried with the same id until answered or ``timeout``."""
        message = {"type": type, "id": f"{self._prefix}-{next(_ids)}", **fields}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            left = deadline - loop.time()
            if left <= 0:
                raise TimeoutError(f"no answer to {type} within {timeout} s")
            if not self.sio.connected:
                await asyncio.sleep(0.05)
                continue
            try:
                return await self.sio.call("command", message, timeout=min(left, 5))
            except (socketio.exceptions.TimeoutError, socketio.exceptions.BadNamespaceError, socketio.exceptions.DisconnectedError):
                await asyncio.sleep(0.05)

    async def wait_for(self, predicate: Callable[[ConsultationState], bool], timeout: float = 10) -> ConsultationState:
        """Wait until the local state exists and ``predicate(state)`` holds."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: self.state is not None and predicate(self.state)), timeout)
        assert self.state is not None
        return self.state

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _on_welcome(self, data: dict[str, Any]) -> None:
        self.welcome = data

    async def _on_snapshot(self, data: dict[str, Any]) -> None:
        self.state = msgspec.convert(data["state"], ConsultationState, strict=False)
        self.seq, self.epoch = data["seq"], data["epoch"]
        self.snapshots += 1
        await self._notify()

    async def _on_events(self, data: dict[str, Any]) -> None:
        if self.state is None or data["last"] <= self.seq:
            return
        if data["epoch"] != self.epoch or data["first"] > self.seq + 1:
            await self.sio.emit("sync", {"last_seq": self.seq, "epoch": self.epoch})
            return
        fresh = data["events"][self.seq + 1 - data["first"] :]
        events = [msgspec.convert(raw, EventUnion) for raw in fresh]  # type: ignore[arg-type]
        for offset, event in enumerate(events):
            apply(self.state, event)
            self.events.append((self.seq + 1 + offset, event))
        self.seq = data["last"]
        for listener in self._listeners:
            listener(events)
        await self._notify()

    async def _on_presence(self, data: dict[str, Any]) -> None:
        if data["reset"]:
            self.presence.clear()
        self.presence.update((connection["conn"], connection) for connection in data["set"])
        for conn in data["left"]:
            self.presence.pop(conn, None)

    async def _on_refused(self, data: Any) -> None:
        self.refused = data if isinstance(data, dict) else {"message": str(data)}
