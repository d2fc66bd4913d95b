"""Fanout against a real server on a free port, with real clients: nothing is mocked.

Clients: python-socketio's ``AsyncClient(serializer='msgpack')`` on websocket,
on long-polling and upgrading from one to the other; the stock JS client
(socket.io-client + socket.io-msgpack-parser) under node; and a raw
websocket client that speaks engine.io/socket.io by hand where a test needs
control over the socket (the handshake headers, a client that stops reading).
"""

from __future__ import annotations

import asyncio
import base64
import gc
import json
import os
import shutil
import socket
import struct
import weakref
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgpack
import pytest
import socketio
from aiohttp import web
from engineio import packet as eio_packet
from vcc.gateway import transport as vcc_transport
from vcc.gateway.fanout import Fanout
from vcc.gateway.transport import DEFLATE_MIN, deflated_frame
from vcc_testkit.node_js import JS_DIR, ensure_installed
from vcc_testkit.waiting import until

GROUP = "room"


@dataclass
class Gateway:
    """A running server: the AsyncServer, its Fanout, and who is connected, by the client's auth name."""

    sio: socketio.AsyncServer
    fanout: Fanout
    url: str
    port: int
    sids: dict[str, str] = field(default_factory=dict)
    disconnected: list[str] = field(default_factory=list)
    drops: list[str] = field(default_factory=list)

    async def sid_of(self, name: str, timeout: float = 5.0) -> str:
        """The server-side sid of the client that connected with auth ``{'name': name}``."""
        async with asyncio.timeout(timeout):
            while name not in self.sids:
                await asyncio.sleep(0.01)
        return self.sids[name]


GatewayFactory = Callable[..., Awaitable[Gateway]]


@pytest.fixture
async def gateway_factory(aiohttp_server) -> AsyncIterator[GatewayFactory]:
    """Start servers on free ports; every client that connects joins ``GROUP`` from the connect handler."""
    started: list[socketio.AsyncServer] = []

    async def start(
        *,
        max_pending_bytes: int = 1 << 20,
        ping_interval: float = 1,
        ping_timeout: float = 2,
        slice_size: int = 128,
        deflate: bool = True,
    ) -> Gateway:
        # Short pings by default: a python-engineio polling client's disconnect
        # waits for its pending GET, which the server only ends at the next ping.
        sio = socketio.AsyncServer(async_mode="aiohttp", serializer="msgpack", ping_interval=ping_interval, ping_timeout=ping_timeout)
        drops: list[str] = []
        fanout = Fanout(sio, max_pending_bytes=max_pending_bytes, on_drop=drops.append, slice_size=slice_size, deflate=deflate)
        app = web.Application()
        sio.attach(app)
        server = await aiohttp_server(app)
        gw = Gateway(sio, fanout, f"http://127.0.0.1:{server.port}", server.port, drops=drops)

        @sio.event
        async def connect(sid: str, environ: dict, auth: dict | None) -> None:
            fanout.join(sid, GROUP)
            gw.sids[(auth or {}).get("name", sid)] = sid

        @sio.event
        async def disconnect(sid: str, reason: str) -> None:
            fanout.leave(sid)
            gw.disconnected.append(sid)

        started.append(sio)
        return gw

    yield start
    for sio in started:
        await sio.shutdown()


@pytest.fixture(scope="session")
def js_client() -> Path:
    """The receiver script, with the JS test clients' packages installed (a missing Node fails)."""
    ensure_installed()
    return JS_DIR / "receiver.cjs"


PAYLOADS: list[Any] = [
    b"\x00\x01\xfe\xffbinary",
    "text with accents: d\u00e9l\u00e9gation, \u2713",
    42,
    -7,
    1.5,
    True,
    None,
    {"nested": {"list": [1, "two", {"three": b"\x03"}], "empty": {}}, "seq": 9},
]


class Recorder:
    """A python-socketio AsyncClient that records every event and ack in arrival order."""

    def __init__(self, name: str, transports: list[str] | None = None) -> None:
        self.name = name
        self.transports = transports
        self.client = socketio.AsyncClient(serializer="msgpack", reconnection=False)
        self.log: list[tuple[str, tuple[Any, ...]]] = []

        @self.client.on("*")
        async def any_event(event: str, *args: Any) -> None:
            self.log.append((event, args))

    async def connect(self, url: str) -> Recorder:
        await self.client.connect(url, transports=self.transports, auth={"name": self.name}, wait_timeout=5)
        return self

    def events(self, name: str) -> list[tuple[Any, ...]]:
        return [args for event, args in self.log if event == name]

    async def wait_events(self, name: str, count: int, timeout: float = 5.0) -> list[tuple[Any, ...]]:
        async with asyncio.timeout(timeout):
            while len(self.events(name)) < count:
                await asyncio.sleep(0.005)
        return self.events(name)

    async def close(self) -> None:
        await self.client.disconnect()


