"""Commands and pings from websocket clients, answered without a task per message.

Through python-socketio, one command costs an asyncio task and a ``wait_for``
in engineio to read it, a task in engineio and another in socket.io to
dispatch it, and a put on the socket's queue that wakes its writer task to send
the ack: about 1 ms of CPU, several times what deciding and storing the
command costs. :class:`CommandPath` is offered every binary frame of an
upgraded websocket first (``WebSocketLinks.claim``). A socket.io EVENT of a
connected client that names one of its handlers and asks for an ack is decoded
here, handed to the handler synchronously, and its answer, once there,
encoded once and written through the fan-out (straight to the transport, or
behind what the socket's queue still holds, so a connection's messages keep
their order). Everything else is left to engineio and :mod:`.inbound`: text
frames, other events, clients not connected to the namespace yet, packets that
do not decode (which ``inbound`` refuses and logs).

A handler takes ``(sid, data)`` and returns the answer, or a future of it; the
gateway's socket.io handlers for the same events call the same functions, so
the bounds (size, rate, validation before the core) are the same on both paths.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any

import msgpack
import socketio
from socketio import packet as sio_packet

from ..service import Ack, error
from .fanout import NAMESPACE, Fanout
from .transport import WebSocketLink, install

log = logging.getLogger(__name__)

#: An answerable event's handler: ``(sid, data)`` -> the answer, or the future of it.
Answer = Callable[[str, Any], "Ack | asyncio.Future[Ack]"]
#: The largest ack id socket.io clients use (a JavaScript safe integer).
MAX_ACK_ID = 2**53


class CommandPath:
    """Answers the ``handlers``' events on websocket connections of ``sio`` (see the module docstring)."""

    def __init__(self, sio: socketio.AsyncServer, fanout: Fanout, handlers: Mapping[str, Answer]) -> None:
        self._sio = sio
        self._fanout = fanout
        self._handlers = dict(handlers)
        self._manager = sio.manager
        #: Messages answered here since the start (the rest went through socket.io's dispatch).
        self.answered = 0
        install(sio).claim = self.claim

    def claim(self, link: WebSocketLink, data: bytes) -> bool:
        """Answer ``data`` if it is one of the handlers' events; False leaves it to engineio."""
        try:
            packet = msgpack.unpackb(data)
        except Exception:  # noqa: BLE001 - untrusted bytes; inbound refuses and logs them
            return False
        if type(packet) is not dict or packet.get("type") != sio_packet.EVENT or packet.get("nsp") != NAMESPACE:
            return False
        ack_id, event = packet.get("id"), packet.get("data")
        # An event is its name and at most one argument (none: None), as inbound checks.
        if type(ack_id) is not int or not 0 <= ack_id < MAX_ACK_ID or type(event) is not list or not 1 <= len(event) <= 2:
            return False
        handler = self._handlers.get(event[0]) if type(event[0]) is str else None
        if handler is None:
            return False
        sid = self._manager.sid_from_eio_sid(link.eio_sid, NAMESPACE)
        if sid is None or not self._manager.is_connected(sid, NAMESPACE):
            return False
        self.answered += 1
        try:
            answer = handler(sid, event[1] if len(event) == 2 else None)
        except Exception:
            log.exception("%s from %s failed", event[0], sid)
            answer = error(
                "internal_error", "The server failed to handle this message; nothing was changed. Please report it to the technical team."
            )
        if isinstance(answer, asyncio.Future):
            answer.add_done_callback(lambda done: self._answered(sid, ack_id, done))
        else:
            self._reply(sid, ack_id, answer)
        return True

    def _answered(self, sid: str, ack_id: int, done: asyncio.Future[Ack]) -> None:
        if done.cancelled():
            return
        exc = done.exception()
        if exc is not None:
            log.error("an answer for %s failed", sid, exc_info=exc)
            self._reply(
                sid, ack_id, error("internal_error", "The server failed to handle this message. Please report it to the technical team.")
            )
            return
        self._reply(sid, ack_id, done.result())

    def _reply(self, sid: str, ack_id: int, answer: Ack) -> None:
        """Write the ack, in order with everything else the connection is sent; gone: nothing."""
        self._fanout.send_encoded_to(sid, self._sio.packet_class(sio_packet.ACK, namespace=NAMESPACE, id=ack_id, data=[answer]).encode())
