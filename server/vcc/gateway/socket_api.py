"""The socket.io face of the service: join, sync, commands, pings, presence.

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
  ``{t, server_time}``; ``sync`` ``{last_seq, epoch}`` after a gap (answered
  like a connect); ``report`` (connection diagnostics for the
  technical team's live dashboard, not recorded in the log).
- server -> staff ``presence``: what changed in this node's connections, at
  most once a second, in messages of at most ``PRESENCE_MAX_CONNECTIONS``
  (``vcc_protocol.messages.Presence``); a staff connection that joins gets the
  whole list first.
- technical team -> server ``notify_participant`` ``{participant, text}`` ->
  ack ``{ok}``; server -> every connection of that participant, on any node,
  ``notice`` ``{from, name, text, at}``. Not recorded in the log: a notice
  reaches the connections open at that moment (at most once).
- client -> server ``media`` ``{op, ...}`` -> ack ``{ok, sdp?}``: WebRTC
  signalling (``vcc_protocol.media``); the media plane holds every Janus handle.
  server -> client ``media_reset`` ``{}``: the media server came back and holds
  the consultation's mixes again; connect listening and microphone anew.

Many nodes: event batches never travel through socket.io's client manager;
each node gets them from the store in log order. The manager (python-socketio's
``AsyncRedisManager`` when the store is Redis) carries only messages aimed at
one participant whose connections may be on other nodes: each connection is
in a socket.io room named after its participant.

Role-restricted data: each consultation has a ``public`` and a ``staff``
group; a batch carrying private fields is encoded a second time, redacted,
for the public group, so both keep the same sequence numbers.

Hostile input: every packet is screened by :mod:`.inbound` before a handler
runs; the messages that cost more than their answer have their own rate
limit per connection (commands and notices, ``sync``, ``report``; a ``ping``
is answered with fewer bytes than it takes); every field that is
relayed to others is bounded by the protocol's definitions; and what is
refused is logged as one line, at a bounded rate (:mod:`.refusals`).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import msgpack
import msgspec
import socketio
from engineio import packet as eio_packet
from vcc_protocol import PROTOCOL_VERSION
from vcc_protocol.commands import COMMANDS_BY_NAME, parse_command
from vcc_protocol.events import redact
from vcc_protocol.media import parse_media
from vcc_protocol.messages import MAX_NOTICE_CHARS, PRESENCE_MAX_CONNECTIONS, Connection, NotifyParticipant, Presence, Report
from vcc_protocol.vocabulary import ADMIN_ACTOR, SCREEN_ACTOR

from .. import metrics
from ..core.views import audience as audience_of
from ..core.views import ViewsFeed, snapshot
from ..media.plane import MediaPlane
from ..service import Ack, Batch, Runtime, Service, UnknownConsultation, error
from ..store.base import StoreUnavailable
from ..tokens import ADMIN_ROLE, SCREEN_ROLE, TokenRefused, verify
from .fanout import Fanout
from .inbound import Inbound
from .refusals import EngineLog, RefusalLog, tag_requests
from .transport import install

log = logging.getLogger(__name__)

#: Largest command accepted, encoded (a proposed conclusion is the longest text).
MAX_COMMAND_BYTES = 64 * 1024
#: Largest engine.io message before the transport closes the connection.
MAX_MESSAGE_BYTES = 256 * 1024
RATE_PER_SECOND = 20.0
RATE_BURST = 40.0
#: ``sync`` answers with a snapshot (tens of KB): a client needs one after a gap, not thousands.
SYNC_PER_SECOND = 1.0
SYNC_BURST = 5.0
#: A browser reports on joining, every 30 s and after each microphone check or connection test.
REPORT_PER_SECOND = 1.0
REPORT_BURST = 5.0
PRESENCE_INTERVAL = 1.0
#: engine.io heartbeat: a connection that stops answering is closed within
#: PING_INTERVAL + PING_TIMEOUT seconds and shows as gone on the dashboard.
PING_INTERVAL = 10
PING_TIMEOUT = 10
#: Seconds a notice may take to reach the other nodes before the sender is told it failed.
NOTICE_TIMEOUT = 3.0


@dataclass
class TokenBucket:
    """A per-connection command rate limit: ``rate`` per second, bursts of ``burst``."""

    rate: float
    burst: float
    tokens: float = field(init=False)
    stamp: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.tokens = self.burst

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


_connection_numbers = itertools.count(1)


@dataclass
class Session:
    sid: str
    actor: str
    role: str
    audience: str
    runtime: Runtime
    bucket: TokenBucket
    connected_at: float = field(default_factory=time.time)
    report: Report = field(default_factory=Report)
    #: This node's number for the connection in ``presence`` (the socket.io sid stays private).
    conn: int = field(default_factory=lambda: next(_connection_numbers))
    sync_bucket: TokenBucket = field(default_factory=lambda: TokenBucket(SYNC_PER_SECOND, SYNC_BURST))
    report_bucket: TokenBucket = field(default_factory=lambda: TokenBucket(REPORT_PER_SECOND, REPORT_BURST))
    #: Whether this staff connection has had the whole presence list.
    presence_listed: bool = False


def _refused(message: str, code: str = "unauthorized") -> socketio.exceptions.ConnectionRefusedError:
    """The browser gets an Error whose ``message`` is this sentence and whose ``data.code`` says why."""
    return socketio.exceptions.ConnectionRefusedError(message, {"code": code, "message": message})


def group(consultation: str, audience: str) -> str:
    return f"{consultation}/{audience}"


def concerned(consultation: str, kind: str, name: str) -> str:
    """The fan-out group of the connections of one ``participant`` or one
    ``delegation`` (``kind``): a batch that names them is written to them first."""
    return f"{consultation}/{kind}:{name}"


def participant_room(consultation: str, participant: str) -> str:
    """The socket.io room of a participant's connections, on every node (``notice``)."""
    return f"participant:{consultation}:{participant}"


