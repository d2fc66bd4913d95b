"""Every socket.io packet a client sends, checked before python-socketio dispatches it.

python-socketio registers ``_handle_eio_message`` with engineio to decode and
dispatch what clients send. Three things in it are wrong for a public server:

* a frame that does not decode raises inside it, and engineio logs a traceback
  of about 2 KB per frame, with no limit and before any token is checked;
* an EVENT is dispatched by name to any handler, so a client that sends an
  event named ``connect`` or ``disconnect`` runs the server's own connect and
  disconnect handlers (a second join with another token, or a session closed
  under a live socket);
* an event the server has no handler for, or with another number of arguments
  than its handler takes, gets no answer (or a ``TypeError`` in a task).

:class:`Inbound` is registered in its place. It decodes the packet itself and
refuses, with one rate-limited log line (:mod:`.refusals`) and an error ack
when the client asked for one: frames that do not decode, packet types a
client may not send (a CONNECT_ERROR, an ACK the server never asked for, the
binary types, which the msgpack serializer does not use), the reserved event
names, unknown event names and events that are not a name and one argument.
What passes is handed to python-socketio's own CONNECT, DISCONNECT and EVENT
handling, so its namespace and session bookkeeping is unchanged.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import socketio
from socketio import packet as sio_packet

from ..service import error
from .refusals import RefusalLog

#: Event names socket.io uses for itself; a client never sends them.
RESERVED_EVENTS = frozenset({"connect", "disconnect", "connect_error", "disconnecting", "message"})


class Inbound:
    """Decodes and screens the packets of one server's clients (see the module docstring).

    :param events: the names of the events clients may send; each handler takes
        ``(sid, data)``, ``data`` being ``None`` when the event carries no argument.
    """

    def __init__(self, sio: socketio.AsyncServer, events: Collection[str], refusals: RefusalLog) -> None:
        self.sio = sio
        self.events = frozenset(events)
        self.refusals = refusals
        sio.eio.on("message", self.message)

    async def message(self, eio_sid: str, data: bytes | str) -> None:
        sio = self.sio
        try:
            pkt = sio.packet_class(encoded_packet=data)
        except Exception as exc:  # noqa: BLE001 - decoding untrusted bytes: msgpack raises many kinds, all the client's fault
            self.refusals.refuse("malformed_frame", f"not a socket.io packet: {exc!r}", connection=eio_sid)
            return
        kind, namespace, ack_id = pkt.packet_type, pkt.namespace, pkt.id
        if not isinstance(namespace, str) or not (ack_id is None or (type(ack_id) is int and 0 <= ack_id < 2**53)):
            self.refusals.refuse("malformed_frame", "a packet's namespace is a string and its id a small integer", connection=eio_sid)
            return
        if kind == sio_packet.CONNECT:
            await sio._handle_connect(eio_sid, namespace, pkt.data)
        elif kind == sio_packet.DISCONNECT:
            await sio._handle_disconnect(eio_sid, namespace, sio.reason.CLIENT_DISCONNECT)
        elif kind == sio_packet.EVENT:
            await self._event(eio_sid, namespace, ack_id, pkt.data)
        else:
            name = sio_packet.packet_names[kind] if type(kind) is int and 0 <= kind < len(sio_packet.packet_names) else repr(kind)
            self.refusals.refuse("invalid_event", f"a client may not send a {name} packet", connection=eio_sid)

    async def _event(self, eio_sid: str, namespace: str, ack_id: int | None, data: Any) -> None:
        if not isinstance(data, list) or not data or not isinstance(data[0], str):
            await self._refuse(
                eio_sid, namespace, ack_id, "invalid_event", "An event is a list: its name, then its argument.", "not [name, argument]"
            )
            return
        name, args = data[0], data[1:]
        if name in RESERVED_EVENTS:
            await self._refuse(
                eio_sid, namespace, ack_id, "reserved_event", f"'{name}' is socket.io's own event; a client cannot send it.", name
            )
        elif name not in self.events:
            await self._refuse(
                eio_sid,
                namespace,
                ack_id,
                "unknown_event",
                f"The server has no event {name[:40]!r}; the events are {', '.join(sorted(self.events))}.",
                name,
            )
        elif len(args) > 1:
            await self._refuse(eio_sid, namespace, ack_id, "invalid_event", f"The {name} event takes one argument, not {len(args)}.", name)
        else:
            await self.sio._handle_event(eio_sid, namespace, ack_id, [name, args[0] if args else None])

    async def _refuse(self, eio_sid: str, namespace: str, ack_id: int | None, code: str, message: str, detail: str) -> None:
        """Log the refusal; answer it if the client asked for an answer and has joined the namespace."""
        self.refusals.refuse(code, f"event {detail!r}", connection=eio_sid)
        if ack_id is None or self.sio.manager.sid_from_eio_sid(eio_sid, namespace) is None:
            return
        answer = self.sio.packet_class(sio_packet.ACK, namespace=namespace, id=ack_id, data=[error(code, message)])
        await self.sio._send_packet(eio_sid, answer)
