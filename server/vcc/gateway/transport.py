"""engineio's aiohttp websocket driver, replaced for one server: deflate once per message, a reachable transport.

Theory of operation
-------------------
engineio (``async_mode='aiohttp'``) opens a websocket by calling
``server._async['websocket'](handler, server)`` and awaiting the result with the
request environ. The object it gets back is a thin wrapper around aiohttp's
``WebSocketResponse`` with four methods (``__call__``, ``send``, ``wait``,
``close``); engineio's per-connection writer task pulls packets from the
socket's queue and calls ``send`` for each. :class:`WebSocketLink` is that
wrapper, written for the fan-out path:

* **Permessage-deflate, compressed once per message.** The stock wrapper
  builds ``WebSocketResponse()`` with aiohttp's default ``compress=True`` and
  sends through aiohttp's writer, so every connection gets its own zlib
  stream: about 25% more CPU per delivery in our pilot, hundreds of KiB of
  compressor per connection, and no frame can be shared between
  connections. Here the extension is negotiated (aiohttp answers the offer,
  and inflates what the client sends, within ``max_msg_size``), but nothing
  is sent through aiohttp's writer: every data frame is built here.
  ``deflated_frame`` compresses a large message once, with a fresh
  compressor: it refers to nothing sent before, so the same bytes are a
  valid message on every connection that negotiated the full window,
  whatever context takeover was agreed (RFC 7692 lets a sender forgo the
  window it was allowed). A burst's events batch, some 150 KB for a
  thousand requests, goes as about 14 KB. Messages under ``DEFLATE_MIN``
  (nearly all: a change's batch is a few hundred bytes) go uncompressed, as
  the extension allows message by message. The price is on the reading
  side: a browser compresses what it sends, so aiohttp keeps an inflater
  for each connection that has sent a message (its 32 KiB window filled as
  the client sends): 40 KiB per idle connection instead of 29 in
  ``bench_service``. ``WebSocketLinks.deflate`` (``vcc serve --no-deflate``)
  turns the extension off.
* **The transport is reachable.** Each open link is registered in a
  :class:`WebSocketLinks` by engine.io session id, with its asyncio transport,
  so :class:`vcc.gateway.fanout.Fanout` can write one pre-built frame to
  every connection without a task or a queue wake-up per client.
* **Commands are answered as they are read.** engineio dispatches every
  event in a task of its own; ``wait`` offers each binary frame to
  ``WebSocketLinks.claim`` first, which answers commands and pings on the
  spot (:mod:`vcc.gateway.command_path`).
* **Read and pinged without a task per packet.** For a connection opened as a
  websocket, engineio's handler reads every packet in a task of its own under
  ``wait_for``, and pings it from a task of its own that sleeps a ping
  interval, re-created at every pong; its writer wakes for each ping. Here
  :meth:`WebSocketLink._serve` takes that handler's place: one read loop, no
  task and no ``wait_for`` per packet, and engineio's writer without its idle
  timeout. The heartbeat is one timer of the registry, run as engineio's
  service task (:meth:`WebSocketLinks._service`), which it replaces. The links
  are dealt into ``HEARTBEAT_SLICES`` slices; each tick (``_tick``, a slice's
  share of the interval) writes a ping straight to the transport of each link
  of its slice, and ``ping_timeout`` later closes those whose ping is still
  unanswered, with engineio's reason; the read loop takes the pongs. A slice's
  pongs come back together and are read in a few turns of the loop, and no
  tick holds the loop for every link at once. engineio's own service task woke
  the loop ``sessions / ping_timeout`` times a second, each time in a
  ``wait_for``: with it gone, an idle server with 1,000 connections spends a
  few milliseconds of CPU a second instead of 35 (``bench/README.md``, "The
  heartbeat"). The bookkeeping stays engineio's (``socket.last_ping``), so a
  ping engineio still sends (the one it arms at the handshake) is answered and
  timed out the same way. A connection that upgrades from long-polling keeps
  engineio's handler and pings; once an interval the heartbeat does for it,
  and for long-polling sessions, what engineio's service task did: close it
  when its ping goes unanswered, forget it once closed.
* **``send`` never suspends.** It builds the frame and writes it to the
  transport synchronously, like every other writer of this connection (the
  fan-out, aiohttp's own pong and close frames): every frame reaches the
  transport whole, and a batch the engineio writer took from the queue is
  written in one go, with no await between its packets. That is what lets the
  fan-out decide, by looking at the queue alone, whether a direct write would
  overtake anything (see ``fanout.py``). The price is that this path does not
  wait for the peer to drain; the per-connection bound is enforced by the
  fan-out against the whole unsent backlog of the connection, whichever path
  wrote it.

Why the driver is swapped this way: engineio picks its driver by importing
``engineio.async_drivers.<async_mode>``, so a custom ``async_mode`` would mean
injecting a module into engineio's package (a process-wide patch), and a
``socketio.AsyncServer`` subclass would force every caller to build our class
and still end up setting the same table. :func:`install` instead replaces one
entry in *this* server's driver table, on a copy (the table engineio holds is
the driver module's own dict, shared by every server in the process), so other
servers, including test clients in the same process, are untouched.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import logging
import struct
import time
import zlib
from collections.abc import Callable, Mapping
from typing import Any

import socketio
from aiohttp import web
from engineio import packet as eio_packet
from engineio.async_socket import AsyncSocket
from engineio.exceptions import SocketIsClosedError, UnknownPacketError

log = logging.getLogger(__name__)

_OP_TEXT = 0x81  # FIN + text opcode
_OP_BINARY = 0x82  # FIN + binary opcode
_RSV1 = 0x40  # permessage-deflate: this message is compressed
_LEN16 = struct.Struct("!BBH").pack
_LEN64 = struct.Struct("!BBQ").pack


def ws_frame(message: bytes | str) -> bytes:
    """Encode one unmasked, uncompressed server-to-client websocket frame.

    ``bytes`` become a binary frame (an engine.io binary MESSAGE packet, which
    is what a msgpack socket.io packet is), ``str`` a text frame. The result
    can be written as is to any number of connections: with permessage-deflate
    negotiated or not, a message may always go uncompressed.
    """
    if isinstance(message, str):
        payload = message.encode("utf-8")
        first = _OP_TEXT
    else:
        payload = bytes(message)
        first = _OP_BINARY
    return _framed(first, payload)


#: Messages shorter than this go uncompressed: a change's batch of a few hundred bytes
#: shrinks by a fifth, not worth a second frame for every broadcast.
DEFLATE_MIN = 2048
#: zlib's fastest level: a burst's 145 KB batch to 14 KB in 0.3 ms (level 6: 13 KB in 1.2 ms).
DEFLATE_LEVEL = 1
#: The empty stored block that ends a sync flush, left off the wire (RFC 7692, 7.2.1).
_FLUSH_TAIL = b"\x00\x00\xff\xff"


def deflated_frame(message: bytes) -> bytes | None:
    """The binary frame of ``message`` compressed with permessage-deflate, for any
    number of connections whose link has ``deflate`` set; None when the message is
    shorter than ``DEFLATE_MIN`` or does not shrink.

    A fresh compressor each time: the frame refers to nothing sent before, so it is
    valid on every such connection, between any other frames (module doc).
    """
    if len(message) < DEFLATE_MIN:
        return None
    compressor = zlib.compressobj(DEFLATE_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    # A sync flush always ends with the empty block's 00 00 ff ff.
    body = (compressor.compress(message) + compressor.flush(zlib.Z_SYNC_FLUSH))[: -len(_FLUSH_TAIL)]
    if len(body) >= len(message):
        return None
    return _framed(_OP_BINARY | _RSV1, body)


def _framed(first: int, payload: bytes) -> bytes:
    size = len(payload)
    if size < 126:
        header = bytes((first, size))
    elif size < 65536:
        header = _LEN16(first, 126, size)
    else:
        header = _LEN64(first, 127, size)
    return header + payload


class WebSocketLinks:
    """The open websocket links of one engineio server, by engine.io session id.

    A link is registered once its websocket handshake is done and removed when
    engineio's handler for it returns. During a polling-to-websocket upgrade
    the link exists before the engine.io socket is ``upgraded``; callers must
    check ``socket.upgraded`` before writing to it.
    """

    #: The heartbeat pings one slice of the links at each tick, each link once an
    #: interval: the pongs of a slice come back together, and no tick holds the event
    #: loop for long (one round for every link held it for tens of milliseconds at
    #: 2,000 connections, pings and then pongs, and showed in the broadcasts' p99).
    HEARTBEAT_SLICES = 10

    def __init__(self, eio: Any) -> None:
        #: The engineio ``AsyncServer``, whose sessions the heartbeat (``_service``) watches.
        self._eio = eio
        self.ping_interval: float = eio.ping_interval
        self.ping_timeout: float = eio.ping_timeout
        self._heartbeat: asyncio.TimerHandle | None = None
        self._expiries: list[asyncio.TimerHandle | None] = [None] * self.HEARTBEAT_SLICES
        self._closing: set[asyncio.Task[None]] = set()
        self._by_eio_sid: dict[str, WebSocketLink] = {}
        self._slices: list[dict[str, WebSocketLink]] = [{} for _ in range(self.HEARTBEAT_SLICES)]
        self._next_slice = 0  # the slice of the next link registered
        self._turn = 0  # the slice the next tick pings
        #: Told ``(eio_sid, detail)`` of each text frame that is not an engine.io packet
        #: (engineio would raise on it outside any handler); the frame is skipped.
        self.on_malformed: Callable[[str, str], None] | None = None
        #: Offered each binary frame of an upgraded connection before engineio
        #: sees it; True: it was answered, engineio never sees it (see ``wait``).
        self.claim: Callable[[WebSocketLink, bytes], bool] | None = None
        #: Read-only view for hot loops (a dict ``get`` without a method hop).
        self.by_eio_sid: Mapping[str, WebSocketLink] = self._by_eio_sid
        #: Whether links opened from now on negotiate permessage-deflate with clients that offer it.
        self.deflate = True

    def __len__(self) -> int:
        return len(self._by_eio_sid)

    def get(self, eio_sid: str) -> WebSocketLink | None:
        return self._by_eio_sid.get(eio_sid)

    def _add(self, link: WebSocketLink) -> None:
        self._by_eio_sid[link.eio_sid] = link
        link.last_heard = time.time()
        if link.own_handler:  # the others keep engineio's pings
            link.slice, self._next_slice = self._next_slice, (self._next_slice + 1) % self.HEARTBEAT_SLICES
            self._slices[link.slice][link.eio_sid] = link

    def _discard(self, link: WebSocketLink) -> None:
        # A failed upgrade attempt may be followed by another one for the same
        # session: only remove the entry if it is still this link.
        if self._by_eio_sid.get(link.eio_sid) is link:
            del self._by_eio_sid[link.eio_sid]
            self._slices[link.slice].pop(link.eio_sid, None)

    async def _service(self) -> None:
        """engineio's service task, replaced (see ``install``): the heartbeat's ticks,
        from the first connection until engineio's ``shutdown`` sets its event.

        engineio's own task visits one session every ``ping_timeout / sessions``
        seconds, each visit a ``wait_for``: at 1,000 connections it woke the event
        loop a hundred times a second. The heartbeat wakes it at each tick, and for
        the tick's pongs.
        """
        eio = self._eio
        eio.service_task_event = stopped = eio.create_event()
        self._heartbeat = asyncio.get_running_loop().call_later(self.ping_interval / self.HEARTBEAT_SLICES, self._tick)
        try:
            await stopped.wait()
        finally:
            for timer in (self._heartbeat, *self._expiries):
                if timer is not None:
                    timer.cancel()

    def _tick(self) -> None:
        """Ping the links of our own in this tick's slice; ``ping_timeout`` later,
        ``_expire`` closes those that did not answer. Once an interval, the sessions
        engineio pings itself get what its service task gave them (``_check``)."""
        now = time.time()
        turn = self._turn
        self._turn = (turn + 1) % self.HEARTBEAT_SLICES
        for link in tuple(self._slices[turn].values()):
            link.beat(now)
        if turn == 0:
            links = self._by_eio_sid
            for sid, sock in tuple(self._eio.sockets.items()):
                link = links.get(sid)
                if link is None or not link.own_handler:
                    self._check(sid, sock, now)
        loop = asyncio.get_running_loop()
        self._heartbeat = loop.call_later(self.ping_interval / self.HEARTBEAT_SLICES, self._tick)
        self._expiries[turn] = loop.call_later(self.ping_timeout, self._expire, turn, now)

    def _expire(self, turn: int, pinged_at: float) -> None:
        for link in tuple(self._slices[turn].values()):
            link.expire(pinged_at)

    def _check(self, sid: str, sock: AsyncSocket, now: float) -> None:
        """engineio's service task's visit to a session it pings itself (long-polling,
        or upgraded from it): forget it once closed; close it if its ping went
        unanswered for ``ping_timeout`` (``AsyncSocket.check_ping_timeout``)."""
        if sock.closed:
            if self._eio.sockets.get(sid) is sock:
                del self._eio.sockets[sid]
        elif not sock.closing and sock.last_ping and now - sock.last_ping > self.ping_timeout:
            close = asyncio.ensure_future(sock.close(wait=False, abort=False, reason=self._eio.reason.PING_TIMEOUT))
            self._closing.add(close)
            close.add_done_callback(self._closing.discard)


_PING_FRAME = ws_frame("2")  # engine.io's PING, as a text frame


class WebSocketLink:
    """engineio websocket driver object for aiohttp, deflating once per message, with its transport exposed.

    Implements the interface engineio's ``AsyncSocket._websocket_handler``
    expects from a driver (see ``engineio/async_drivers/aiohttp.py``).
    Attributes valid once the link is registered: ``eio_sid``, ``socket`` (the
    engineio ``AsyncSocket``), ``ws`` (the aiohttp ``WebSocketResponse``) and
    ``transport`` (its asyncio transport).
    """

    __slots__ = (
        "__weakref__",
        "behind",
        "deflate",
        "eio_sid",
        "environ",
        "handler",
        "last_heard",
        "links",
        "own_handler",
        "server",
        "slice",
        "socket",
        "timed_out",
        "trailing",
        "transport",
        "ws",
    )

    def __init__(self, handler: Callable[[WebSocketLink], Any], server: Any, *, links: WebSocketLinks) -> None:
        self.handler = handler
        self.server = server
        self.links = links
        self.environ: dict[str, Any] | None = None
        self.ws: web.WebSocketResponse | None = None
        self.transport: asyncio.Transport | None = None
        #: Served by ``_serve`` and pinged by the registry's heartbeat (opened as a
        #: websocket), not by engineio's handler (upgraded from long-polling).
        self.own_handler = False
        #: When the link was registered or last answered a ping (``time.time()``).
        self.last_heard = 0.0
        #: Which of the heartbeat's slices it is pinged with, set on registration (own handler only).
        self.slice = 0
        #: engineio's close of this connection after an unanswered ping, once started.
        self.timed_out: asyncio.Task[None] | None = None
        #: Frames that go right after the next frame written (``follow``).
        self.trailing = b""
        #: Frames of broadcasts whose slice has not reached this link yet (``Fanout.send``):
        #: they go before any other frame written to it.
        self.behind = b""
        #: permessage-deflate negotiated with the full window: ``deflated_frame``'s frames may be written to it.
        self.deflate = False
        # engineio passes its socket's bound ``_websocket_handler``; the socket
        # is the only way to learn the session id of a fresh websocket
        # connection (it is generated server-side, not in the query string).
        sock = getattr(handler, "__self__", None)
        if not isinstance(sock, AsyncSocket):
            raise TypeError("engineio did not pass an AsyncSocket's bound handler; unsupported engineio version")
        self.socket: AsyncSocket = sock
        self.eio_sid: str = sock.sid

    async def __call__(self, environ: dict[str, Any]) -> web.WebSocketResponse:
        request: web.Request = environ["aiohttp.request"]
        self.environ = environ
        ws = web.WebSocketResponse(compress=self.links.deflate, max_msg_size=self.server.max_http_buffer_size)
        await ws.prepare(request)
        self.ws = ws
        # A client may ask for a smaller window (server_max_window_bits): it gets every frame uncompressed.
        self.deflate = ws.compress == zlib.MAX_WBITS
        transport = request.transport
        if transport is None:
            # The peer went away during the handshake; the handler will see
            # the closed connection at its first read and clean up.
            await self.handler(self)
            return ws
        self.transport = transport  # type: ignore[assignment]
        self.own_handler = not self.socket.connected  # connected already: an upgrade from long-polling
        self.links._add(self)
        try:
            await (self._serve() if self.own_handler else self.handler(self))
        finally:
            self.links._discard(self)
        return ws

    async def _serve(self) -> None:
        """engineio's ``AsyncSocket._websocket_handler`` for a connection opened as a
        websocket, without a task and a ``wait_for`` per packet read: a dead peer
        is found by the heartbeat (``beat``), not by a read that times out."""
        sock = self.socket
        sock.connected = True
        sock.upgraded = True
        writer = asyncio.ensure_future(self._write_queued())
        try:
            while True:
                try:
                    data = await self.wait()
                except OSError:
                    break
                try:
                    await sock.receive(eio_packet.Packet(encoded_packet=data))
                except UnknownPacketError:
                    continue
                except SocketIsClosedError:
                    break
                except Exception:
                    log.exception("%s: engineio could not take a packet", self.eio_sid)
        finally:
            sock.queue.put_nowait(None)  # the writer sends what is queued, then stops
            try:
                await asyncio.wait([writer])
            finally:
                # Even when aiohttp cancels this handler for a connection it lost
                # meanwhile: the socket is closed and socket.io told.
                await sock.close(wait=False, abort=True, reason=self.server.reason.TRANSPORT_CLOSE)
            if not writer.cancelled() and writer.exception() is not None:
                log.info("%s: the websocket did not close cleanly: %r", self.eio_sid, writer.exception())

    async def _write_queued(self) -> None:
        """engineio's writer: each packet from the socket's queue, marked done as it
        is taken (the fan-out relies on it); ``None`` ends it. ``queue.get`` does not
        suspend while packets wait, so those queued together are written in one go.
        Unlike engineio's, it has no idle timeout, which there stood in for a
        heartbeat that went through the queue."""
        queue = self.socket.queue
        while True:
            packet = await queue.get()
            queue.task_done()
            if packet is None:
                break
            try:
                await self.send(packet.encode())
            except ConnectionResetError:
                break
        if self.writable:  # not closed by the peer or gone already
            await self.ws.close()  # type: ignore[union-attr]

    @property
    def writable(self) -> bool:
        """True while frames may be written (no close frame sent, transport open)."""
        ws, transport = self.ws, self.transport
        return ws is not None and transport is not None and not ws.closed and not transport.is_closing()

    def write_frame(self, frame: bytes) -> None:
        """Write one complete, pre-encoded frame, after what is ``behind`` and before what
        ``follow`` holds, in one write; raise ``ConnectionResetError`` if closed."""
        if not self.writable:
            raise ConnectionResetError("websocket is closing")
        if self.behind:
            frame, self.behind = self.behind + frame, b""
        if self.trailing:
            frame, self.trailing = frame + self.trailing, b""
        self.transport.write(frame)  # type: ignore[union-attr]

    def follow(self, frame: bytes) -> None:
        """Write ``frame`` right after the next frame written to this link during this
        turn of the event loop, in the same write (one system call, one wake-up of the
        client), or alone at the next turn. For an ack: the events batch of its
        command is written next, and the client gets both together."""
        if not self.trailing:
            asyncio.get_running_loop().call_soon(self._release)
        self.trailing += frame

    def _release(self) -> None:
        if self.trailing and self.writable:
            self.write_frame(b"")
        self.trailing = b""

    def beat(self, now: float) -> None:
        """The heartbeat tick's visit to a link of its own: ping it, unless a ping is
        still unanswered (``expire`` judges that one). A link whose engineio socket is
        closed and whose peer has not closed the websocket for an interval and a
        timeout since it was last heard from is cut.

        ``socket.last_ping`` means what it means to engineio: when the unanswered
        ping was sent, or ``None``.
        """
        sock = self.socket
        if self.timed_out is not None or not self.writable:
            return
        if sock.closing or sock.closed:
            if now - self.last_heard > self.links.ping_interval + self.links.ping_timeout:
                self.transport.abort()  # type: ignore[union-attr]
            return
        if sock.last_ping:
            return
        sock.last_ping = now
        self.transport.write(_PING_FRAME)  # type: ignore[union-attr]

    def expire(self, pinged_at: float) -> None:
        """Close the link if a ping sent at ``pinged_at`` or before is still unanswered:
        engineio's ``check_ping_timeout``, without a CLOSE packet for a peer that stopped
        answering; the aborted transport ends ``_serve``."""
        sock = self.socket
        if self.timed_out is not None or not self.writable or sock.closing or sock.closed:
            return
        if sock.last_ping and sock.last_ping <= pinged_at:
            self.timed_out = asyncio.ensure_future(sock.close(wait=False, abort=True, reason=self.server.reason.PING_TIMEOUT))
            self.transport.abort()  # type: ignore[union-attr]

    async def send(self, message: bytes | str) -> None:
        """Called by engineio's writer task; writes synchronously and never suspends (see module doc)."""
        self.write_frame(ws_frame(message))

    async def wait(self) -> bytes | str:
        """Return the next engine.io packet; raise ``OSError`` once the websocket is closed.

        ``_serve`` calls it in a loop; engineio's handler (a link upgraded from
        long-polling) in a fresh task under ``wait_for`` for every packet. A
        binary frame that ``links.claim`` answers is not returned: the loop goes
        on reading within the same call, so a command costs no task and no
        ``wait_for``. Nor is a pong on a link of our own: it answers the
        heartbeat's ping (``beat``). Everything else (text frames: engine.io's
        closes and upgrades, a pong to engineio's heartbeat; the events the
        claim leaves) is returned. Under engineio's handler, the client's pongs
        come back every ping interval, well within its timeout on this call.
        """
        while True:
            msg = await self.ws.receive()  # type: ignore[union-attr]
            data = msg.data
            if isinstance(data, bytes):
                claim = self.links.claim
                if claim is not None and self.socket.upgraded and claim(self, data):
                    continue
                return data
            if not isinstance(data, str):
                raise OSError("websocket closed")
            if data == "3" and self.own_handler:  # a pong, as engineio's receive takes it, less its re-armed ping task
                self.socket.last_ping = None
                self.last_heard = time.time()
                continue
            if _is_engineio_text(data):
                return data
            if self.links.on_malformed is not None:
                self.links.on_malformed(self.eio_sid, f"text frame {data[:40]!r} is not an engine.io packet")

    async def close(self) -> None:
        await self.ws.close()  # type: ignore[union-attr]