class RawClient:
    """engine.io v4 + socket.io v5 (msgpack) over a hand-made websocket, for socket-level tests."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, headers: dict[str, str]) -> None:
        self.reader = reader
        self.writer = writer
        self.headers = headers

    @classmethod
    async def open(
        cls,
        port: int,
        *,
        query: str = "EIO=4&transport=websocket",
        extensions: str | None = None,
        rcvbuf: int | None = None,
    ) -> RawClient:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            # Before connect, so the advertised window stays small.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
        reader, writer = await asyncio.open_connection(sock=sock, limit=rcvbuf or 2**16)
        lines = [
            f"GET /socket.io/?{query} HTTP/1.1",
            f"Host: 127.0.0.1:{port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
            "Sec-WebSocket-Version: 13",
        ]
        if extensions:
            lines.append(f"Sec-WebSocket-Extensions: {extensions}")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        assert head[0].startswith("HTTP/1.1 101"), head[0]
        headers = {}
        for line in head[1:]:
            if line:
                key, _, value = line.partition(":")
                headers[key.strip().lower()] = value.strip()
        return cls(reader, writer, headers)

    async def frame(self) -> bytes | str:
        compressed, data = await self.raw_frame()
        assert not compressed, "a compressed frame where a plain one was expected"
        return data

    async def raw_frame(self) -> tuple[bool, bytes | str]:
        """The next frame's payload as it came, and whether it is compressed (RSV1)."""
        first, second = await self.reader.readexactly(2)
        size = second & 0x7F
        if size == 126:
            (size,) = struct.unpack("!H", await self.reader.readexactly(2))
        elif size == 127:
            (size,) = struct.unpack("!Q", await self.reader.readexactly(8))
        data = await self.reader.readexactly(size)
        return bool(first & 0x40), data.decode() if first & 0x0F == 1 else data

    def send(self, message: bytes | str) -> None:
        data = message.encode() if isinstance(message, str) else message
        first = 0x81 if isinstance(message, str) else 0x82
        mask = os.urandom(4)
        size = len(data)
        if size < 126:
            header = struct.pack("!BB", first, 0x80 | size)
        else:
            header = struct.pack("!BBH", first, 0x80 | 126, size)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.writer.write(header + mask + masked)

    async def socketio_connect(self, name: str) -> None:
        """Read engine.io OPEN, send socket.io CONNECT with auth, read the CONNECT reply."""
        opening = await self.frame()
        assert isinstance(opening, str) and opening.startswith("0"), opening
        self.send(msgpack.packb({"type": 0, "nsp": "/", "data": {"name": name}}))
        reply = await self.frame()
        assert isinstance(reply, bytes) and msgpack.unpackb(reply)["type"] == 0, reply

    def close(self) -> None:
        self.writer.transport.abort()


