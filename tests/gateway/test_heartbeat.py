"""The heartbeat of websocket links: one timer pings every link when due and
closes the link whose ping went unanswered, instead of a task per connection.

Against a real server and a raw websocket client that answers engine.io's pings
(or stops answering) itself, so each ping it gets is counted. The intervals are
short (1 s), so each test lasts a few seconds.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import msgpack
import pytest
import socketio
from aiohttp import web
from vcc.gateway.transport import WebSocketLink, WebSocketLinks, install

INTERVAL = 1
TIMEOUT = 1


@dataclass
class Served:
    sio: socketio.AsyncServer
    links: WebSocketLinks
    url: str
    joined: asyncio.Queue[str]
    left: asyncio.Queue[tuple[str, Any]]


@pytest.fixture
async def served(aiohttp_server: Any) -> AsyncIterator[Served]:
    sio = socketio.AsyncServer(async_mode="aiohttp", serializer="msgpack", ping_interval=INTERVAL, ping_timeout=TIMEOUT)
    links = install(sio)
    joined: asyncio.Queue[str] = asyncio.Queue()
    left: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    @sio.event
    async def connect(sid: str, environ: dict[str, Any], auth: Any) -> None:
        joined.put_nowait(sid)

    @sio.event
    async def disconnect(sid: str, reason: Any) -> None:
        left.put_nowait((sid, reason))

    app = web.Application()
    sio.attach(app)
    server = await aiohttp_server(app)
    yield Served(sio, links, f"http://127.0.0.1:{server.port}", joined, left)
    await sio.shutdown()


class RawClient:
    """engine.io over a websocket, by hand: joins the namespace, counts pings, answers them while ``answering``."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.answering = True
        self.pings: asyncio.Queue[float] = asyncio.Queue()
        self.closed = asyncio.Event()
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        loop = asyncio.get_running_loop()
        async for msg in self.ws:
            if msg.type is aiohttp.WSMsgType.TEXT and msg.data == "2":
                self.pings.put_nowait(loop.time())
                if self.answering:
                    await self.ws.send_str("3")
        self.closed.set()


@asynccontextmanager
async def raw_client(url: str) -> AsyncIterator[RawClient]:
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(f"{url}/socket.io/?EIO=4&transport=websocket") as ws:
            opened = await ws.receive_str()
            assert opened.startswith("0"), opened
            await ws.send_bytes(msgpack.packb({"type": 0, "nsp": "/", "data": None}))
            client = RawClient(ws)
            yield client
            client.reader.cancel()


@pytest.fixture
async def raw(served: Served) -> AsyncIterator[RawClient]:
    async with raw_client(served.url) as client:
        yield client


def engineio_ping_tasks() -> list[asyncio.Task[Any]]:
    return [t for t in asyncio.all_tasks() if getattr(t.get_coro(), "__qualname__", "") == "AsyncSocket._send_ping"]


async def test_one_heartbeat_pings_each_link_once_an_interval_and_engineio_arms_none(served: Served, raw: RawClient) -> None:
    """Pings come an interval apart, one at a time, written by the heartbeat; the
    link takes the pongs, so engineio's ``schedule_ping`` never runs and no engineio
    ping task is left after the one it armed at the handshake."""
    await asyncio.wait_for(served.joined.get(), 5)
    times = [await asyncio.wait_for(raw.pings.get(), 3 * INTERVAL) for _ in range(6)]
    # From the third on: engineio's own first ping (armed at the handshake) comes
    # before or after the heartbeat's first, which comes at the tick of the link's slice.
    gaps = [b - a for a, b in zip(times[2:], times[3:], strict=False)]
    assert all(0.8 * INTERVAL <= gap <= 1.5 * INTERVAL for gap in gaps), gaps
    assert engineio_ping_tasks() == []
    assert raw.pings.empty() and not raw.closed.is_set()