def _is_engineio_text(data: str) -> bool:
    """Whether engineio can decode a text frame: a packet type digit, or ``b`` and base64."""
    if not data:
        return False
    if data[0] == "b":
        try:
            base64.b64decode(data[1:], validate=True)
        except binascii.Error:
            return False
        return True
    return data[0] in "0123456"


def install(sio: socketio.AsyncServer) -> WebSocketLinks:
    """Make ``sio`` open its websockets with :class:`WebSocketLink`; return the link registry.

    Idempotent: a second call for the same server returns the same registry.
    Connections opened before the call keep the stock driver and simply have
    no link (the fan-out serves them through engineio's queue), and engineio's
    service task, if it started already, stays. Only ``async_mode='aiohttp'``
    is supported.
    """
    eio = sio.eio
    if eio.async_mode != "aiohttp":
        raise ValueError(f"the fan-out needs async_mode='aiohttp', this server uses {eio.async_mode!r}")
    current = eio._async["websocket"]
    if isinstance(current, functools.partial) and current.func is WebSocketLink:
        links: WebSocketLinks = current.keywords["links"]
        return links
    links = WebSocketLinks(eio)
    eio._async = {**eio._async, "websocket": functools.partial(WebSocketLink, links=links)}
    if eio.service_task_handle is None:
        # engineio starts its service task at the first connection; the links' heartbeat
        # takes its place, and must run even if the server was made with monitor_clients=False.
        eio._service_task = links._service
        eio.start_service_task = True
    return links