async def open_polling_session(port: int) -> str:
    """Open an engine.io session over long-polling; return its sid (for upgrade handshakes)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
    response = await reader.read()
    writer.close()
    body = response.split(b"\r\n\r\n", 1)[1].decode()
    assert body.startswith("0"), body
    return json.loads(body[1:])["sid"]


# -- delivery to every kind of client -------------------------------------------


async def test_websocket_client_receives_broadcasts_in_order_with_payloads_intact(
    gateway_factory: GatewayFactory,
) -> None:
    gw = await gateway_factory()
    alice = await Recorder("alice", ["websocket"]).connect(gw.url)
    bob = await Recorder("bob", ["websocket"]).connect(gw.url)
    await gw.sid_of("bob")
    try:
        for index, payload in enumerate(PAYLOADS):
            assert gw.fanout.send(GROUP, "update", {"index": index, "payload": payload}) == 2
        assert gw.fanout.send(GROUP, "pair", ("first", b"second")) == 2
        assert gw.fanout.send(GROUP, "bare", None) == 2
        for n in range(300):
            gw.fanout.send(GROUP, "seq", n)
        for client in (alice, bob):
            updates = await client.wait_events("update", len(PAYLOADS))
            assert [args[0] for args in updates] == [{"index": i, "payload": p} for i, p in enumerate(PAYLOADS)]
            assert await client.wait_events("pair", 1) == [("first", b"second")]
            assert await client.wait_events("bare", 1) == [()]
            assert [args[0] for args in await client.wait_events("seq", 300)] == list(range(300))
            # arrival order across event names is send order
            assert [event for event, _ in client.log][: len(PAYLOADS) + 2] == ["update"] * len(PAYLOADS) + [
                "pair",
                "bare",
            ]
        assert gw.fanout.stats.queued == 0, "idle websocket members must be served directly"
    finally:
        await alice.close()
        await bob.close()


async def test_the_members_of_the_first_groups_are_written_to_before_the_others(
    gateway_factory: GatewayFactory,
) -> None:
    gw = await gateway_factory()
    clients = [await Recorder(name, ["websocket"]).connect(gw.url) for name in ("a", "b", "c")]
    try:
        sids = {name: await gw.sid_of(name) for name in ("a", "b", "c")}
        gw.fanout.join(sids["c"], "named")
        links = vcc_transport.install(gw.sio)
        written: list[str] = []
        for name, sid in sids.items():
            transport = links.by_eio_sid[gw.sio.manager.eio_sid_from_sid(sid, "/")].transport
            write = transport.write

            def recorded(data: bytes, name: str = name, write: Callable[[bytes], None] = write) -> None:
                written.append(name)
                write(data)

            transport.write = recorded  # type: ignore[method-assign]
        assert gw.fanout.send(GROUP, "update", 1, first=["named", "nobody"]) == 3
        assert written == ["c", "a", "b"]
        written.clear()
        assert gw.fanout.send(GROUP, "update", 2) == 3
        assert written == ["a", "b", "c"], "without first: join order"
        for client in clients:
            assert [args[0] for args in await client.wait_events("update", 2)] == [1, 2]
    finally:
        for client in clients:
            await client.close()


async def test_a_send_to_more_members_than_a_slice_is_written_over_several_turns(gateway_factory: GatewayFactory) -> None:
    """Two members a turn: the loop runs what was scheduled meanwhile between the slices;
    ``done`` comes once, after the last; every client gets every message, in order."""
    gw = await gateway_factory(slice_size=2)
    names = ["a", "b", "c", "d", "e"]
    clients = [await Recorder(name, ["websocket"]).connect(gw.url) for name in names]
    try:
        links = [gw.fanout._links.get(gw.sio.manager.eio_sid_from_sid(await gw.sid_of(name), "/")) for name in names]
        loop = asyncio.get_running_loop()

        def behind() -> int:
            return sum(1 for link in links if link is not None and link.behind)

        waiting: list[int] = []  # links still waiting for their slice, seen from callbacks between the slices
        done: list[int] = []

        def look() -> None:
            waiting.append(behind())
            if len(waiting) < 3:
                loop.call_soon(look)

        assert gw.fanout.send(GROUP, "update", 1, done=lambda took: done.append(len(waiting))) == 5
        assert behind() == 3, "the first two written at once"
        loop.call_soon(look)
        await until(lambda: len(waiting) == 3 and bool(done))
        assert waiting == [1, 0, 0], "the second slice, a look, the third slice, a look"
        assert done == [1], "done once, after the third slice"
        gw.fanout.send(GROUP, "update", 2)
        for client in clients:
            assert [args[0] for args in await client.wait_events("update", 2)] == [1, 2]
    finally:
        for client in clients:
            await client.close()


async def test_what_is_written_to_a_client_whose_slice_has_not_come_goes_after_it(gateway_factory: GatewayFactory) -> None:
    """One member a turn: a message to the last member, an ack that follows its batch and a
    second send, all made before the first send's slice reaches it, arrive after it."""
    gw = await gateway_factory(slice_size=1)
    names = ["a", "b", "c"]
    clients = {name: await Recorder(name, ["websocket"]).connect(gw.url) for name in names}
    try:
        sids = {name: await gw.sid_of(name) for name in names}
        gw.fanout.send(GROUP, "update", 1)
        gw.fanout.send_to(sids["c"], "direct", "to c")
        gw.fanout.send_encoded_to(sids["b"], gw.fanout.encode("ack", "to b"), follow=True)
        gw.fanout.send(GROUP, "update", 2)
        for client in clients.values():
            await client.wait_events("update", 2)
        assert [(e, args[0]) for e, args in clients["c"].log] == [("update", 1), ("direct", "to c"), ("update", 2)]
        assert [(e, args[0]) for e, args in clients["b"].log] == [("update", 1), ("update", 2), ("ack", "to b")]
        assert [(e, args[0]) for e, args in clients["a"].log] == [("update", 1), ("update", 2)]
    finally:
        for client in clients.values():
            await client.close()


