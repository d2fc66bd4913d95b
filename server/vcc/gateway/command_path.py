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

A handler takes ``(sid, data, reply)`` and returns the answer, or None once it
has arranged to call ``reply`` with it later. The gateway's socket.io handlers
for the same events call the same functions, so the bounds (size, rate,
validation before the core) are the same on both paths.

An answer given later is a command's, given by the runtime's committer as soon
as the command's events are applied, before the publisher sends them
(``Runtime.submit``). Its ack is held to follow the next message its
connection is sent in that turn of the loop, that events batch: the client gets
both in one write, in the order it always had, and the server pays one system
call and one wake-up of the client instead of two. With no batch in that turn
(a command that changed nothing, a publisher pausing under load), the ack goes
alone at the next turn.
"""

from __future__ import annotations

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

#: An answerable event's handler: ``(sid, data, reply)`` -> the answer, or None and ``reply`` gets it later.
Answer = Callable[[str, Any, Callable[[Ack], None]], "Ack | None"]
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
            answer = handler(sid, event[1] if len(event) == 2 else None, lambda later: self._reply(sid, ack_id, later, follow=True))
        except Exception:
            log.exception("%s from %s failed", event[0], sid)
            answer = error(
                "internal_error", "The server failed to handle this message; nothing was changed. Please report it to the technical team."
            )
        if answer is not None:
            self._reply(sid, ack_id, answer)
        return True

    def _reply(self, sid: str, ack_id: int, answer: Ack, *, follow: bool = False) -> None:
        """Write the ack, in order with everything else the connection is sent; gone: nothing."""
        payload = self._sio.packet_class(sio_packet.ACK, namespace=NAMESPACE, id=ack_id, data=[answer]).encode()
        self._fanout.send_encoded_to(sid, payload, follow=follow)