class Publisher:
    """Turns a runtime's batches into ``events`` messages, one per audience for
    all the batches that arrived since the last one was sent.

    Sending costs CPU in proportion to the connections (a frame written to each),
    so under load the publisher waits, after each send, as long as that send took
    before the next: the batches completed meanwhile go out together, and
    broadcasting never takes more than about half of the event loop (the rest is
    left for commands and acks). An isolated change is sent at once.
    """

    def __init__(self, runtime: Runtime, fanout: Fanout) -> None:
        self.runtime = runtime
        self.fanout = fanout
        self._pending: list[Batch] = []
        self._scheduled: asyncio.Handle | None = None
        self._quiet_until = 0.0
        self.public = group(runtime.consultation, "public")
        self.staff = group(runtime.consultation, "staff")
        self._snapshots: dict[tuple[str, bool], tuple[int, bytes]] = {}
        self.views = ViewsFeed()
        runtime.subscribe(self._on_batch)

    def _on_batch(self, batch: Batch) -> None:
        self._pending.append(batch)
        if self._scheduled is not None:
            return
        loop = asyncio.get_running_loop()
        delay = self._quiet_until - loop.time()
        if delay > 0:
            self._scheduled = loop.call_later(delay, self.flush)
        else:
            self._scheduled = loop.call_soon(self.flush)

    def flush(self) -> None:
        """Send what is pending now; also called directly, before a joining
        client's state is sent, when the scheduled send is dropped."""
        if self._scheduled is not None:
            self._scheduled.cancel()
            self._scheduled = None
        if not self._pending:
            return
        started = time.perf_counter()
        batches, self._pending = self._pending, []
        events = [event for batch in batches for event in batch.events]
        head = {"epoch": batches[-1].epoch or self.runtime.epoch, "first": batches[0].first, "last": batches[-1].last, "views": self.views.update(self.runtime.state, self.runtime.clock())}
        staff_events = [msgspec.to_builtins(event) for event in events]
        if any(event.PRIVATE for event in events):
            public_events = [msgspec.to_builtins(redact(event)) for event in events]
        else:
            public_events = staff_events
        first = self._concerned(events)
        ts = time.time()
        self.fanout.send(self.public, "events", {**head, "ts": ts, "events": public_events}, first)
        self.fanout.send(self.staff, "events", {**head, "ts": ts, "events": staff_events}, first)
        took = time.perf_counter() - started
        self._quiet_until = asyncio.get_running_loop().time() + took
        metrics.FANOUT_SECONDS.observe(took)
        metrics.FANOUT_BATCHES.observe(len(batches))

    def _concerned(self, events: list[Any]) -> list[str]:
        """The groups of the participants and delegations the events name (the
        delegation given the floor, the speaker gone live), to be served first."""
        names: dict[str, None] = {}
        for event in events:
            for kind in ("participant", "delegation"):
                name = getattr(event, kind, None)
                if isinstance(name, str):
                    names[concerned(self.runtime.consultation, kind, name)] = None
        return list(names)

    def snapshot(self, audience: str, resync: bool) -> bytes:
        """The ``snapshot`` message for an audience, built and encoded once per sequence
        number (thousands may join at once, e.g. after a restart)."""
        key = (audience, resync)
        cached = self._snapshots.get(key)
        if cached is None or cached[0] != self.runtime.seq:
            runtime = self.runtime
            message = {"epoch": runtime.epoch, "seq": runtime.seq, "state": snapshot(runtime.state, audience), "resync": resync, "views": self.views.full(runtime.state, runtime.clock())}
            cached = (runtime.seq, self.fanout.encode("snapshot", message))
            self._snapshots[key] = cached
        return cached[1]


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
        self.fanout = Fanout(self.sio, max_pending_bytes=max_pending_bytes, on_drop=self._dropped)
        install(self.sio).on_malformed = lambda eio_sid, detail: self.refusals.refuse("malformed_frame", detail, connection=eio_sid)
        self.sessions: dict[str, Session] = {}
        self._publishers: dict[str, Publisher] = {}
        self._presence_due: set[str] = set()
        self._presence_task: asyncio.Task[None] | None = None
        #: Per consultation, the connections as the staff were last told them.
        self._presence_told: dict[str, dict[int, Connection]] = {}
        #: The node's media plane (None: this node runs without media).
        self.media: MediaPlane | None = None
        self.sio.on("connect", self._connect)
        self.sio.on("disconnect", self._disconnect)
        events = {
            "command": self._command, "sync": self._resync, "ping": self._ping, "report": self._report,
            "notify_participant": self._notify_participant, "media": self._media,
        }
        for name, handler in events.items():
            self.sio.on(name, handler)
        self.inbound = Inbound(self.sio, events, self.refusals)
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
            raise _refused("This join link is for a consultation this server does not hold; ask the secretariat for a new link.") from None
        except StoreUnavailable:
            raise _refused("The service cannot reach its event store right now; your browser will try again by itself.", "unavailable") from None
        delegation = None
        if claims.role == ADMIN_ROLE:
            actor, role = ADMIN_ACTOR, "secretariat"
        elif claims.role == SCREEN_ROLE:
            actor, role = SCREEN_ACTOR, SCREEN_ROLE
        else:
            participant = runtime.state.participants.get(claims.participant)
            if participant is None:
                self.service.release(runtime)
                raise _refused("This join link names a participant who is not registered in the consultation; ask the secretariat for a new link.")
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
        self._presence_changed(runtime.consultation)

    def _sync(self, session: Session, publisher: Publisher, last_seq: Any, epoch: Any) -> None:
        runtime = session.runtime
        self.fanout.send_to(
            session.sid,
            "welcome",
            {
                "protocol": PROTOCOL_VERSION, "participant": session.actor, "role": session.role,
                "audience": session.audience, "consultation": runtime.consultation,
                "seq": runtime.seq, "epoch": runtime.epoch, "server_time": self.service.clock() / 1000,
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
                    "epoch": runtime.epoch, "first": missed[0][0], "last": missed[-1][0], "ts": time.time(),
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
            return error("rate_limited", f"At most {SYNC_BURST:.0f} sync requests at once, then {SYNC_PER_SECOND:.0f} a second; the next batch of events asks again.")
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
            self._presence_changed(session.runtime.consultation)
            consultation = session.runtime.consultation
            still_here = any(s.actor == session.actor and s.runtime.consultation == consultation for s in self.sessions.values())
            if self.media is not None and not still_here:
                await self.media.disconnected(consultation, session.actor)

    def _dropped(self, sid: str) -> None:
        metrics.CLIENTS_DROPPED.inc()
        log.info("dropped %s: it could not keep up; it will reconnect and resync", sid)

    async def _command(self, sid: str, data: Any) -> Ack:
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
            return await session.runtime.execute(command, session.actor)
        except Exception:
            log.exception("command %s from %s failed", kind, session.actor)
            return error("internal_error", "The server failed to handle this command; nothing was changed. Please report it to the technical team.")

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
            return error("invalid_command", "Upload a contribution's file through POST /api/consultations/{id}/contributions; the server checks it there.")
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
        self._presence_changed(session.runtime.consultation)
        return {"ok": True}

    async def _notify_participant(self, sid: str, data: Any) -> Ack:
        """The technical team tells one participant something, on whatever node they are."""
        session = self.sessions.get(sid)
        if session is None:
            return error("unauthorized", "This connection has not joined; reconnect with your join link.")
        if session.role != "technical":
            return error("not_allowed", "Only the technical team sends notices to participants.")
        if not session.bucket.take():
            self._refuse(sid, "rate_limited", "notify_participant")
            return error("rate_limited", "Too many messages from this connection; wait a moment and try again.")
        try:
            asked = msgspec.convert(data, NotifyParticipant)
        except msgspec.ValidationError as exc:
            self._refuse(sid, "invalid_command", f"notify_participant: {exc}")
            return error("invalid_command", f"A notice is {{participant, text}} with a text of 1 to {MAX_NOTICE_CHARS} characters: {exc}.")
        text = asked.text.strip()
        if not text:
            return error("invalid_command", f"A notice is {{participant, text}} with a text of 1 to {MAX_NOTICE_CHARS} characters.")
        runtime = session.runtime
        recipient = runtime.state.participants.get(asked.participant)
        if recipient is None:
            return error("unknown_participant", f"There is no participant {asked.participant!r} in this consultation.")
        sender = runtime.state.participants.get(session.actor)
        notice = {"from": session.actor, "name": sender.name if sender else session.actor, "text": text, "at": time.time()}
        try:
            # The manager delivers to this node's connections, then publishes
            # for the others; the bound keeps a frozen Redis from holding the ack.
            await asyncio.wait_for(self.sio.emit("notice", notice, to=participant_room(runtime.consultation, recipient.id)), NOTICE_TIMEOUT)
        except TimeoutError:
            return error("unavailable", "The notice reached only the participant's connections on this server: the others could not be reached in time.")
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

    # --- presence for the technical team --------------------------------------------------

    def presence(self, consultation: str) -> dict[int, Connection]:
        """This node's connections to a consultation, by connection number."""
        return {s.conn: self._connection(s) for s in self.sessions.values() if s.runtime.consultation == consultation}

    def _connection(self, session: Session) -> Connection:
        transport = self.sio.transport(session.sid, "/")
        return Connection(
            conn=session.conn, participant=session.actor, role=session.role, transport=transport,
            connected_at=session.connected_at, **msgspec.structs.asdict(session.report),
        )

    def _presence_changed(self, consultation: str) -> None:
        self._presence_due.add(consultation)
        if self._presence_task is None or self._presence_task.done():
            self._presence_task = asyncio.get_running_loop().create_task(self._send_presence())

    async def _send_presence(self) -> None:
        await asyncio.sleep(PRESENCE_INTERVAL)
        due, self._presence_due = self._presence_due, set()
        for consultation in due:
            self._publish_presence(consultation)

    def _publish_presence(self, consultation: str) -> None:
        """Tell the staff what changed since they were last told; give staff
        connections that joined since the whole list."""
        now = self.presence(consultation)
        told = self._presence_told.pop(consultation, {})
        if now:
            self._presence_told[consultation] = now
        changed = [c for number, c in now.items() if told.get(number) != c]
        left = [number for number in told if number not in now]
        for message in _presence_messages(changed, left, reset=False):
            self.fanout.send(group(consultation, "staff"), "presence", message)
        for session in self.sessions.values():
            if session.audience == "staff" and not session.presence_listed and session.runtime.consultation == consultation:
                session.presence_listed = True
                for message in _presence_messages(list(now.values()), [], reset=True):
                    self.fanout.send_to(session.sid, "presence", message)


def _presence_messages(changed: list[Connection], left: list[int], *, reset: bool) -> Iterator[dict[str, Any]]:
    """``presence`` messages of at most PRESENCE_MAX_CONNECTIONS each; ``reset`` only in the first."""
    if not (changed or left or reset):
        return
    step = PRESENCE_MAX_CONNECTIONS
    for start in range(0, max(len(changed), len(left), 1), step):
        message = Presence(reset=reset and start == 0, set=changed[start:start + step], left=left[start:start + step])
        yield msgspec.to_builtins(message)