async def test_polling_and_upgraded_clients_receive_the_same_broadcasts(gateway_factory: GatewayFactory) -> None:
    gw = await gateway_factory()
    ws = await Recorder("ws", ["websocket"]).connect(gw.url)
    polling = await Recorder("polling", ["polling"]).connect(gw.url)
    upgraded = await Recorder("upgraded", ["polling", "websocket"]).connect(gw.url)
    upgraded_sid = await gw.sid_of("upgraded")
    polling_sid = await gw.sid_of("polling")
    try:
        await until(lambda: gw.sio.transport(upgraded_sid) == "websocket")
        assert gw.sio.transport(polling_sid) == "polling"
        for index, payload in enumerate(PAYLOADS):
            assert gw.fanout.send(GROUP, "update", {"index": index, "payload": payload}) == 3
        expected = [{"index": i, "payload": p} for i, p in enumerate(PAYLOADS)]
        for client in (ws, polling, upgraded):
            assert [args[0] for args in await client.wait_events("update", len(PAYLOADS))] == expected
        # In bursts: python-engineio's client refuses a poll response of more
        # than 16 packets (Payload.max_decode_packets), whoever queued them.
        for burst in range(10):
            for n in range(burst * 10, burst * 10 + 10):
                gw.fanout.send(GROUP, "seq", n)
            for client in (ws, polling, upgraded):
                await client.wait_events("seq", burst * 10 + 10)
        for client in (ws, polling, upgraded):
            assert [args[0] for args in client.events("seq")] == list(range(100))
    finally:
        for client in (ws, polling, upgraded):
            await client.close()


async def test_upgraded_client_ends_up_on_the_direct_path(gateway_factory: GatewayFactory) -> None:
    gw = await gateway_factory()
    client = await Recorder("upgraded", ["polling", "websocket"]).connect(gw.url)
    sid = await gw.sid_of("upgraded")
    try:
        await until(lambda: gw.sio.transport(sid) == "websocket")
        # A marker through engineio's queue: once it arrives, the writer has
        # flushed everything queued during the upgrade.
        await gw.sio.emit("flushed", 0, to=sid)
        await client.wait_events("flushed", 1)
        before = gw.fanout.stats
        gw.fanout.send(GROUP, "fast", 1)
        gw.fanout.send_to(sid, "fast", 2)
        after = gw.fanout.stats
        assert (after.direct - before.direct, after.queued - before.queued) == (2, 0)
        assert await client.wait_events("fast", 2) == [(1,), (2,)]
    finally:
        await client.close()


async def test_polling_client_is_served_through_engineio_queue(gateway_factory: GatewayFactory) -> None:
    gw = await gateway_factory()
    client = await Recorder("polling", ["polling"]).connect(gw.url)
    await gw.sid_of("polling")
    try:
        before = gw.fanout.stats
        assert gw.fanout.send(GROUP, "slow-path", {"b": b"\x00" * 300}) == 1
        assert gw.fanout.stats.queued - before.queued == 1
        assert await client.wait_events("slow-path", 1) == [({"b": b"\x00" * 300},)]
    finally:
        await client.close()


@pytest.mark.parametrize("transports", ["websocket", "polling,websocket"])
async def test_stock_js_client_receives_broadcasts(gateway_factory: GatewayFactory, js_client: Path, transports: str) -> None:
    gw = await gateway_factory()
    node = shutil.which("node")
    assert node is not None
    proc = await asyncio.create_subprocess_exec(node, str(js_client), gw.url, transports, "js", "4", stdout=asyncio.subprocess.PIPE)
    lines: list[dict[str, Any]] = []

    async def read_until(kind: str) -> None:
        while not any(line["kind"] == kind for line in lines):
            raw = await proc.stdout.readline()
            assert raw, f"receiver ended early: {lines}"
            lines.append(json.loads(raw))
            assert lines[-1]["kind"] != "error", lines

    try:
        async with asyncio.timeout(20):
            await read_until("connected")
            sid = await gw.sid_of("js")
            if "polling" in transports:
                await read_until("upgrade")
                await until(lambda: gw.sio.transport(sid) == "websocket")
            gw.fanout.send(GROUP, "update", {"text": "d\u00e9l\u00e9gation", "n": 1, "bin": b"\x01\x02"})
            gw.fanout.send(GROUP, "update", [1, {"deep": [True, None]}])
            gw.fanout.send(GROUP, "pair", ("a", 2))
            gw.fanout.send(GROUP, "large", {"text": "d\u00e9l\u00e9gation " * 1000})  # deflated, on websocket
            rest = (await proc.stdout.read()).decode().splitlines()
            lines.extend(json.loads(line) for line in rest)
            assert await proc.wait() == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    events = [(line["event"], line["args"]) for line in lines if line["kind"] == "event"]
    assert events == [
        ("update", [{"text": "d\u00e9l\u00e9gation", "n": 1, "bin": {"$bytes": "0102"}}]),
        ("update", [[1, {"deep": [True, None]}]]),
        ("pair", ["a", 2]),
        ("large", [{"text": "d\u00e9l\u00e9gation " * 1000}]),
    ]
    websocket = next(line for line in lines if line["kind"] in ("connected", "upgrade") and line["transport"] == "websocket")
    assert websocket["extensions"].startswith("permessage-deflate"), websocket


