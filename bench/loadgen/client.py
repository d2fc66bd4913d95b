"""A lean socket.io client that counts and times events, and the worker
process that holds many of them.

Wire format spoken (websocket transport only, no long-polling, no
permessage-deflate offered):

- engine.io v4: ``GET /socket.io/?EIO=4&transport=websocket``; the server's
  first frame is the text open packet ``0{...}``; a text ``2`` (ping) is
  answered with ``3`` (pong); binary frames are engine.io messages with no
  prefix.
- socket.io v5 with the msgpack parser (socket.io-msgpack-parser, and
  python-socketio's ``serializer='msgpack'``): every packet is one binary
  frame holding a msgpack map ``{type, data, nsp[, id]}``. The client sends
  CONNECT ``{type: 0, nsp, data: auth}``; the server answers CONNECT
  (``data: {sid}``) or CONNECT_ERROR (type 4); events are EVENT (type 2)
  with ``data = [event_name, *args]``.

Timing. Latency of an event = arrival time - the server's send time carried
in the payload (``time.time()`` seconds; both ends share this machine's
clock). The arrival time is the kernel's receive timestamp of the bytes
(``SO_TIMESTAMPNS``), not the moment this process got round to reading them:
on a 2-core machine the generator needs about as much CPU per delivery as
the fastest server it measures, and reading the clock in Python would add
its own queueing to the server's latency. The time the bytes were read
(``time.time()`` once per read) is kept too; ``lag`` = read time - arrival
time says how far behind the generator was, which is how a reader tells
whether it limited a run. For TCP the kernel reports the timestamp of the
last segment a read returned, so when one read returns several frames the
earlier ones are counted as arriving with the last (late, never early).

Why sockets with ``add_reader`` and not a transport: asyncio's transports
do not expose ``recvmsg`` ancillary data, and a task per connection costs
CPU. Load generator CPU per delivery, measured against the bare baseline
(1,000 clients, 10 broadcasts/s, 2-core VM shared with other jobs, so +-20 %):
``aiohttp.ClientSession.ws_connect`` with a reader task per connection
31 us; an ``asyncio.Protocol`` with its own framer 21 us (18 us on uvloop);
this module 21-22 us on asyncio, 14-18 us on uvloop, about what the bare
server spends per delivery. The worker runs on uvloop when it is installed
(``bench`` extra), asyncio otherwise. More worker processes on the same core
bought nothing; give them more cores (``--loadgen-cpus``) if there are any.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import importlib
import os
import platform
import signal
import socket
import struct
import sys
import time
import zlib
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import msgpack

EVENT = 2
ACK = 3
CONNECT = 0
DISCONNECT = 1
CONNECT_ERROR = 4

_WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_OP_CONT, _OP_TEXT, _OP_BINARY, _OP_CLOSE, _OP_PING, _OP_PONG = 0, 1, 2, 8, 9, 10
_RSV1 = 0x40  # permessage-deflate: a compressed message
#: What Chromium and Firefox offer.
_DEFLATE_OFFER = "permessage-deflate; client_max_window_bits"
#: The empty block that ends a sync flush, left off the wire (RFC 7692, 7.2.1).
_FLUSH_TAIL = b"\x00\x00\xff\xff"

# Python 3.11's socket module lacks the constant; 35 is Linux's value on
# x86-64 and arm64 (asm-generic/socket.h); elsewhere, fall back to read time.
_SO_TIMESTAMPNS: int | None = getattr(socket, "SO_TIMESTAMPNS", None) or (
    35 if sys.platform == "linux" and platform.machine() in ("x86_64", "aarch64") else None
)
_TIMESPEC = struct.Struct("@qq")
_ANC_SIZE = socket.CMSG_SPACE(_TIMESPEC.size)
# One receive buffer per worker: reads are handled one at a time, and a
# buffer per connection would cost 2,000 x 64 KiB.
_RECV_SIZE = 65536

TsExtractor = Callable[[list[Any]], Sequence[float]]

_sending: set[asyncio.Task[None]] = set()


def payload_ts(data: list[Any]) -> Sequence[float]:
    """Send times carried by one socket.io EVENT, ``data = [event, arg, ...]``.

    The baselines send one dict per event with a ``ts`` key. A list as the
    first argument is read as a batch of such dicts (one latency sample
    each). A service with another batch layout plugs in its own function of
    this signature (``ClientConfig.extract_ts = "module:function"``).
    """
    arg = data[1]
    if type(arg) is dict:
        return (arg["ts"],)
    return [item["ts"] for item in arg]


def load_extractor(spec: str) -> TsExtractor:
    """Import ``"package.module:function"``; workers are separate processes,
    so the extractor travels by name rather than as an object."""
    module, _, name = spec.partition(":")
    func = getattr(importlib.import_module(module), name)
    if not callable(func):
        raise TypeError(f"{spec} is not callable")
    return func


@dataclass
class ClientConfig:
    """How every simulated client connects. Picklable: sent to worker processes."""

    port: int
    host: str = "127.0.0.1"
    path: str = "/socket.io/"
    namespace: str = "/"
    # socket.io CONNECT payload; our service expects {"token": ...}.
    auth: dict[str, Any] | None = None
    # One CONNECT payload per client (client k gets auths[k % len]), e.g. a
    # join token per delegate; overrides ``auth``.
    auths: list[dict[str, Any]] | None = None
    # Keep (arrival, last) of every ``events`` batch per client (bench_burst:
    # when did each client have seq X?).
    track_batches: bool = False
    extract_ts: str = "bench.loadgen.client:payload_ts"
    # Keep every arrival time per send time (``Stats.arrivals``), for a latency
    # counted from another start than the one in the message (bench_fanout:
    # from the chair's send, for the service).
    keep_arrivals: bool = False
    # Keep each socket.io packet undecoded, with its arrival time, until the
    # harness asks for results (acks, batches, stats): during a burst the
    # generator's CPU then goes to sending on time and reading, not to
    # decoding what every batch carries for every connection (bench_burst).
    # Arrival times are the kernel's either way; pings are answered at once.
    defer_decoding: bool = False
    # SO_RCVBUF of each socket, set before connecting (None: the kernel's
    # default, 128 KiB here, grown only as fast as the reader keeps up). A
    # client on a machine of its own reads its socket as the bytes come; one
    # generator process reading 500 does not, and when a broadcast is larger
    # than the buffer, TCP's flow control holds the rest on the server until
    # the generator gets round to reading: the generator's delay would be
    # counted as the server's (bench_burst, every request at once: some
    # 150 KB of events to each client).
    rcvbuf: int | None = None
    # Offer permessage-deflate as browsers do. If the server takes it up,
    # inflate the messages it compresses (in arrival order, with one inflater
    # per connection, as a browser does; deferred with the decoding), and
    # compress what this client sends, as browsers do, so that the server
    # pays for reading it: each message with a small fresh compressor (a
    # browser keeps one, of some 256 KiB; a thousand would weigh on the
    # generator, and the server's inflater is the same either way).
    deflate: bool = False
    # Handshakes in flight per worker: enough to connect 2,000 clients in a
    # few seconds, few enough not to overflow a listen backlog of 128.
    connect_concurrency: int = 32
    connect_timeout: float = 20.0
    # "auto": uvloop if installed; "asyncio" forces the standard loop.
    event_loop: str = "auto"

    @property
    def resource(self) -> str:
        return f"{self.path}?EIO=4&transport=websocket"


class ConnectError(Exception):
    """The server refused or broke the websocket or socket.io handshake."""


@dataclass
class Stats:
    """What one worker received since the last reset.

    One sample per send time extracted: ``latencies`` (arrival - send) and
    ``lags`` (read - arrival), in seconds. ``by_ts`` groups samples by send
    time (every client receives a broadcast with the same ``ts``): per
    broadcast ``[clients reached, slowest latency]``.
    """

    extract: TsExtractor
    frames: int = 0
    latencies: array = field(default_factory=lambda: array("d"))
    lags: array = field(default_factory=lambda: array("d"))
    by_ts: dict[float, list[float]] = field(default_factory=dict)
    errors: int = 0
    #: Arrival times per send time, if kept (``ClientConfig.keep_arrivals``).
    arrivals: dict[float, array] | None = None

    def reset(self) -> None:
        self.frames = 0
        self.latencies = array("d")
        self.lags = array("d")
        self.by_ts = {}
        self.errors = 0
        if self.arrivals is not None:
            self.arrivals = {}

    def record(self, arrived: float, lag: float, data: list[Any]) -> None:
        self.frames += 1
        try:
            stamps = self.extract(data)
        except (LookupError, TypeError, ValueError):
            self.errors += 1
            return
        by_ts = self.by_ts
        for ts in stamps:
            lat = arrived - ts
            self.latencies.append(lat)
            self.lags.append(lag)
            if self.arrivals is not None:
                self.arrivals.setdefault(ts, array("d")).append(arrived)
            group = by_ts.get(ts)
            if group is None:
                by_ts[ts] = [1, lat]
            else:
                group[0] += 1
                if lat > group[1]:
                    group[1] = lat


def _client_frame(opcode: int, payload: bytes) -> bytes:
    """A masked client-to-server frame (RFC 6455 5.3: clients must mask)."""
    mask = os.urandom(4)
    n = len(payload)
    if n < 126:
        header = bytes((0x80 | opcode, 0x80 | n))
    elif n < 65536:
        header = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        header = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
    # Only handshake packets and pongs go this way: a byte loop is fine.
    masked = bytes(b ^ mask[i & 3] for i, b in enumerate(payload))
    return header + mask + masked


class Client:
    """One socket.io connection: a non-blocking socket read by an
    ``add_reader`` callback, an RFC 6455 framer, the engine.io/socket.io
    handshake. No task per connection; one ``recvmsg`` per readiness event."""

    __slots__ = (
        "cfg",
        "stats",
        "loop",
        "sock",
        "ready",
        "open",
        "_buf",
        "_key",
        "_handshake",
        "_rest",
        "_frag_op",
        "_frag",
        "_connect_packet",
        "sent",
        "acks",
        "batches",
        "index",
        "_deferred",
        "_inflater",
        "_frag_compressed",
    )

    def __init__(
        self, cfg: ClientConfig, stats: Stats, loop: asyncio.AbstractEventLoop, buf: memoryview, auth: dict[str, Any] | None = None
    ) -> None:
        self.cfg = cfg
        self.stats = stats
        self.loop = loop
        self.sock: socket.socket | None = None
        self.ready: asyncio.Future[None] = loop.create_future()
        self.open = False
        self._buf = buf
        self._key = base64.b64encode(os.urandom(16))
        self._handshake: bytes | None = b""  # None once upgraded
        self._rest = b""
        self._frag_op = 0
        self._frag: list[bytes] = []
        # Commands sent with an ack id: id -> send time; id -> (arrival, ack data).
        self.sent: dict[int, float] = {}
        self.acks: dict[int, tuple[float, Any]] = {}
        self.batches: list[tuple[float, int]] = []
        self.index = -1  # among all the generator's clients (set by the worker)
        self._deferred: list[tuple[bytes, float, float, bool]] | None = [] if cfg.defer_decoding else None
        #: The server's compressed messages are inflated with it, once deflate is negotiated.
        self._inflater: Any = None
        self._frag_compressed = False
        auth = auth if auth is not None else cfg.auth
        packet: dict[str, Any] = {"type": CONNECT, "nsp": cfg.namespace}
        if auth is not None:
            packet["data"] = auth
        self._connect_packet = msgpack.packb(packet)

    async def connect(self) -> None:
        """Open the socket and complete both handshakes.

        :raises ConnectError, OSError: and the socket is closed.
        """
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock = sock
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.cfg.rcvbuf is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.cfg.rcvbuf)
        if _SO_TIMESTAMPNS is not None:
            sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
        try:
            await self.loop.sock_connect(sock, (self.cfg.host, self.cfg.port))
            cfg = self.cfg
            offer = f"Sec-WebSocket-Extensions: {_DEFLATE_OFFER}\r\n" if cfg.deflate else ""
            self._send(
                f"GET {cfg.resource} HTTP/1.1\r\nHost: {cfg.host}:{cfg.port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {self._key.decode()}\r\nSec-WebSocket-Version: 13\r\n{offer}\r\n".encode()
            )
            if self.sock is None:
                await self.ready  # the send failed: raises the ConnectError _lost() set
            self.open = True
            self.loop.add_reader(sock.fileno(), self._readable)
            await self.ready
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        sock = self.sock
        if sock is None:
            return
        self.sock = None
        if self.open:
            self.loop.remove_reader(sock.fileno())
        self.open = False
        sock.close()

    def _lost(self, reason: str) -> None:
        self.close()
        if not self.ready.done():
            self.ready.set_exception(ConnectError(reason))

    def _send(self, data: bytes) -> None:
        sock = self.sock
        if sock is None:
            return
        try:
            sent = sock.send(data)
        except BlockingIOError:
            sent = 0
        except OSError as exc:
            self._lost(f"send failed: {exc!r}")
            return
        if sent < len(data):
            # Only a few small control frames are ever sent; a full send
            # buffer is rare enough for a task to finish the job. The loop
            # keeps only weak references to tasks: hold this one until done.
            task = self.loop.create_task(self.loop.sock_sendall(sock, data[sent:]))
            _sending.add(task)
            task.add_done_callback(_sending.discard)

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        if self._inflater is not None and opcode in (_OP_TEXT, _OP_BINARY):
            # Small and fresh: level 1, a 512-byte window, the least memory (see ClientConfig.deflate).
            compressor = zlib.compressobj(1, zlib.DEFLATED, -9, 1)
            payload = (compressor.compress(payload) + compressor.flush(zlib.Z_SYNC_FLUSH))[: -len(_FLUSH_TAIL)]
            opcode |= _RSV1
        self._send(_client_frame(opcode, payload))

    def emit(self, event: str, arg: Any, ack_id: int) -> None:
        """Send a socket.io EVENT asking for an ack; its send time is kept."""
        packet = {"type": EVENT, "nsp": self.cfg.namespace, "data": [event, arg], "id": ack_id}
        self.sent[ack_id] = time.time()
        self._send_frame(_OP_BINARY, msgpack.packb(packet))

    # -- reading -------------------------------------------------------------

    def _readable(self) -> None:
        sock = self.sock
        if sock is None:
            return
        try:
            n, ancdata, _, _ = sock.recvmsg_into((self._buf,), _ANC_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._lost(f"read failed: {exc!r}")
            return
        now = time.time()
        if n == 0:
            self._lost("server closed the connection")
            return
        arrived = now
        for level, kind, cdata in ancdata:
            if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS:
                sec, nsec = _TIMESPEC.unpack(cdata)
                arrived = sec + nsec * 1e-9
        data = bytes(self._buf[:n])
        if self._handshake is not None:
            data = self._upgrade(data)
            if not data:
                return
        if self._rest:
            data = self._rest + data
            self._rest = b""
        self._frames(data, arrived, now - arrived)

    def _frames(self, data: bytes, arrived: float, lag: float) -> None:
        i = 0
        end = len(data)
        while end - i >= 2:
            b0 = data[i]
            n = data[i + 1]
            if n & 0x80:
                self._lost("server sent a masked frame")
                return
            h = 2
            if n == 126:
                if end - i < 4:
                    break
                n = int.from_bytes(data[i + 2 : i + 4], "big")
                h = 4
            elif n == 127:
                if end - i < 10:
                    break
                n = int.from_bytes(data[i + 2 : i + 10], "big")
                h = 10
            if end - i < h + n:
                break
            payload = data[i + h : i + h + n]
            i += h + n
            if b0 == 0x82:  # FIN + binary: every event, the fast path
                self._packet(payload, arrived, lag)
            else:
                self._control(b0, payload, arrived, lag)
            if self.sock is None:
                return
        if i < end:
            self._rest = data[i:]

    def _upgrade(self, data: bytes) -> bytes:
        """Consume the HTTP 101 response; return the bytes that follow it."""
        assert self._handshake is not None
        buf = self._handshake + data
        head, sep, rest = buf.partition(b"\r\n\r\n")
        if not sep:
            if len(buf) > 16384:
                self._lost("oversized handshake response")
            else:
                self._handshake = buf
            return b""
        lines = head.split(b"\r\n")
        accept = base64.b64encode(hashlib.sha1(self._key + _WS_GUID).digest())
        headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(b":") for ln in lines[1:])}
        if lines[0].split(b" ", 2)[1:2] != [b"101"] or headers.get(b"sec-websocket-accept") != accept:
            self._lost(f"websocket upgrade refused: {lines[0].decode(errors='replace')}")
            return b""
        self._handshake = None
        if headers.get(b"sec-websocket-extensions", b"").startswith(b"permessage-deflate"):
            self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        return rest

    def _control(self, b0: int, payload: bytes, arrived: float, lag: float) -> None:
        opcode = b0 & 0x0F
        compressed = bool(b0 & _RSV1)
        if opcode == _OP_CONT or not b0 & 0x80:
            # A fragmented message: no server here fragments small frames,
            # but RFC 6455 allows it. RSV1 is on its first frame.
            if opcode != _OP_CONT:
                self._frag_op, self._frag_compressed = opcode, compressed
            self._frag.append(payload)
            if not b0 & 0x80:
                return
            opcode, payload, compressed = self._frag_op, b"".join(self._frag), self._frag_compressed
            self._frag = []
        if compressed and self._inflater is None:
            self._lost("server sent a compressed frame without deflate negotiated")
        elif opcode == _OP_BINARY:
            self._packet(payload, arrived, lag, compressed)
        elif opcode == _OP_TEXT:
            self._engineio((self._inflate(payload) if compressed else payload).decode())
        elif opcode == _OP_PING:
            self._send_frame(_OP_PONG, payload)
        elif opcode == _OP_CLOSE:
            self._send_frame(_OP_CLOSE, payload[:2])
            self._lost("websocket closed by the server")

    def _engineio(self, text: str) -> None:
        kind = text[:1]
        if kind == "2":  # ping
            self._send_frame(_OP_TEXT, ("3" + text[1:]).encode())
        elif kind == "0":  # open: now say socket.io CONNECT
            self._send_frame(_OP_BINARY, self._connect_packet)
        elif kind == "1":
            self._lost("engine.io close")
        elif kind != "6":  # 6 = noop; a "4" means the server is not using msgpack
            self.stats.errors += 1

    def _packet(self, payload: bytes, arrived: float, lag: float, compressed: bool = False) -> None:
        if self._deferred is not None and self.ready.done():
            self._deferred.append((payload, arrived, lag, compressed))
            return
        self._decode(self._inflate(payload) if compressed else payload, arrived, lag)

    def _inflate(self, payload: bytes) -> bytes:
        """A compressed message's bytes; called in arrival order, the inflater's window spans them."""
        return bytes(self._inflater.decompress(payload + _FLUSH_TAIL))

    def decode_deferred(self) -> None:
        """Decode the packets kept undecoded (``ClientConfig.defer_decoding``), in order."""
        deferred = self._deferred
        if deferred:
            self._deferred = []
            for payload, arrived, lag, compressed in deferred:
                self._decode(self._inflate(payload) if compressed else payload, arrived, lag)

    def _decode(self, payload: bytes, arrived: float, lag: float) -> None:
        packet = msgpack.unpackb(payload)
        kind = packet["type"]
        if kind == EVENT:
            data = packet["data"]
            if self.cfg.track_batches and data[0] == "events":
                self.batches.append((arrived, data[1]["last"]))
            self.stats.record(arrived, lag, data)
        elif kind == ACK:
            args = packet.get("data") or [None]
            self.acks[packet.get("id")] = (arrived, args[0])
        elif kind == CONNECT:
            if not self.ready.done():
                self.ready.set_result(None)
        elif kind == CONNECT_ERROR:
            self._lost(f"CONNECT_ERROR {packet.get('data')!r}")
        elif kind == DISCONNECT:
            self._lost("socket.io disconnect")


# --------------------------------------------------------------------------
# Worker process
# --------------------------------------------------------------------------


class _Worker:
    """Holds its share of the connections and answers the harness's requests
    over a pipe. Requests and replies are tuples: ``(command, *args)``."""

    def __init__(self, conn: Connection, cfg: ClientConfig) -> None:
        self.conn = conn
        self.cfg = cfg
        self.stats = Stats(load_extractor(cfg.extract_ts), arrivals={} if cfg.keep_arrivals else None)
        self.clients: list[Client] = []
        self._buf = memoryview(bytearray(_RECV_SIZE))

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                # A thread waits on the pipe: add_reader would make the pipe
                # non-blocking (uvloop does), and a large reply would then
                # fail with EAGAIN while the harness reads another worker.
                try:
                    command, *args = await loop.run_in_executor(None, self.conn.recv)
                except (EOFError, OSError):
                    break  # the harness went away: do not hold sockets forever
                if command == "close":
                    break
                self.conn.send(await getattr(self, f"do_{command}")(*args))
        finally:
            for client in self.clients:
                client.close()
            with contextlib.suppress(OSError):
                self.conn.send(("closed",))

    async def do_connect(self, count: int, first: int = 0) -> tuple[str, int, int, list[str], float]:
        """Open ``count`` connections, the ``first``-th client onwards overall
        (which ``auths`` they use); reply with (ok, failed, sample errors, seconds)."""
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        gate = asyncio.Semaphore(self.cfg.connect_concurrency)
        errors: list[str] = []

        auths = self.cfg.auths

        async def one(index: int) -> bool:
            async with gate:
                auth = auths[index % len(auths)] if auths else None
                client = Client(self.cfg, self.stats, loop, self._buf, auth)
                client.index = index
                try:
                    async with asyncio.timeout(self.cfg.connect_timeout):
                        await client.connect()
                except (OSError, ConnectError, TimeoutError) as exc:
                    if len(errors) < 5:
                        errors.append(repr(exc))
                    return False
                self.clients.append(client)
                return True

        results = await asyncio.gather(*(one(first + k) for k in range(count)))
        ok = sum(results)
        return ("connected", ok, count - ok, errors, time.perf_counter() - started)

    async def do_emit_at(self, plan: list[tuple[int, float, str, Any]]) -> tuple[str, int]:
        """Schedule sends: (client index among all, wall-clock time, event,
        arg); the ack id is 1. Replies at once; ``do_acks`` reads the answers."""
        loop = asyncio.get_running_loop()
        now_wall, now_loop = time.time(), loop.time()
        by_index = {c.index: c for c in self.clients}
        for index, at, event, arg in plan:
            client = by_index[index]
            loop.call_at(now_loop + (at - now_wall), client.emit, event, arg, 1)
        return ("scheduled", len(plan))

    def _decode_deferred(self) -> None:
        for client in self.clients:
            client.decode_deferred()

    async def do_acks(self) -> tuple[str, list[tuple[int, float | None, float | None, Any]]]:
        """Per client: (index, send time, ack arrival, ack data) of ack id 1."""
        self._decode_deferred()
        out = []
        for c in self.clients:
            arrived, data = c.acks.get(1, (None, None))
            out.append((c.index, c.sent.get(1), arrived, data))
        return ("acks", out)

    async def do_seen(self, seq: int) -> tuple[str, list[tuple[int, float | None, int, bool]]]:
        """Per client: (index, arrival of the first batch reaching ``seq`` or
        None, the last seq it has, still open)."""
        self._decode_deferred()
        out = []
        for c in self.clients:
            t = next((t for t, s in c.batches if s >= seq), None)
            out.append((c.index, t, max((s for _, s in c.batches), default=0), c.open))
        return ("seen", out)

    async def do_reset(self) -> tuple[str]:
        self._decode_deferred()
        self.stats.reset()
        return ("reset",)

    async def do_progress(self) -> tuple[str, int, int]:
        """(samples received, connections still open)."""
        self._decode_deferred()
        return ("progress", len(self.stats.latencies), sum(c.open for c in self.clients))

    async def do_collect(self) -> tuple[str, dict[str, Any]]:
        self._decode_deferred()
        s = self.stats
        return (
            "collected",
            {
                "frames": s.frames,
                "errors": s.errors,
                "latencies": s.latencies.tobytes(),
                "lags": s.lags.tobytes(),
                "by_ts": s.by_ts,
                "arrivals": None if s.arrivals is None else {ts: a.tobytes() for ts, a in s.arrivals.items()},
                "open": sum(c.open for c in self.clients),
                "kernel_timestamps": _SO_TIMESTAMPNS is not None,
                "event_loop": type(asyncio.get_running_loop()).__module__.split(".")[0],
            },
        )


def _runner(event_loop: str) -> Callable[[Any], None]:
    if event_loop == "auto":
        try:
            import uvloop
        except ImportError:
            return asyncio.run
        return uvloop.run
    if event_loop == "asyncio":
        return asyncio.run
    raise ValueError(f"unknown event loop {event_loop!r}: use 'auto' or 'asyncio'")


def worker_main(conn: Connection, cfg: ClientConfig, cpus: set[int] | None) -> None:
    """Entry point of one load-generator process (multiprocessing target)."""
    # Ctrl-C reaches the whole process group; the harness decides when
    # workers stop (it closes them, or they see the pipe close).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if cpus:
        os.sched_setaffinity(0, cpus)
    _runner(cfg.event_loop)(_Worker(conn, cfg).run())
