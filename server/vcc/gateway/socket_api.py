"""The socket.io face of the service: connections, join and sync, commands, pings.

Messages (see docs/protocol.md; all msgpack):
- connect ``auth``: ``{token, last_seq?, epoch?}``; a refused connection gets
  ``{message, data: {code: "unauthorized", message}}`` the browser shows.
- server -> client ``welcome`` ``{protocol, participant, role, audience, consultation, seq, epoch, server_time}``,
  then either ``snapshot`` ``{epoch, seq, state, resync}`` or the missed
  ``events``; then ``events`` batches ``{epoch, first, last, ts, events}`` as
  the consultation changes. A client applies a batch only if ``first`` is
  its ``seq + 1`` (skipping events it already has) and resyncs on a gap.
- client -> server ``command`` ``{id, type, ...}`` -> ack ``{ok, seq}`` or
  ``{ok: false, error: {code, message}}``; ``ping`` ``{t}`` -> ack
  ``{t, server_time}`` (on a websocket both are answered as they are read,
  by :mod:`.command_path`); ``sync`` ``{last_seq, epoch}`` after a gap (answered
  like a connect); ``report`` (connection diagnostics for the
  technical team's live dashboard, not recorded in the log).
- server -> staff ``presence`` (:mod:`.presence`).
- technical team -> server ``notify_participant`` ``{participant, text}`` ->
  ack ``{ok}``; server -> every connection of that participant, on any node,
  ``notice`` ``{from, name, text, at}`` (:mod:`.notices`).
- client -> server ``media`` ``{op, ...}`` -> ack ``{ok, sdp?}``: WebRTC
  signalling (``vcc_protocol.media``); the media plane holds every Janus handle.
  server -> client ``media_reset`` ``{}``: the media server came back and holds
  the consultation's mixes again; connect listening and microphone anew.
- server -> client ``ended`` ``{code, message}``, then a disconnect: the
  consultation is gone for good (a discarded practice consultation, ``vcc.practice``).

Many nodes: event batches never travel through socket.io's client manager;
each node gets them from the store in log order. The manager (python-socketio's
``AsyncRedisManager`` when the store is Redis) carries only messages aimed at
one participant whose connections may be on other nodes: each connection is
in a socket.io room named after its participant.

Event batches are encoded and handed to the fan-out by :mod:`.publisher`, once
per audience.

Hostile input: every packet is screened by :mod:`.inbound` before a handler
runs; the messages that cost more than their answer have their own rate
limit per connection (commands and notices, ``sync``, ``report``; a ``ping``
is answered with fewer bytes than it takes; :mod:`.limits`); every field that is
relayed to others is bounded by the protocol's definitions; and what is
refused is logged as one line, at a bounded rate (:mod:`.refusals`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import msgpack
import msgspec
import socketio
from engineio import packet as eio_packet
from vcc_protocol import PROTOCOL_VERSION
from vcc_protocol.commands import COMMANDS_BY_NAME, parse_command
from vcc_protocol.events import redact
from vcc_protocol.media import parse_media
from vcc_protocol.messages import Report
from vcc_protocol.vocabulary import ADMIN_ACTOR, SCREEN_ACTOR

from ..auth.tokens import ADMIN_ROLE, SCREEN_ROLE, TokenRefused, verify
from ..core.views import audience as audience_of
from ..media.plane import MediaPlane
from ..ops import metrics
from ..practice import ENDED as PRACTICE_ENDED
from ..practice import is_practice
from ..service import Ack, Runtime, Service, UnknownConsultation, error, settle
from ..store.base import StoreUnavailable
from .command_path import CommandPath
from .fanout import Fanout
from .inbound import Inbound
from .limits import (
    MAX_COMMAND_BYTES,
    MAX_MESSAGE_BYTES,
    RATE_BURST,
    RATE_PER_SECOND,
    REPORT_BURST,
    REPORT_PER_SECOND,
    SYNC_BURST,
    SYNC_PER_SECOND,
    TokenBucket,
)
from .notices import Notices, participant_room
from .presence import PresenceBoard
from .publisher import Publisher, concerned, group
from .refusals import EngineLog, RefusalLog, tag_requests
from .sessions import Session
from .transport import install

log = logging.getLogger(__name__)

#: engine.io heartbeat: a connection that stops answering is closed within
#: PING_INTERVAL + PING_TIMEOUT seconds and shows as gone on the dashboard.
PING_INTERVAL = 10
PING_TIMEOUT = 10


def _refused(message: str, code: str = "unauthorized") -> socketio.exceptions.ConnectionRefusedError:
    """The browser gets an Error whose ``message`` is this sentence and whose ``data.code`` says why."""
    return socketio.exceptions.ConnectionRefusedError(message, {"code": code, "message": message})


class Gateway:
    """The socket.io server of one node.

    :param origins: the allowed browser origins (``None``: same origin only; ``"*"``: any).
    :param client_manager: socket.io's manager; with several nodes an
        ``AsyncRedisManager``, through which ``notice`` reaches other nodes.
    """

    def __init__(
        self,
        service: Service,
        secret: bytes,
        *,
        origins: list[str] | str | None = None,
        max_pending_bytes: int = 4 << 20,
        client_manager: socketio.AsyncManager | None = None,
        deflate: bool = True,
    ) -> None:
        self.service = service
        self.secret = secret
        self.refusals = RefusalLog()
        self.sio = socketio.AsyncServer(
            async_mode="aiohttp",
            serializer="msgpack",
            # None: only the same origin (engineio treats [] as "no check at all").
            cors_allowed_origins=origins,
            max_http_buffer_size=MAX_MESSAGE_BYTES,
            client_manager=client_manager,
            ping_interval=PING_INTERVAL,
            ping_timeout=PING_TIMEOUT,
            logger=False,
            engineio_logger=EngineLog(self.refusals),
        )
        self.fanout = Fanout(self.sio, max_pending_bytes=max_pending_bytes, on_drop=self._dropped, deflate=deflate)
        install(self.sio).on_malformed = lambda eio_sid, detail: self.refusals.refuse("malformed_frame", detail, connection=eio_sid)
        self.sessions: dict[str, Session] = {}
        self.presence = PresenceBoard(self.sio, self.fanout, self.sessions)
        self.notices = Notices(self.sio, self.sessions, self._refuse)
        self._publishers: dict[str, Publisher] = {}
        #: The node's media plane (None: this node runs without media).
        self.media: MediaPlane | None = None
        self.sio.on("connect", self._connect)
        self.sio.on("disconnect", self._disconnect)
        events = {
            "command": self._command,
            "sync": self._resync,
            "ping": self._ping,
            "report": self._report,
            "notify_participant": self.notices.notify_participant,
            "media": self._media,
        }
        for name, handler in events.items():
            self.sio.on(name, handler)
        self.inbound = Inbound(self.sio, events, self.refusals)
        self.command_path = CommandPath(
            self.sio, self.fanout, {"command": self._submit_command, "ping": lambda sid, data, _: self._pong(sid, data)}
        )
        service.on_unload(self._forget)

    def attach(self, app: Any) -> None:
        # engineio registers its bound handle_request when attached: tag it first,
        # so that what it logs about a request knows the client's address.
        self.sio.eio.handle_request = tag_requests(self.sio.eio.handle_request, self.refusals)
        self.sio.attach(app)

    def _refuse(self, sid: str, code: str, detail: str) -> None:
        """Log one refused input of a joined connection (rate-limited, see .refusals)."""
        self.refusals.refuse(code, detail, connection=self.sio.manager.eio_sid_from_sid(sid, "/"))

    async def close_connections(self) -> None:
        """Drop every connection now, without a socket.io goodbye, so clients
        reconnect (to this node after a restart, or to another behind the proxy).

        Ending the engine.io session alone is not enough: its websocket, or
        its pending long-poll, would stay open, unserved, until the web
        server's shutdown timeout, and the clients would wait as long.
        """
        links = install(self.sio)  # the registry the fan-out uses (idempotent)
        for sid in list(self.sessions):
            eio_sid = self.sio.manager.eio_sid_from_sid(sid, "/")
            socket = self.sio.eio.sockets.get(eio_sid) if eio_sid else None
            if socket is None:
                continue
            link = links.get(socket.sid)
            if link is not None and link.transport is not None:
                link.transport.abort()
            elif not socket.closed:
                # A NOOP answers the pending long-poll; the next poll finds
                # the session gone and the client reconnects.
                await socket.send(eio_packet.Packet(eio_packet.NOOP))
            await socket.close(wait=False, abort=True)

    async def end_connections(self, consultation: str, notice: dict[str, str]) -> None:
        """Close every connection to ``consultation`` for good (a discarded practice
        consultation), telling each why in an ``ended`` ``{code, message}`` first:
        socket.io does not reconnect after the server disconnects."""
        for sid, session in list(self.sessions.items()):
            if session.runtime.consultation == consultation:
                await self.sio.emit("ended", notice, to=sid)
                await self.sio.disconnect(sid)

    def publisher(self, runtime: Runtime) -> Publisher:
        if runtime.consultation not in self._publishers:
            self._publishers[runtime.consultation] = Publisher(runtime, self.fanout)
        return self._publishers[runtime.consultation]

    def _forget(self, runtime: Runtime) -> None:
        """An unloaded runtime's publisher goes with it (a reload gets a new one)."""
        if (publisher := self._publishers.get(runtime.consultation)) is not None and publisher.runtime is runtime:
            del self._publishers[runtime.consultation]

    async def _connect(self, sid: str, environ: dict[str, Any], auth: Any) -> None:
        auth = auth if isinstance(auth, dict) else {}
        now = self.service.clock()
        try:
            claims = verify(self.secret, auth.get("token"), now)
        except TokenRefused as refused:
            raise _refused(str(refused)) from None
        try:
            # Pinned until _disconnect releases it: never unloaded under a connection.
            runtime = await self.service.acquire(claims.consultation)
        except UnknownConsultation:
            if is_practice(claims.consultation):
                raise _refused(PRACTICE_ENDED["message"], PRACTICE_ENDED["code"]) from None
            raise _refused("This join link is for a consultation this server does not hold; ask the secretariat for a new link.") from None
        except StoreUnavailable:
            raise _refused(
                "The service cannot reach its event store right now; your browser will try again by itself.", "unavailable"
            ) from None
        delegation = None
        if claims.role == ADMIN_ROLE:
            actor, role = ADMIN_ACTOR, "secretariat"
        elif claims.role == SCREEN_ROLE:
            actor, role = SCREEN_ACTOR, SCREEN_ROLE
        else:
            participant = runtime.state.participants.get(claims.participant)
            if participant is None:
                self.service.release(runtime)
                raise _refused(
                    "This join link names a participant who is not registered in the consultation; ask the secretariat for a new link."
                )
            actor, role, delegation = participant.id, participant.role, participant.delegation
        audience = audience_of(role)
        session = Session(sid, actor, role, audience, runtime, TokenBucket(RATE_PER_SECOND, RATE_BURST))
        self.sessions[sid] = session
        publisher = self.publisher(runtime)
        # Deliver what is pending to the others first, so the state sent below
        # and the batches that follow it meet exactly at runtime.seq.
        publisher.flush()
        self._sync(session, publisher, auth.get("last_seq"), auth.get("epoch"))
        self.fanout.join(sid, group(runtime.consultation, audience))
        self.fanout.join(sid, concerned(runtime.consultation, "participant", actor))
        if delegation is not None:
            self.fanout.join(sid, concerned(runtime.consultation, "delegation", delegation))
        await self.sio.enter_room(sid, participant_room(runtime.consultation, actor))
        metrics.CONNECTIONS.inc()
        self.presence.changed(runtime.consultation)

    def _sync(self, session: Session, publisher: Publisher, last_seq: Any, epoch: Any) -> None:
        runtime = session.runtime
        self.fanout.send_to(
            session.sid,
            "welcome",
            {
                "protocol": PROTOCOL_VERSION,
                "participant": session.actor,
                "role": session.role,
                "audience": session.audience,
                "consultation": runtime.consultation,
                "seq": runtime.seq,
                "epoch": runtime.epoch,
                "server_time": self.service.clock() / 1000,
            },
        )
        missed = None
        if isinstance(last_seq, int) and epoch == runtime.epoch:
            missed = runtime.events_after(last_seq)
        if missed is None:
            self.fanout.send_encoded_to(session.sid, publisher.snapshot(session.audience, resync=last_seq is not None))
        elif missed:
            private = session.audience != "staff"
            self.fanout.send_to(
                session.sid,
                "events",
                {
                    "epoch": runtime.epoch,
                    "first": missed[0][0],
                    "last": missed[-1][0],
                    "ts": time.time(),
                    "events": [msgspec.to_builtins(redact(e) if private else e) for _, e in missed],
                    "views": publisher.views.full(runtime.state, runtime.clock()),
                },
            )

    async def _resync(self, sid: str, data: Any) -> Ack | None:
        """A client that saw a gap asks again from its last sequence number."""
        session = self.sessions.get(sid)
        if session is None:
            return error("unauthorized", "This connection has not joined; reconnect with your join link.")
        if not session.sync_bucket.take():
            self._refuse(sid, "rate_limited", "sync")
            return error(
                "rate_limited",
                f"At most {SYNC_BURST:.0f} sync requests at once, then {SYNC_PER_SECOND:.0f} a second; the next batch of events asks again.",
            )
        data = data if isinstance(data, dict) else {}
        publisher = self.publisher(session.runtime)
        publisher.flush()
        self._sync(session, publisher, data.get("last_seq"), data.get("epoch"))
        return None

    async def _disconnect(self, sid: str, *args: Any) -> None:
        self.fanout.leave(sid)
        session = self.sessions.pop(sid, None)
        if session is not None:
            self.service.release(session.runtime)
            metrics.CONNECTIONS.dec()
            self.presence.changed(session.runtime.consultation)
            consultation = session.runtime.consultation
            still_here = any(s.actor == session.actor and s.runtime.consultation == consultation for s in self.sessions.values())
            if self.media is not None and not still_here:
                await self.media.disconnected(consultation, session.actor)

    def _dropped(self, sid: str) -> None:
        metrics.CLIENTS_DROPPED.inc()
        log.info("dropped %s: it could not keep up; it will reconnect and resync", sid)

    async def _command(self, sid: str, data: Any) -> Ack:
        """A command through socket.io's own dispatch (long-polling, or a websocket
        the command path did not serve): the same checks, then the same runtime."""
        future: asyncio.Future[Ack] = asyncio.get_running_loop().create_future()
        refused = self._submit_command(sid, data, settle(future))
        return refused if refused is not None else await future

    def _submit_command(self, sid: str, data: Any, reply: Callable[[Ack], None]) -> Ack | None:
        """Screen and validate a command, then queue it: its refusal, or None and ``reply`` gets its answer."""
        session = self.sessions.get(sid)
        if session is None:
            return error("unauthorized", "This connection has not joined; reconnect with your join link.")
        refused = self._screen(session, data)
        if refused is not None:
            self._refuse(sid, refused["error"]["code"], f"command: {refused['error']['message']}")
            return refused
        kind = data["type"]
        try:
            command = parse_command(data)
        except msgspec.ValidationError as exc:
            self._refuse(sid, "invalid_command", f"{kind}: {exc}")
            return error("invalid_command", f"The {kind} command is not valid: {exc}.")
        try:
            session.runtime.submit(command, session.actor, reply)
        except Exception:
            log.exception("command %s from %s failed", kind, session.actor)
            return error(
                "internal_error", "The server failed to handle this command; nothing was changed. Please report it to the technical team."
            )
        return None

    def _screen(self, session: Session, data: Any) -> Ack | None:
        """The refusal of a command that must not reach the protocol's validation, or None."""
        if not session.bucket.take():
            return error("rate_limited", "Too many commands from this connection; wait a moment and try again.")
        if not isinstance(data, dict):
            return error("invalid_command", "A command is a map with a 'type' and an 'id'.")
        kind = data.get("type")
        if not isinstance(kind, str) or kind not in COMMANDS_BY_NAME:
            shown = repr(kind)[:40] if isinstance(kind, str) else f"of type {type(kind).__name__}"
            return error("unknown_command", f"There is no command {shown}; a command's 'type' is one of the names in docs/protocol.md.")
        if kind == "submit_contribution" and data.get("file") is not None:
            return error(
                "invalid_command",
                "Upload a contribution's file through POST /api/consultations/{id}/contributions; the server checks it there.",
            )
        if len(msgpack.packb(data, default=str)) > MAX_COMMAND_BYTES:
            return error("payload_too_large", f"A command may be at most {MAX_COMMAND_BYTES // 1024} KB.")
        if "id" not in data:
            return error(
                "invalid_command",
                f"The {kind} command has no 'id': give every command an id of 1 to 80 characters, unique among your commands, "
                "so that the server applies it once even if it is sent again.",
            )
        return None

    async def _ping(self, sid: str, data: Any) -> dict[str, Any]:
        return self._pong(sid, data)

    def _pong(self, sid: str, data: Any) -> dict[str, Any]:
        t = data.get("t") if isinstance(data, dict) else None
        return {"t": t, "server_time": self.service.clock() / 1000}

    async def _report(self, sid: str, data: Any) -> Ack:
        """A connection's own figures, kept for ``presence``: bounded, as every staff connection gets them."""
        session = self.sessions.get(sid)
        if session is None:
            return error("unauthorized", "This connection has not joined; reconnect with your join link.")
        if not session.report_bucket.take():
            self._refuse(sid, "rate_limited", "report")
            return error("rate_limited", f"At most {REPORT_BURST:.0f} reports at once, then {REPORT_PER_SECOND:.0f} a second.")
        try:
            session.report = msgspec.convert(data, Report)
        except msgspec.ValidationError as exc:
            self._refuse(sid, "invalid_command", f"report: {exc}")
            return error("invalid_command", f"The report is not valid: {exc}.")
        self.presence.changed(session.runtime.consultation)
        return {"ok": True}

    def attach_media(self, media: MediaPlane) -> None:
        self.media = media
        media.on_rebuilt = self._media_rebuilt

    def _media_rebuilt(self, consultation: str) -> None:
        for audience in ("public", "staff"):
            self.fanout.send(group(consultation, audience), "media_reset", {})

    async def _media(self, sid: str, data: Any) -> Ack:
        """A browser's WebRTC signalling: validated here, carried out by the media plane."""
        session = self.sessions.get(sid)
        if session is None:
            return error("unauthorized", "This connection has not joined; reconnect with your join link.")
        if not session.bucket.take():
            return error("rate_limited", "Too many messages from this connection; wait a moment and try again.")
        try:
            request = parse_media(data)
        except msgspec.ValidationError as exc:
            return error("invalid_media_request", f"The media message is not valid: {exc}; see docs/protocol.md, Media signalling.")
        if self.media is None:
            return error("media_unavailable", "This server runs without audio (started with --no-media); the meeting works without it.")
        return await self.media.signal(session.runtime.consultation, session.actor, request)