# -- permessage-deflate, once per message ------------------------------------------

#: What Chromium and Firefox offer.
DEFLATE_OFFER = "permessage-deflate; client_max_window_bits"


class Inflater:
    """A client's side of permessage-deflate: one raw inflater for the whole connection,
    as a browser keeps it when the server may take its context over."""

    def __init__(self) -> None:
        self._z = zlib.decompressobj(-zlib.MAX_WBITS)

    def packet(self, compressed: bool, data: bytes | str) -> Any:
        assert isinstance(data, bytes), data
        return msgpack.unpackb(self._z.decompress(data + b"\x00\x00\xff\xff") if compressed else data)


def test_deflated_frame_is_a_compressed_binary_frame_only_when_it_saves_bytes() -> None:
    def parse(frame: bytes) -> tuple[int, bytes]:
        size, start = frame[1], 2
        if size == 126:
            (size,), start = struct.unpack("!H", frame[2:4]), 4
        elif size == 127:
            (size,), start = struct.unpack("!Q", frame[2:10]), 10
        assert len(frame) == start + size
        return frame[0], frame[start:]

    assert deflated_frame(b"a" * (DEFLATE_MIN - 1)) is None, "small: not worth a second frame"
    assert deflated_frame(os.urandom(4 * DEFLATE_MIN)) is None, "does not shrink"
    for size in (DEFLATE_MIN, 70_000):  # a 16-bit and a 64-bit length
        message = (b"floor_requested" * size)[:size]
        frame = deflated_frame(message)
        assert frame is not None
        first, body = parse(frame)
        assert first == 0x80 | 0x40 | 0x2, "FIN, RSV1 (compressed), binary"
        assert zlib.decompressobj(-zlib.MAX_WBITS).decompress(body + b"\x00\x00\xff\xff") == message


async def test_a_large_message_is_deflated_once_for_every_client_that_negotiated_deflate(gateway_factory: GatewayFactory) -> None:
    gw = await gateway_factory()
    deflating = [await RawClient.open(gw.port, extensions=DEFLATE_OFFER) for _ in range(2)]
    plain = await RawClient.open(gw.port)
    narrow = await RawClient.open(gw.port, extensions="permessage-deflate; server_max_window_bits=10")
    clients = [*deflating, plain, narrow]
    try:
        for client in deflating:
            assert client.headers["sec-websocket-extensions"].startswith("permessage-deflate")
        assert "sec-websocket-extensions" not in plain.headers
        for n, client in enumerate(clients):
            await client.socketio_connect(f"c{n}")
        for n in range(len(clients)):
            await gw.sid_of(f"c{n}")
        large = {"text": "d\u00e9l\u00e9gation, " * 1000, "seq": 1}
        gw.fanout.send(GROUP, "large", large)
        gw.fanout.send(GROUP, "small", {"seq": 2})
        gw.fanout.send(GROUP, "large", {**large, "seq": 3})
        sent = [["large", large], ["small", {"seq": 2}], ["large", {**large, "seq": 3}]]

        wire: list[list[tuple[bool, bytes | str]]] = []
        for client in clients:
            async with asyncio.timeout(5):
                frames = [await client.raw_frame() for _ in sent]
            wire.append(frames)
            inflater = Inflater()
            assert [inflater.packet(*frame)["data"] for frame in frames] == sent
        assert [compressed for compressed, _ in wire[0]] == [True, False, True]
        assert wire[0] == wire[1], "one compression, the same frame for every deflating client"
        assert len(wire[0][0][1]) < len(msgpack.packb(large)) / 5
        assert not any(compressed for frames in wire[2:] for compressed, _ in frames), "plain for the others"

        # Through engineio's queue (an emit to one sid) a message goes plain, and aiohttp's
        # writer never compresses a data frame: its own context would not match the client's
        # window, which holds the frames written here too.
        sid = await gw.sid_of("c0")
        await gw.sio.emit("queued", "x" * 5000, to=sid)
        compressed, data = await asyncio.wait_for(deflating[0].raw_frame(), 5)
        assert not compressed and Inflater().packet(compressed, data)["data"] == ["queued", "x" * 5000]
        link = gw.fanout._links.get(gw.sio.manager.eio_sid_from_sid(sid, "/"))
        assert link is not None and link.deflate and link.ws is not None
        assert link.ws._writer._compressobj is None, "aiohttp compressed a frame of its own"
    finally:
        for client in clients:
            client.close()


