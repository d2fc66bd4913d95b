"""Broadcast of socket.io events to groups of clients: one encoding, one frame, no task per client.

Theory of operation
-------------------
python-socketio's ``emit(room=...)`` encodes the packet once, then creates an
asyncio Task per recipient, each of which puts the packet on that client's
unbounded engineio queue, whose writer task wakes up (through ``wait_for``)
and sends it. That is ~130 us of CPU per delivered message. :class:`Fanout`
keeps the socket.io wire format (msgpack serializer, namespace ``/``) but
encodes the EVENT packet once into a finished websocket frame and writes that
frame to each websocket member's transport in a plain loop
(:mod:`vcc.gateway.transport` gives us the transports). A large message is
also compressed once, for the members that negotiated permessage-deflate
(``WebSocketLink.deflate``): the same deflated frame goes to all of them.

Each delivery takes one of two paths:

* **direct**: the member's engine.io socket is ``upgraded`` to websocket, has
  a link, and its engineio queue holds nothing that is not yet written. The
  frame goes straight to the transport.
* **queued**: anything else (long-polling clients, a socket mid-upgrade, a
  websocket whose engineio queue still holds packets, e.g. an ``emit(to=sid)``
  or ack the writer task has not sent yet). A fresh engine.io MESSAGE packet
  is put on the socket's own queue, which engineio sends in order, exactly as
  ``sio.emit`` would. Polling clients are few (the firewall fallback), so
  their cost does not matter; what matters is that they are correct.

Ordering guarantee
------------------
Per client connection, messages arrive in the order in which they were handed
over on this event loop: a :meth:`Fanout.send` / :meth:`Fanout.send_to`
counts as handed over when the call is made, a packet sent through engineio's
queue (``await sio.emit(..., to=sid)``, the ack of an event handler, the
socket.io CONNECT packet) when it is put on the queue, i.e. by the time the
awaited ``emit`` returns, or when the handler returns its ack value. So a
handler that does ``await sio.emit(to=sid)``, then ``fanout.send(...)``, then
returns an ack, is seen by its client in exactly that order. One exception, on
purpose: an ack sent with ``send_encoded_to(..., follow=True)`` (a command's,
given by the runtime as its events are applied) waits for the next message its
client is sent in the same turn of the loop, the events batch of that command,
and goes right after it in the same write (``WebSocketLink.follow``).

A send to many websocket members is written over several turns of the loop,
``slice_size`` members a turn, so that the loop reads and answers commands
between the slices. That does not change the order: until its slice comes, the
frame waits on the member's link (``WebSocketLink.behind``), and any frame
written to that link meanwhile, by a later send, a ``send_to``, engineio's
writer or an ack, is written after it, in the same write.

Why that holds: a direct write is only done when the socket's queue has no
*unfinished* item (``asyncio.Queue._unfinished_tasks``, the count of items
put and not yet marked done; the queue offers no public reading of it).
engineio's websocket writer marks items done right after it takes them and
then writes them all without suspending (``WebSocketLink.send`` never
awaits), so "no unfinished item" means nothing handed over earlier is still
waiting; otherwise the packet is queued behind the earlier ones. ``qsize()``
alone is not enough on Python 3.11: ``asyncio.wait_for`` runs
``queue.get()`` in a task of its own there, so an item can have left the
queue while the writer has not yet woken up to write it.

Events sent while the connect handler is still running reach the client
before its socket.io CONNECT packet, as with ``sio.emit``; the JS client
buffers them until it is connected and python-socketio's client dispatches
them at once.

Bounds and slow clients
-----------------------
Before each delivery, a connection's unsent backlog (its transport's write
buffer, plus, on the queued path, the payloads waiting in its engineio
queue, whoever put them there) is compared to ``max_pending_bytes``. Above
it, the client is dropped instead of being buffered for without limit: a
websocket's transport is aborted (engineio then runs the usual disconnect),
a polling session is closed, and ``on_drop(sid)`` is called once, after the
loop. The client is expected to reconnect and resync from its last sequence
number. A drop costs the other members nothing. Traffic that only goes
through engineio (``emit(to=sid)``, acks) is not checked when it is sent,
but it counts towards the backlog the next delivery sees. The check happens
before writing, so one message larger than the bound is still delivered;
``max_pending_bytes`` must be comfortably larger than the largest single
message (e.g. a snapshot).

Private interfaces
------------------
The public interfaces of python-socketio and engine.io offer no way to write
to a connection without a task and a queue per message, so the gateway relies
on these internals, pinned to the tested minor versions in pyproject.toml and
checked by ``tests/gateway/test_engine_contract.py``:

* ``eio._async['websocket']``, the driver engineio opens a websocket with,
  called with the ``AsyncSocket``'s bound ``_websocket_handler``
  (:func:`vcc.gateway.transport.install`);
* ``eio.sockets`` by engine.io session id, and an ``AsyncSocket``'s ``queue``,
  ``upgraded`` and ``closing``;
* ``asyncio.Queue._unfinished_tasks`` and ``_queue`` of that queue, whose
  writer calls ``task_done`` as it takes a packet (the ordering guarantee
  above, and the backlog bound below);
* ``AsyncServer._handle_connect``, ``_handle_disconnect``, ``_handle_event``
  and ``_send_packet``, to which :mod:`vcc.gateway.inbound` hands the packets
  it has screened;
* an ``AsyncSocket``'s ``last_ping`` (set when a ping is sent, cleared by its
  pong) and ``schedule_ping``, which re-arms engineio's own ping task only
  while ``last_ping`` is set: the heartbeat of :mod:`vcc.gateway.transport`
  (``tests/gateway/test_heartbeat.py``);
* the server's ``_service_task``, which ``_handle_connect`` starts at the first
  connection while ``start_service_task`` is set (``service_task_handle``
  holds it) and ``shutdown`` stops by setting ``service_task_event``: the
  heartbeat runs in its place and closes and forgets long-polling sessions
  as it did (``test_heartbeat``).

Everything here must be called from the event loop's thread.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import chain
from typing import Any

import socketio
from engineio import packet as eio_packet
from engineio.async_socket import AsyncSocket
from socketio import packet as sio_packet
from socketio.msgpack_packet import MsgPackPacket

from vcc.gateway.transport import DEFLATE_MIN, WebSocketLink, deflated_frame, install, ws_frame

logger = logging.getLogger(__name__)

NAMESPACE = "/"


@dataclass(frozen=True, slots=True)
class FanoutStats:
    """Deliveries since the Fanout was created, by path, and drops."""

    direct: int
    queued: int
    dropped: int


class _Member:
    """One connected client as the fan-out tracks it (shared by all its groups)."""

    __slots__ = ("__weakref__", "dropped", "eio_sid", "groups", "sid", "socket")

    def __init__(self, sid: str, eio_sid: str, socket: AsyncSocket) -> None:
        self.sid = sid
        self.eio_sid = eio_sid
        self.socket = socket
        self.groups: set[str] = set()
        self.dropped = False


class Fanout:
    """Delivers socket.io events to groups of connected clients of one AsyncServer.

    :param sio: a ``socketio.AsyncServer`` with ``async_mode='aiohttp'`` and
        ``serializer='msgpack'``. Creating the Fanout installs the websocket
        driver of :mod:`vcc.gateway.transport` on it (permessage-deflate once per message);
        create it before the server accepts connections, or earlier
        websocket connections are served through engineio's queue.
    :param max_pending_bytes: the most unsent data a connection may hold
        before the next delivery; beyond it the client is dropped.
    :param on_drop: called with the socket.io sid of each dropped client,
        once, after the delivery that dropped it. Exceptions it raises are
        logged and do not affect delivery.
    :param slice_size: the most websocket connections one ``send`` writes to
        in one turn of the event loop (see :meth:`send`).
    :param deflate: negotiate permessage-deflate with the clients that offer it
        (see :mod:`vcc.gateway.transport`); False: never.

    Membership is by socket.io sid in namespace ``/``. Call ``leave(sid)``
    from the disconnect handler, and if a connect handler joins a client and
    then refuses the connection (no disconnect event follows a refusal).
    Ordering and bounds: see the module docstring.
    """

    def __init__(
        self,
        sio: socketio.AsyncServer,
        *,
        max_pending_bytes: int = 1 << 20,
        on_drop: Callable[[str], None] | None = None,
        slice_size: int = 128,
        deflate: bool = True,
    ) -> None:
        if not (isinstance(sio.packet_class, type) and issubclass(sio.packet_class, MsgPackPacket)):
            raise TypeError("the fan-out writes msgpack frames: create the server with serializer='msgpack'")
        if max_pending_bytes <= 0:
            raise ValueError("max_pending_bytes must be positive")
        if slice_size <= 0:
            raise ValueError("slice_size must be positive")
        self._slice_size = slice_size
        self._sio = sio
        self._links = install(sio)
        self._links.deflate = deflate
        self._limit = max_pending_bytes
        self._on_drop = on_drop
        self._groups: dict[str, dict[str, _Member]] = {}
        self._members: dict[str, _Member] = {}
        self._closing: set[asyncio.Task[None]] = set()
        #: The last payload ``send_encoded_to`` deflated, and its frame.
        self._last_deflated: tuple[bytes, bytes] | None = None
        # Sessions dropped but not yet gone, so that a client reached by sid
        # (send_to of a non-member, join) is not dropped, or reported, twice.
        self._dropped_sockets: weakref.WeakSet[AsyncSocket] = weakref.WeakSet()
        self._direct = 0
        self._queued = 0
        self._dropped = 0

    # -- membership ---------------------------------------------------------

    def join(self, sid: str, group: str) -> None:
        """Add a connected client to ``group`` (idempotent). ``KeyError`` if ``sid`` is unknown."""
        member = self._members.get(sid)
        if member is None:
            member = self._resolve(sid)
            if member is None:
                raise KeyError(f"socket.io sid {sid!r} is not connected to namespace {NAMESPACE!r}")
            self._members[sid] = member
        member.groups.add(group)
        self._groups.setdefault(group, {})[sid] = member

    def leave(self, sid: str, group: str | None = None) -> None:
        """Remove a client from ``group``, or from every group if ``group`` is None. Unknown: no-op."""
        member = self._members.get(sid)
        if member is None:
            return
        for name in tuple(member.groups) if group is None else (group,):
            if name not in member.groups:
                continue
            member.groups.discard(name)
            others = self._groups[name]
            del others[sid]
            if not others:
                del self._groups[name]
        if not member.groups:
            del self._members[sid]

    def members(self, group: str) -> int:
        """Number of clients in ``group`` on this process."""
        return len(self._groups.get(group, ()))

    @property
    def stats(self) -> FanoutStats:
        return FanoutStats(self._direct, self._queued, self._dropped)

    # -- delivery -----------------------------------------------------------

    def send(self, group: str, event: str, data: Any, first: Iterable[str] = (), done: Callable[[float], None] | None = None) -> int:
        """Deliver ``event`` with ``data`` to every member of ``group``; return the number of recipients.

        ``data`` follows ``sio.emit``: a tuple is sent as several arguments,
        ``None`` as none, anything else as one. The packet is encoded once;
        websocket members get the same frame written to their transport,
        others get it through engineio's queue. Members whose engine.io
        session is closing, or that were dropped, are skipped and not counted;
        a websocket closed since is skipped when its slice comes.

        Not a coroutine. The first ``slice_size`` websocket members are written
        to before it returns, the others ``slice_size`` at each following turn
        of the event loop, so that a broadcast to thousands (a frame to each,
        tens of milliseconds) lets the loop read and answer between its slices.
        Until its slice comes, the frame waits on the member's link
        (``WebSocketLink.behind``), and anything written to that client
        meanwhile goes after it: the order is that of the calls (module doc).
        ``done(seconds)``, if given, is called once the last slice is written,
        with the time all the slices took.

        ``first``: groups whose members (those also in ``group``) are written
        to before the others: with thousands of members the last one gets a
        frame tens of milliseconds after the first, so the clients a message
        concerns most (the speaker given the floor) should not wait behind the
        rest.
        """
        started = time.perf_counter()
        direct: list[tuple[_Member, WebSocketLink]] = []
        try:
            return self._send(group, event, data, first, direct)
        finally:
            # The slices: also after an exception, so that ``done`` is called whatever happens.
            self._write_slice(direct, 0, time.perf_counter() - started, done)

    def _send(self, group: str, event: str, data: Any, first: Iterable[str], direct: list[tuple[_Member, WebSocketLink]]) -> int:
        """:meth:`send`'s first pass: queue the deliveries of members not on the direct path;
        put the frame ``behind`` on the links of the others, listed in ``direct``."""
        members = self._groups.get(group)
        if not members:
            return 0
        ahead = {sid: m for name in first for sid, m in self._groups.get(name, {}).items() if sid in members}
        if ahead:
            order: Iterable[_Member] = chain(ahead.values(), (m for sid, m in members.items() if sid not in ahead))
        else:
            order = members.values()
        payload = self._encode(event, data)
        frame = ws_frame(payload)
        # For the members that negotiated deflate, made for the first of them (None: not worth it).
        deflated: bytes | None = None
        deflating = len(payload) >= DEFLATE_MIN
        links_get = self._links.by_eio_sid.get
        queued = 0
        dropped: list[_Member] = []
        for member in order:
            if member.dropped:
                continue
            sock = member.socket
            link = links_get(member.eio_sid)
            if link is not None and sock.upgraded and not sock.closing and not sock.queue._unfinished_tasks:
                if deflating and link.deflate:
                    if deflated is None:
                        deflated = deflated_frame(payload) or frame
                    link.behind += deflated  # a closed transport is skipped in its slice
                else:
                    link.behind += frame
                direct.append((member, link))
            elif self._enqueue(member, link, payload):
                queued += 1
            elif member.dropped:
                dropped.append(member)
        self._queued += queued
        self._report_drops(dropped)
        return len(direct) + queued

    def _write_slice(
        self, direct: list[tuple[_Member, WebSocketLink]], start: int, took: float, done: Callable[[float], None] | None
    ) -> None:
        """Write what is ``behind`` on the links ``direct[start:]``, ``slice_size`` of them,
        then leave the event loop a turn before the next slice; ``done(took)`` after the last,
        with the seconds all the slices took."""
        started = time.perf_counter()
        end = min(start + self._slice_size, len(direct))
        limit = self._limit
        written = 0
        dropped: list[_Member] = []
        try:
            for index in range(start, end):
                member, link = direct[index]
                frame = link.behind
                if not frame:  # written already, ahead of a later message to the same client
                    continue
                transport = link.transport
                if member.dropped or transport.is_closing() or link.ws.closed:  # type: ignore[union-attr]
                    continue
                if transport.get_write_buffer_size() > limit:  # type: ignore[union-attr]
                    self._drop(member, link)
                    dropped.append(member)
                    continue
                if link.trailing:
                    link.write_frame(b"")  # what is behind, then the ack that follows it
                else:
                    link.behind = b""
                    transport.write(frame)  # type: ignore[union-attr]
                written += 1
        finally:
            self._direct += written
            took += time.perf_counter() - started
            if end < len(direct):
                asyncio.get_running_loop().call_soon(self._write_slice, direct, end, took, done)
            elif done is not None:
                done(took)
        self._report_drops(dropped)

    def send_to(self, sid: str, event: str, data: Any) -> None:
        """Deliver one event to one client, in order with everything else it is sent.

        Same paths, bound and ordering as :meth:`send`; the client need not be
        in any group. Unknown or closing ``sid``: nothing is sent.
        """
        self.send_encoded_to(sid, self.encode(event, data))

    def encode(self, event: str, data: Any) -> bytes:
        """The socket.io EVENT packet of ``event`` with ``data``, for :meth:`send_encoded_to`:
        a message many clients get one by one (a snapshot when thousands rejoin) is encoded once."""
        return self._encode(event, data)

    def send_encoded_to(self, sid: str, payload: bytes, *, follow: bool = False) -> None:
        """:meth:`send_to` with a packet made by :meth:`encode`. ``follow``: on the direct
        path, held to go right after the next message this client is sent during this
        turn of the loop, in the same write, or alone at the next turn
        (``WebSocketLink.follow``)."""
        member = self._members.get(sid) or self._resolve(sid)
        if member is None or member.dropped:
            return
        sock = member.socket
        link = self._links.get(member.eio_sid)
        if link is not None and sock.upgraded and not sock.closing and not sock.queue._unfinished_tasks:
            if not link.writable:
                return
            if link.transport.get_write_buffer_size() > self._limit:  # type: ignore[union-attr]
                self._drop(member, link)
                self._report_drops([member])
                return
            frame = self._deflated_for(payload) if link.deflate else ws_frame(payload)
            if follow:
                link.follow(frame)
            else:
                link.write_frame(frame)
            self._direct += 1
        elif self._enqueue(member, link, payload):
            self._queued += 1
        elif member.dropped:
            self._report_drops([member])

    # -- internals ----------------------------------------------------------

    def _deflated_for(self, payload: bytes) -> bytes:
        """The frame of ``payload`` for a member that negotiated deflate. A large one is
        compressed once for as many calls in a row as pass the same payload (a snapshot
        sent to each of thousands rejoining); a small one (an ack) goes plain, and leaves
        the last large one's frame where it is."""
        if len(payload) < DEFLATE_MIN:
            return ws_frame(payload)
        last = self._last_deflated
        if last is None or last[0] is not payload:
            last = self._last_deflated = (payload, deflated_frame(payload) or ws_frame(payload))
        return last[1]

    def _resolve(self, sid: str) -> _Member | None:
        eio_sid = self._sio.manager.eio_sid_from_sid(sid, NAMESPACE)
        if eio_sid is None:
            return None
        sock = self._sio.eio.sockets.get(eio_sid)
        if sock is None or sock.closing or sock in self._dropped_sockets:
            return None
        return _Member(sid, eio_sid, sock)

    def _encode(self, event: str, data: Any) -> bytes:
        if isinstance(data, tuple):
            args = list(data)
        elif data is None:
            args = []
        else:
            args = [data]
        return self._sio.packet_class(sio_packet.EVENT, namespace=NAMESPACE, data=[event, *args]).encode()

    def _enqueue(self, member: _Member, link: WebSocketLink | None, payload: bytes) -> bool:
        """Queue one delivery on engineio's queue for ``member``; False if skipped or dropped."""
        sock = member.socket
        if sock.closing:
            return False
        queue = sock.queue
        backlog = _queued_bytes(queue)
        if link is not None and link.writable:
            backlog += link.transport.get_write_buffer_size()  # type: ignore[union-attr]
        if backlog > self._limit:
            self._drop(member, link)
            return False
        # A packet object per recipient: engine.io packets cache their first
        # encoding, raw bytes for a websocket and base64 text for polling, and
        # a queued packet may be sent by either transport if the client
        # upgrades meanwhile.
        queue.put_nowait(eio_packet.Packet(eio_packet.MESSAGE, data=payload))
        return True

    def _drop(self, member: _Member, link: WebSocketLink | None) -> None:
        member.dropped = True
        self._dropped += 1
        sock = member.socket
        self._dropped_sockets.add(sock)
        logger.info("dropping client %s: more than %d bytes pending", member.sid, self._limit)
        if link is not None and link.transport is not None:
            # Abort, not close: a close frame would wait behind the backlog.
            # On an upgraded socket engineio's websocket handler sees the
            # connection end and runs the disconnect as for any lost client.
            link.transport.abort()
        if link is None or not sock.upgraded:
            # Polling, mid-upgrade, or a websocket opened before the driver
            # was installed: close the engine.io session itself.
            task = asyncio.ensure_future(sock.close(wait=False, abort=False, reason=self._sio.eio.reason.SERVER_DISCONNECT))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    def _report_drops(self, dropped: list[_Member]) -> None:
        if self._on_drop is None:
            return
        for member in dropped:
            try:
                self._on_drop(member.sid)
            except Exception:
                logger.exception("on_drop callback failed for %s", member.sid)


def _queued_bytes(queue: asyncio.Queue[eio_packet.Packet | None]) -> int:
    """Payload bytes waiting in an engineio socket queue.

    Read from the queue's deque (``asyncio.Queue`` has no public view of its
    items): counting what we put is not enough, as nothing tells us when a
    poll takes it. O(length), paid only on the queued path, whose queues stay
    short unless the client is about to be dropped for them.
    """
    return sum(
        len(pkt.data)
        for pkt in queue._queue
        if pkt is not None and isinstance(pkt.data, (bytes, str))  # type: ignore[attr-defined]
    )
