"""The internals of python-engineio, python-socketio and asyncio that the gateway
relies on, checked against the installed versions with a real server and client.

pyproject.toml pins both libraries to the minor versions these tests passed on;
an upgrade that changes one of these internals fails here, not in production.
The list is "Private interfaces" in ``vcc/gateway/fanout.py``.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import socketio
from aiohttp import web
from engineio import packet as eio_packet
from engineio.async_socket import AsyncSocket
from socketio import packet as sio_packet
from vcc.gateway.transport import WebSocketLink, WebSocketLinks, install


@dataclass
class Served:
    sio: socketio.AsyncServer
    links: WebSocketLinks
    url: str
    joined: asyncio.Queue[str]


@pytest.fixture
async def served(aiohttp_server: Any) -> AsyncIterator[Served]:
    sio = socketio.AsyncServer(async_mode="aiohttp", serializer="msgpack")
    links = install(sio)
    joined: asyncio.Queue[str] = asyncio.Queue()

    @sio.event
    async def connect(sid: str, environ: dict[str, Any], auth: Any) -> None:
        joined.put_nowait(sid)

    app = web.Application()
    sio.attach(app)
    server = await aiohttp_server(app)
    yield Served(sio, links, f"http://127.0.0.1:{server.port}", joined)
    await sio.shutdown()


async def test_a_websocket_is_opened_through_the_servers_driver_table(served: Served) -> None:
    """``install`` swaps ``eio._async['websocket']``; engineio must call it with its
    socket's bound handler and keep the socket in ``eio.sockets`` by session id."""
    assert isinstance(served.sio.eio._async, dict) and "websocket" in served.sio.eio._async
    client = socketio.AsyncClient(serializer="msgpack", reconnection=False)
    await client.connect(served.url, transports=["websocket"], wait_timeout=5)
    try:
        sid = await asyncio.wait_for(served.joined.get(), 5)
        eio_sid = served.sio.manager.eio_sid_from_sid(sid, "/")
        sock = served.sio.eio.sockets[eio_sid]
        link = served.links.get(eio_sid)
        assert isinstance(sock, AsyncSocket) and isinstance(link, WebSocketLink)
        assert link.socket is sock and sock.upgraded and not sock.closing
    finally:
        await client.disconnect()


async def test_the_writer_marks_a_packet_done_as_it_takes_it(served: Served) -> None:
    """The fan-out writes directly only when the socket's queue has no unfinished item,
    and counts the bytes in it: both read asyncio.Queue's ``_unfinished_tasks`` and
    ``_queue``, and both rely on engineio's writer calling ``task_done`` on taking a
    packet and then writing it without suspending."""
    client = socketio.AsyncClient(serializer="msgpack", reconnection=False)
    arrived: asyncio.Queue[Any] = asyncio.Queue()
    client.on("probe", arrived.put_nowait)
    await client.connect(served.url, transports=["websocket"], wait_timeout=5)
    try:
        sid = await asyncio.wait_for(served.joined.get(), 5)
        sock = served.sio.eio.sockets[served.sio.manager.eio_sid_from_sid(sid, "/")]
        queue = sock.queue
        assert type(queue) is asyncio.Queue
        assert queue._unfinished_tasks == 0 and not queue._queue
        payload = served.sio.packet_class(sio_packet.EVENT, namespace="/", data=["probe", 7]).encode()
        queue.put_nowait(eio_packet.Packet(eio_packet.MESSAGE, data=payload))
        assert queue._unfinished_tasks == 1
        assert [p.data for p in queue._queue] == [payload]
        assert await asyncio.wait_for(arrived.get(), 5) == 7
        assert queue._unfinished_tasks == 0 and not queue._queue
    finally:
        await client.disconnect()


def test_socketio_packet_handlers_keep_their_signatures() -> None:
    """``Inbound`` decodes packets itself and hands them to these handlers."""
    expected = {
        "_handle_connect": ["eio_sid", "namespace", "data"],
        "_handle_disconnect": ["eio_sid", "namespace", "reason"],
        "_handle_event": ["eio_sid", "namespace", "id", "data"],
        "_send_packet": ["eio_sid", "pkt"],
    }
    for name, parameters in expected.items():
        method = getattr(socketio.AsyncServer, name)
        assert inspect.iscoroutinefunction(method), name
        assert list(inspect.signature(method).parameters)[1:] == parameters, name
    assert inspect.iscoroutinefunction(AsyncSocket._websocket_handler)