async def test_a_large_message_to_one_client_is_deflated_once_for_the_calls_that_repeat_it(gateway_factory: GatewayFactory) -> None:
    """``send_encoded_to`` with the same payload, as a snapshot goes to each of thousands rejoining."""
    gw = await gateway_factory()
    clients = [await RawClient.open(gw.port, extensions=DEFLATE_OFFER) for _ in range(2)]
    try:
        for n, client in enumerate(clients):
            await client.socketio_connect(f"c{n}")
        snapshot = {"state": list(range(5000))}
        payload = gw.fanout.encode("snapshot", snapshot)
        for n in range(len(clients)):
            gw.fanout.send_encoded_to(await gw.sid_of(f"c{n}"), payload)
        async with asyncio.timeout(5):
            frames = [await client.raw_frame() for client in clients]
        assert frames[0] == frames[1] and frames[0][0]
        assert Inflater().packet(*frames[0])["data"] == ["snapshot", snapshot]
    finally:
        for client in clients:
            client.close()


@pytest.mark.parametrize("deflate", [True, False])
async def test_deflate_is_negotiated_on_either_path_unless_turned_off(gateway_factory: GatewayFactory, deflate: bool) -> None:
    gw = await gateway_factory(deflate=deflate)
    direct = await RawClient.open(gw.port, extensions=DEFLATE_OFFER)
    sid = await open_polling_session(gw.port)
    upgraded = await RawClient.open(gw.port, query=f"EIO=4&transport=websocket&sid={sid}", extensions=DEFLATE_OFFER)
    try:
        for client in (direct, upgraded):
            assert client.headers.get("sec-websocket-extensions", "").startswith("permessage-deflate") == deflate
        await direct.socketio_connect("direct")
        await gw.sid_of("direct")
        gw.fanout.send(GROUP, "large", "x" * 10_000)
        compressed, data = await asyncio.wait_for(direct.raw_frame(), 5)
        assert compressed == deflate and Inflater().packet(compressed, data)["data"] == ["large", "x" * 10_000]
    finally:
        direct.close()
        upgraded.close()


# -- slow clients are dropped -----------------------------------------------------


async def test_slow_client_is_dropped_and_others_keep_receiving(gateway_factory: GatewayFactory) -> None:
    # Long pings: the slow client must be dropped for its backlog, not for
    # the pongs it cannot send once it stops reading.
    gw = await gateway_factory(max_pending_bytes=256 * 1024, ping_interval=20, ping_timeout=20)
    fast = [await Recorder(f"fast{i}", ["websocket"]).connect(gw.url) for i in range(2)]
    slow = await RawClient.open(gw.port, rcvbuf=4096)
    await slow.socketio_connect("slow")
    slow_sid = await gw.sid_of("slow")
    await gw.sid_of("fast1")
    chunk = b"\xab" * 32 * 1024
    sent = 0
    try:
        # The slow client never reads again. Keep broadcasting until it is
        # dropped; the fast clients read as they go (same event loop).
        async with asyncio.timeout(30):
            while not gw.drops:
                gw.fanout.send(GROUP, "chunk", {"n": sent, "data": chunk})
                sent += 1
                await asyncio.sleep(0.001)
        assert gw.drops == [slow_sid]
        # Its connection is aborted and engineio runs the normal disconnect.
        await until(lambda: slow_sid in gw.disconnected)
        assert gw.fanout.members(GROUP) == 2
        with pytest.raises((ConnectionError, asyncio.IncompleteReadError)):
            async with asyncio.timeout(5):
                while True:
                    await slow.frame()
        # The others got everything, in order, and keep receiving promptly.
        loop = asyncio.get_running_loop()
        started = loop.time()
        assert gw.fanout.send(GROUP, "after", "drop") == 2
        for client in fast:
            assert await client.wait_events("after", 1, timeout=1.0) == [("drop",)]
            assert [args[0]["n"] for args in client.events("chunk")] == list(range(sent))
        assert loop.time() - started < 1.0
        assert gw.drops == [slow_sid], "on_drop is called once per client"
    finally:
        slow.close()
        for client in fast:
            await client.close()


