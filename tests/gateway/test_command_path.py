"""The command path: events answered as they are read from a websocket, with no
task per message, against a real server and python-socketio's real client.

A handler is registered twice, as the gateway does: on the command path, and
as socket.io's own handler for the same event (what long-polling clients and
anything the command path leaves get); the socket.io handler counts its calls,
so a test sees which path answered.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import socketio
from aiohttp import web
from engineio import packet as eio_packet
from socketio import packet as sio_packet
from vcc.gateway.command_path import CommandPath
from vcc.gateway.fanout import Fanout
from vcc.gateway.transport import install, ws_frame


@dataclass
class Served:
    sio: socketio.AsyncServer
    fanout: Fanout
    path: CommandPath
    url: str
    joined: asyncio.Queue[str]
    #: Calls that reached socket.io's own handler, by event.
    dispatched: list[str] = field(default_factory=list)
    #: Futures whose result the ``later`` handler answers with, to be resolved by the test.
    later: asyncio.Queue[asyncio.Future[Any]] = field(default_factory=asyncio.Queue)


@pytest.fixture
async def served(aiohttp_server: Any) -> AsyncIterator[Served]:
    sio = socketio.AsyncServer(async_mode="aiohttp", serializer="msgpack", ping_interval=1, ping_timeout=2)
    fanout = Fanout(sio)
    joined: asyncio.Queue[str] = asyncio.Queue()

    def echo(sid: str, data: Any, reply: Any) -> Any:
        fanout.send_to(sid, "before_ack", data)
        return {"echo": data}

    def later(sid: str, data: Any, reply: Any) -> None:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        future.add_done_callback(lambda done: reply(done.result()))
        served.later.put_nowait(future)

    def committed(sid: str, data: Any, reply: Any) -> None:
        """As the runtime's committer does: the events' send is scheduled, then the answer given."""
        fanout.join(sid, "everyone")

        def commit() -> None:
            asyncio.get_running_loop().call_soon(fanout.send, "everyone", "events", data)
            reply({"ok": data})

        asyncio.get_running_loop().call_soon(commit)

    def queued_first(sid: str, data: Any, reply: Any) -> Any:
        """Leaves a packet on the socket's engineio queue: the ack must not overtake it."""
        sock = sio.eio.sockets[sio.manager.eio_sid_from_sid(sid, "/")]
        payload = sio.packet_class(sio_packet.EVENT, namespace="/", data=["queued", data]).encode()
        sock.queue.put_nowait(eio_packet.Packet(eio_packet.MESSAGE, data=payload))
        return data

    handlers = {"echo": echo, "later": later, "committed": committed, "queued_first": queued_first}
    path = CommandPath(sio, fanout, handlers)
    app = web.Application()
    sio.attach(app)
    server = await aiohttp_server(app)
    served = Served(sio, fanout, path, f"http://127.0.0.1:{server.port}", joined)

    @sio.event
    async def connect(sid: str, environ: dict[str, Any], auth: Any) -> None:
        joined.put_nowait(sid)

    for name, handler in handlers.items():

        async def dispatched(sid: str, data: Any = None, name: str = name, handler: Any = handler) -> Any:
            served.dispatched.append(name)
            future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            answer = handler(sid, data, future.set_result)
            return answer if answer is not None else await future

        sio.on(name, dispatched)
    yield served
    await sio.shutdown()


class Client:
    """python-socketio's client, recording events and acks in arrival order."""

    def __init__(self, transports: list[str]) -> None:
        self.sio = socketio.AsyncClient(serializer="msgpack", reconnection=False)
        self.transports = transports
        self.log: list[tuple[str, Any]] = []
        self.arrived: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

        @self.sio.on("*")
        async def any_event(event: str, data: Any) -> None:
            self.record(event, data)

    def record(self, event: str, data: Any) -> None:
        self.log.append((event, data))
        self.arrived.put_nowait((event, data))

    async def __aenter__(self) -> Client:
        return self

    async def connect(self, url: str) -> Client:
        await self.sio.connect(url, transports=self.transports, wait_timeout=5)
        return self

    async def ask(self, event: str, data: Any) -> None:
        await self.sio.emit(event, data, callback=lambda answer: self.record("ack", answer))

    async def until(self, event: str, count: int = 1) -> None:
        async with asyncio.timeout(5):
            while sum(1 for name, _ in self.log if name == event) < count:
                await self.arrived.get()