async def test_each_tick_pings_one_slice_of_the_links(served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each link is visited once an interval, by the tick of its slice: the pongs of a
    slice come back together, and no tick holds the event loop for every link at once."""
    slices = WebSocketLinks.HEARTBEAT_SLICES
    visits: dict[float, list[str]] = {}
    all_visited = asyncio.Event()
    beat = WebSocketLink.beat

    def counted(link: WebSocketLink, now: float) -> None:
        visits.setdefault(now, []).append(link.eio_sid)
        if len({sid for sids in visits.values() for sid in sids}) == 2 * slices:
            all_visited.set()
        beat(link, now)

    monkeypatch.setattr(WebSocketLink, "beat", counted)
    async with contextlib.AsyncExitStack() as clients:
        for _ in range(2 * slices):
            await clients.enter_async_context(raw_client(served.url))
        await asyncio.wait_for(all_visited.wait(), 3 * INTERVAL)
    assert len(visits) >= slices and max(len(sids) for sids in visits.values()) <= 2 + 1, visits


async def test_a_link_that_stops_answering_is_closed_for_a_ping_timeout(served: Served, raw: RawClient) -> None:
    """engineio's rule and reason: unanswered for ``ping_timeout`` after the ping,
    the socket closes, socket.io's disconnect handler runs, the transport is cut."""
    sid = await asyncio.wait_for(served.joined.get(), 5)
    sock = served.sio.eio.sockets[served.sio.manager.eio_sid_from_sid(sid, "/")]
    await asyncio.wait_for(raw.pings.get(), 3 * INTERVAL)
    raw.answering = False
    pinged = await asyncio.wait_for(raw.pings.get(), 3 * INTERVAL)
    left, reason = await asyncio.wait_for(served.left.get(), INTERVAL + TIMEOUT + 2)
    assert (left, reason) == (sid, served.sio.reason.PING_TIMEOUT)
    assert asyncio.get_running_loop().time() - pinged >= TIMEOUT
    await asyncio.wait_for(raw.closed.wait(), 2)
    assert len(served.links) == 0 and sock.closed


@pytest.mark.parametrize("transports", [["polling"], ["polling", "websocket"]], ids=["polling", "upgraded"])
async def test_a_client_that_starts_long_polling_keeps_engineios_heartbeat(served: Served, transports: list[str]) -> None:
    """A client that never upgrades, or upgrades from long-polling to a websocket
    (under engineio's own handler), is pinged by engineio, answers, and stays
    connected past a ping timeout."""
    client = socketio.AsyncClient(serializer="msgpack", reconnection=False)
    await client.connect(served.url, transports=transports, wait_timeout=5)
    try:
        sid = await asyncio.wait_for(served.joined.get(), 5)
        sock = served.sio.eio.sockets[served.sio.manager.eio_sid_from_sid(sid, "/")]
        pongs: asyncio.Queue[None] = asyncio.Queue()
        schedule_ping = sock.schedule_ping

        def answered() -> None:  # engineio calls it for each pong it receives
            pongs.put_nowait(None)
            schedule_ping()

        sock.schedule_ping = answered  # type: ignore[method-assign]
        for _ in range(3):
            await asyncio.wait_for(pongs.get(), INTERVAL + TIMEOUT + 1)
        assert client.connected and served.left.empty()
        assert [link.own_handler for link in served.links.by_eio_sid.values()] == ([False] if "websocket" in transports else [])
    finally:
        await client.disconnect()


async def test_a_websocket_the_client_closes_is_gone_at_once_not_at_the_ping_timeout(served: Served, raw: RawClient) -> None:
    """The read loop ends on the close and socket.io's disconnect handler runs with
    engineio's reason, even though aiohttp cancels the handler of a connection it lost."""
    sid = await asyncio.wait_for(served.joined.get(), 5)
    await raw.ws.close()
    assert await asyncio.wait_for(served.left.get(), INTERVAL / 2) == (sid, served.sio.reason.TRANSPORT_CLOSE)


class WatchedSessions(dict[str, Any]):
    """engineio's table of sessions, telling when one is forgotten."""

    def __init__(self, sessions: dict[str, Any]) -> None:
        super().__init__(sessions)
        self.forgotten: asyncio.Queue[str] = asyncio.Queue()

    def __delitem__(self, sid: str) -> None:
        super().__delitem__(sid)
        self.forgotten.put_nowait(sid)


async def test_a_long_polling_client_that_stops_polling_is_closed_and_forgotten(served: Served) -> None:
    """What engineio's service task did, which the heartbeat replaces: a long-polling
    session whose ping goes unanswered is closed with engineio's reason, and dropped
    from engineio's table once closed."""
    sessions = served.sio.eio.sockets = WatchedSessions(served.sio.eio.sockets)
    async with aiohttp.ClientSession() as http:
        url = f"{served.url}/socket.io/?EIO=4&transport=polling"
        async with http.get(url) as opened:
            eio_sid = json.loads((await opened.text())[1:])["sid"]
        connect = "b" + base64.b64encode(msgpack.packb({"type": 0, "nsp": "/", "data": None})).decode()
        async with http.post(f"{url}&sid={eio_sid}", data=connect) as posted:
            assert posted.status == 200
        sid = await asyncio.wait_for(served.joined.get(), 5)
        # It never polls again, so it never gets engineio's ping, let alone answers it.
        left, reason = await asyncio.wait_for(served.left.get(), 2 * INTERVAL + TIMEOUT + 2)
        assert (left, reason) == (sid, served.sio.reason.PING_TIMEOUT)
        assert await asyncio.wait_for(sessions.forgotten.get(), INTERVAL + TIMEOUT + 1) == eio_sid
        assert eio_sid not in served.sio.eio.sockets