async def test_frames_larger_than_a_socket_takes_arrive_whole_and_in_order_across_slices(gateway_factory: GatewayFactory) -> None:
    """A client whose socket takes only part of each 64 KiB frame, behind another in the
    slices: what is left waits in its transport, and every frame arrives whole, in order."""
    gw = await gateway_factory(slice_size=1)
    other = await Recorder("other", ["websocket"]).connect(gw.url)
    client = await RawClient.open(gw.port, rcvbuf=4096)
    await client.socketio_connect("narrow")
    sid = await gw.sid_of("narrow")
    link = gw.fanout._links.get(gw.sio.manager.eio_sid_from_sid(sid, "/"))
    assert link is not None and link.transport is not None
    link.transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    chunks = [bytes([n]) * 64 * 1024 for n in range(5)]
    try:
        for n, chunk in enumerate(chunks):
            gw.fanout.send(GROUP, "chunk", {"n": n, "data": chunk})
        received = []
        async with asyncio.timeout(10):
            while len(received) < len(chunks):
                frame = await client.frame()
                if isinstance(frame, bytes):
                    received.append(msgpack.unpackb(frame)["data"][1])
        assert link.transport.get_write_buffer_size() == 0
        assert [(r["n"], r["data"]) for r in received] == list(enumerate(chunks))
        assert [args[0]["n"] for args in await other.wait_events("chunk", 5)] == list(range(5))
    finally:
        client.close()
        await other.close()


async def test_slow_polling_client_is_dropped(gateway_factory: GatewayFactory) -> None:
    gw = await gateway_factory(max_pending_bytes=64 * 1024)
    eio_sid = await open_polling_session(gw.port)
    # Join the namespace over polling, then never poll again.
    reader, writer = await asyncio.open_connection("127.0.0.1", gw.port)
    connect = msgpack.packb({"type": 0, "nsp": "/", "data": {"name": "idle"}})
    body = "b" + base64.b64encode(connect).decode()
    writer.write(
        f"POST /socket.io/?EIO=4&transport=polling&sid={eio_sid} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{gw.port}\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n"
        f"Connection: close\r\n\r\n{body}".encode()
    )
    assert (await reader.read()).startswith(b"HTTP/1.1 200")
    writer.close()
    sid = await gw.sid_of("idle")
    sent = 0
    while not gw.drops and sent < 99:
        gw.fanout.send(GROUP, "chunk", b"\x00" * 4096)
        sent += 1
    assert gw.drops == [sid]
    # 4 KiB messages against a 64 KiB bound: dropped on the 17th.
    assert sent == 17
    await until(lambda: sid in gw.disconnected)
    assert gw.fanout.members(GROUP) == 0


async def test_polling_client_that_keeps_up_is_never_dropped(gateway_factory: GatewayFactory) -> None:
    """The bound is on what is waiting, not on what was ever sent: 300 KiB through an 8 KiB bound."""
    gw = await gateway_factory(max_pending_bytes=8 * 1024)
    client = await Recorder("polling", ["polling"]).connect(gw.url)
    await gw.sid_of("polling")
    try:
        for n in range(300):
            gw.fanout.send(GROUP, "kib", {"n": n, "pad": b"\x00" * 1024})
            await asyncio.sleep(0.003)
        assert [args[0]["n"] for args in await client.wait_events("kib", 300)] == list(range(300))
        assert gw.drops == []
    finally:
        await client.close()


# -- ordering between engineio's queue and direct writes ----------------------------


async def test_ack_and_emit_to_sid_keep_their_order_with_fanout_sends(gateway_factory: GatewayFactory) -> None:
    """The documented guarantee: per connection, hand-over order is arrival order."""
    gw = await gateway_factory()

    @gw.sio.on("probe")
    async def probe(sid: str, n: int) -> int:
        await gw.sio.emit("emitted", n, to=sid)  # engineio's queue
        gw.fanout.send(GROUP, "broadcast", n)  # handed over after the emit
        gw.fanout.send_to(sid, "direct", n)
        return n  # the ack is queued when the handler returns

    clients = [
        await Recorder("ws0", ["websocket"]).connect(gw.url),
        await Recorder("ws1", ["websocket"]).connect(gw.url),
        await Recorder("polling", ["polling"]).connect(gw.url),
    ]
    try:
        # One client at a time, three probes at once without waiting for the
        # acks, so handlers run concurrently and their packets cross. (Bursts
        # stay small: python-engineio's client refuses a poll response of more
        # than 16 packets.)
        for base, client in enumerate(clients):
            for burst in range(10):
                for n in range(base * 100 + burst * 3, base * 100 + burst * 3 + 3):
                    await client.client.emit("probe", n, callback=lambda value, client=client: client.log.append(("ack", (value,))))
                await until(lambda client=client, burst=burst: len(client.events("ack")) == burst * 3 + 3)
            arrivals = [(event, args[0]) for event, args in client.log]
            for n in range(base * 100, base * 100 + 30):
                positions = [arrivals.index((event, n)) for event in ("emitted", "broadcast", "direct", "ack")]
                assert positions == sorted(positions), (client.name, n, arrivals)
    finally:
        for client in clients:
            await client.close()