@pytest.fixture
async def websocket(served: Served) -> AsyncIterator[Client]:
    client = await Client(["websocket"]).connect(served.url)
    await asyncio.wait_for(served.joined.get(), 5)
    yield client
    await client.sio.disconnect()


async def test_a_websocket_event_is_answered_without_socketio_dispatch(served: Served, websocket: Client) -> None:
    for n in range(20):
        await websocket.ask("echo", n)
    await websocket.until("ack", 20)
    assert served.dispatched == []
    assert served.path.answered == 20
    # Each answer comes after what its handler sent, and the acks in the order asked.
    assert websocket.log == [entry for n in range(20) for entry in (("before_ack", n), ("ack", {"echo": n}))]


async def test_a_polling_client_is_answered_by_socketio_with_the_same_handler(served: Served) -> None:
    client = await Client(["polling"]).connect(served.url)
    try:
        await client.ask("echo", "over polling")
        await client.until("ack")
        assert client.log == [("before_ack", "over polling"), ("ack", {"echo": "over polling"})]
        assert served.dispatched == ["echo"] and served.path.answered == 0
    finally:
        await client.sio.disconnect()


async def test_an_answer_given_later_is_sent_when_it_is_given(served: Served, websocket: Client) -> None:
    await websocket.ask("later", None)
    await websocket.ask("later", None)
    first, second = await served.later.get(), await served.later.get()
    second.set_result("second")
    await websocket.until("ack")
    first.set_result("first")
    await websocket.until("ack", 2)
    assert websocket.log == [("ack", "second"), ("ack", "first")]


async def test_an_answer_given_later_follows_the_next_message_in_the_same_write(served: Served, websocket: Client) -> None:
    """The committer gives the answer after scheduling the events' send: the client gets
    the events, then the ack, and the server wrote them to the transport at once."""
    link = next(iter(install(served.sio).by_eio_sid.values()))
    counting = CountingTransport(link.transport)
    link.transport = counting  # type: ignore[assignment]
    for n in range(5):
        await websocket.ask("committed", n)
        await websocket.until("ack", n + 1)
    assert websocket.log == [entry for n in range(5) for entry in (("events", n), ("ack", {"ok": n}))]
    assert len([write for write in counting.writes if write != ws_frame("2")]) == 5  # a heartbeat's ping may come between


class CountingTransport:
    """An asyncio transport that records each write."""

    def __init__(self, inner: asyncio.Transport) -> None:
        self.inner = inner
        self.writes: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))
        self.inner.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


async def test_an_ack_does_not_overtake_what_the_sockets_queue_holds(served: Served, websocket: Client) -> None:
    for n in range(10):
        await websocket.ask("queued_first", n)
    await websocket.until("ack", 10)
    assert websocket.log == [entry for n in range(10) for entry in (("queued", n), ("ack", n))]


async def test_what_the_command_path_leaves_reaches_socketio(served: Served, websocket: Client) -> None:
    """An event without an ack, or with another number of arguments, is socket.io's to handle."""
    await websocket.sio.emit("echo", "no ack wanted")
    await websocket.sio.emit("echo", ("two", "arguments"), callback=lambda *answer: websocket.record("ack", answer))
    await websocket.ask("echo", "with an ack")
    await websocket.until("ack", 1)
    assert served.path.answered == 1
    await websocket.until("before_ack", 2)
    assert "echo" in served.dispatched


async def test_a_client_that_only_sends_commands_keeps_answering_pings(served: Served, websocket: Client) -> None:
    """The read loop stays inside one read while it answers events; the heartbeat's
    pings and the client's pongs must still go through, or the server would close the
    connection after ping_interval + ping_timeout (3 s here)."""
    sent = 0
    async with asyncio.timeout(10):
        while served.sio.eio.sockets and sent < 400:
            await websocket.ask("echo", sent)
            sent += 1
            await websocket.until("ack", sent)
            await asyncio.sleep(0.01)  # pacing: 400 commands over more than 4 s
    assert sent == 400 and websocket.sio.connected and served.path.answered == sent