async def test_interleaved_emit_and_fanout_arrive_in_call_order(gateway_factory: GatewayFactory) -> None:
    """Alternate engineio-queued and direct sends back to back; the client sees one increasing sequence.

    A packet on the socket's queue that the writer has not taken yet (put there
    by engineio: every other time here, as ``sio.emit`` leaves it; the link's
    writer takes it at its next turn of the loop) must not be overtaken by a
    direct write.
    """
    gw = await gateway_factory()
    client = await Recorder("c", ["websocket"]).connect(gw.url)
    sid = await gw.sid_of("c")
    sock = gw.sio.eio.sockets[gw.sio.manager.eio_sid_from_sid(sid, "/")]
    try:
        n = 0
        for i in range(300):
            # Rotate which path goes first, and sometimes let the writer drain
            # so that direct writes happen too.
            for j in range(3):
                path = (i + j) % 3
                if path == 0 and i % 2:
                    await gw.sio.emit("seq", n, to=sid)
                elif path == 0:
                    payload = gw.sio.packet_class(socketio.packet.EVENT, namespace="/", data=["seq", n]).encode()
                    sock.queue.put_nowait(eio_packet.Packet(eio_packet.MESSAGE, data=payload))
                elif path == 1:
                    gw.fanout.send_to(sid, "seq", n)
                else:
                    gw.fanout.send(GROUP, "seq", n)
                n += 1
            await asyncio.sleep(0.002 if i % 5 == 0 else 0)
        received = [args[0] for args in await client.wait_events("seq", n)]
        assert received == list(range(n))
        assert gw.fanout.stats.direct > 0 and gw.fanout.stats.queued > 0, "both paths must be exercised"
    finally:
        await client.close()


# -- cleanup ----------------------------------------------------------------------


async def test_leave_and_disconnect_leave_no_references(gateway_factory: GatewayFactory) -> None:
    gw = await gateway_factory()
    clients = [
        await Recorder("ws", ["websocket"]).connect(gw.url),
        await Recorder("polling", ["polling"]).connect(gw.url),
        await Recorder("upgraded", ["polling", "websocket"]).connect(gw.url),
    ]
    sids = [await gw.sid_of(c.name) for c in clients]
    await until(lambda: gw.sio.transport(sids[2]) == "websocket")
    for sid in sids:
        gw.fanout.join(sid, "extra")
        gw.fanout.join(sid, "extra")  # idempotent
    assert gw.fanout.members("extra") == 3
    gw.fanout.leave(sids[0], "extra")
    assert gw.fanout.members("extra") == 2
    assert gw.fanout.members(GROUP) == 3
    gw.fanout.leave("not-a-sid")  # unknown: no-op
    with pytest.raises(KeyError):
        gw.fanout.join("not-a-sid", GROUP)

    links = vcc_transport.install(gw.sio)  # same registry the Fanout uses
    assert len(links) == 2  # the websocket and the upgraded client
    link_refs = [weakref.ref(links.get(gw.sio.manager.eio_sid_from_sid(sid, "/"))) for sid in (sids[0], sids[2])]
    member_refs = [weakref.ref(gw.fanout._members[sid]) for sid in sids]

    for client in clients:
        await client.close()
    await until(lambda: set(sids) <= set(gw.disconnected))
    await until(lambda: len(links) == 0)
    assert gw.fanout.members(GROUP) == 0 and gw.fanout.members("extra") == 0
    assert gw.fanout._groups == {} and gw.fanout._members == {}
    assert gw.fanout.send(GROUP, "nobody", 1) == 0
    gc.collect()
    assert [ref() for ref in link_refs + member_refs] == [None] * 5


def test_fanout_needs_the_msgpack_serializer() -> None:
    with pytest.raises(TypeError, match="msgpack"):
        Fanout(socketio.AsyncServer(async_mode="aiohttp"))
