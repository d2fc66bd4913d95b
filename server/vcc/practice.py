"""Practice consultations: the floor drill against the real rules on the real path.

Theory of operation
-------------------
A participant who opens the floor drill asks, with their join link, for a
practice consultation (``POST /api/practice``). It is an ordinary consultation
in every respect the browser can see — the same ``Runtime``, core, socket,
acks and fold — with three differences:

- its log is a ``MemoryStore`` of its own: nothing it does reaches the durable
  store, and discarding it frees all it held;
- its id starts with ``practice:``, which no real consultation's id can (their
  ids are ``[a-z0-9-]``, ``api.routes.CONSULTATION_ID``), and it is registered
  in the node's ``Service`` with ``adopt``: the gateway acquires and releases
  it like any other, with a join token signed for it;
- a scripted chair, interpreter and other delegations play their parts by
  sending the same commands a person would (``Script``), so every answer the
  participant gets comes from the core.

A practice consultation lives on the node that made it. Behind the nginx of
``deploy/``, one browser's ``POST /api/practice`` and socket reach the same
node (one affinity key for both: its ``vcc_node`` cookie or its address); if
that node goes, the socket's reconnection elsewhere is refused with
``practice_ended`` and the page offers a new drill.

Bounds, as it faces the public internet: only a valid join link of a
participant on a real consultation's roster may start one; at most one per
participant (a new drill discards the previous one, with its connections);
at most ``max_rooms`` on the node, beyond which a start is refused
(``practice_full``) rather than evicting someone's drill; each log holds at most
``MemoryStore.max_events`` events; a room nobody has been connected to for
``idle_seconds`` is discarded, and so is one the service unloads, and any one
after ``max_age`` (a connected client that keeps sending commands keeps it only
that long). Its practice token expires with the join link it came from, and
an hour at most.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from vcc_protocol import commands as c
from vcc_protocol.state import Delegation, Item, Participant
from vcc_protocol.vocabulary import ADMIN_ACTOR

from .auth.tokens import Claims, sign
from .core import ConsultationState
from .ops import metrics
from .service import Runtime, Service, UnknownConsultation
from .store.memory import MemoryStore

log = logging.getLogger(__name__)

PREFIX = "practice:"
#: Practice consultations a node holds at most (each about 31 KiB: docs/security.md).
DEFAULT_MAX_ROOMS = 50
#: Seconds a practice consultation is kept without any connection to it.
DEFAULT_IDLE_SECONDS = 120.0
#: A practice token lasts as long as its join link, and never longer than this.
TOKEN_MS = 3_600_000
#: Other delegations taken from the real roster to fill the queue.
OTHERS = 3
CHAIR = "practice-chair"
INTERPRETER = "practice-interpreter"
DRILL_ITEM = "DRILL 1"
#: Who may practise: those who ask for the floor.
PRACTISING_ROLES = frozenset({"delegate"})

#: How a connection to a discarded practice consultation is told it ended (``ended``).
ENDED = {
    "code": "practice_ended",
    "message": "This practice session has ended (you started another one, or left it idle): start a new drill.",
}


def is_practice(consultation: str) -> bool:
    return consultation.startswith(PREFIX)


class PracticeRefused(Exception):
    """A practice consultation cannot be started; ``code`` and the message say why and what to do."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(frozen=True)
class Script:
    """The scripted parts' timings, in ms: how long the practice chair takes to
    give the floor once it is free, the other delegations to go live and to
    speak, and the interpreter to finish after a speech (ending the tail)."""

    chair_reaction_ms: int = 1_200
    others_go_live_ms: int = 1_500
    others_speech_ms: int = 5_000
    booth_finishes_ms: int = 1_000
    #: The consultation's bound on the interpretation tail.
    tail_ms: int = 4_000


EndConnections = Callable[[str, dict[str, str]], Awaitable[None]]


@dataclass(eq=False)
class Room:
    """One practice consultation: its runtime over its own store, whose it is, and
    the scripted parts that play the chair, the interpreter and the other delegations."""

    owner: tuple[str, str]
    runtime: Runtime
    store: MemoryStore
    participant: str
    speakers: dict[str, str]
    script: Script
    _planned: tuple[Any, ...] | None = None
    _timer: asyncio.TimerHandle | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    #: When it was made (the loop's clock), for ``PracticeRooms.max_age``.
    made_at: float = field(default_factory=lambda: asyncio.get_running_loop().time())

    # --- the scripted chair, interpreter and other delegations ----------------------------

    def follow(self) -> None:
        self.runtime.subscribe(lambda _batch: self.plan())
        self.plan()

    def _next(self, state: ConsultationState) -> tuple[tuple[Any, ...], int, c.Command, str] | None:
        """The scripted parts' next move on this state, if any: (key, delay, command, actor)."""
        script = self.script
        speech, grant, tail = state.speech, state.grant, state.tail
        if speech is not None:
            if speech.participant != self.participant:
                return ("yield", speech.started_at), script.others_speech_ms, c.YieldFloor(id=c.new_id()), speech.participant
            return None
        if tail is not None:
            return ("finish", tail.until), script.booth_finishes_ms, c.BoothFinished(id=c.new_id()), INTERPRETER
        if grant is not None:
            speaker = self.speakers.get(grant.delegation)
            if speaker is None:
                return None
            return ("go_live", grant.granted_at), script.others_go_live_ms, c.GoLive(id=c.new_id()), speaker
        if state.current_item is not None and state.queues.get(state.current_item):
            return ("grant", len(state.speeches)), script.chair_reaction_ms, c.GrantFloor(id=c.new_id()), CHAIR
        return None

    def plan(self) -> None:
        """Schedule the next scripted move, keeping one already planned for the same moment."""
        move = self._next(self.runtime.state)
        key = move[0] if move is not None else None
        if key == self._planned:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._planned = key
        if move is None:
            return
        _, delay, command, actor = move
        self._timer = asyncio.get_running_loop().call_later(delay / 1000, self._fire, command, actor)

    def _fire(self, command: c.Command, actor: str) -> None:
        self._timer = None
        task = asyncio.get_running_loop().create_task(self._act(command, actor))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _act(self, command: c.Command, actor: str) -> None:
        answer = await self.runtime.execute(command, actor)
        if not answer["ok"]:
            # The participant moved first (withdrew, went live): look again.
            log.debug("practice move %s refused: %s", type(command).__name__, answer["error"]["code"])
        self._planned = None
        self.plan()

    async def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.store.close()


def _midday_zone(now_ms: int) -> tuple[str, datetime]:
    """A fixed-offset zone in which ``now`` is between 06:00 and 18:00, and the local
    time there: the practice sitting's slot is open whatever the hour."""
    utc = datetime.fromtimestamp(now_ms / 1000, UTC)
    for hours in range(-12, 15):
        local = utc + timedelta(hours=hours)
        if 6 <= local.hour < 18:
            # IANA's Etc zones have inverted signs: Etc/GMT-2 is UTC+2.
            name = "Etc/GMT" + (f"-{hours}" if hours > 0 else f"+{-hours}" if hours < 0 else "")
            return (name if hours else "UTC"), local
    raise AssertionError("unreachable: some offset always puts now at midday")


def _practice_item(real: ConsultationState) -> Item | None:
    """The real item the participant will speak on: the one under discussion, else the agenda's first."""
    ref = real.current_item or next(iter(real.agenda), None) or next(iter(real.items), None)
    return real.items.get(ref) if ref is not None else None


def _copy_delegation(delegation: Delegation) -> c.Command:
    """The real delegation's ``AddDelegation`` (checked against the protocol as any command is)."""
    fields = msgspec.structs.asdict(delegation)
    return msgspec.convert({"id": c.new_id(), "delegation": fields.pop("id"), **fields}, c.AddDelegation)


def setup_commands(real: ConsultationState, me: Participant, now_ms: int, script: Script) -> tuple[list[c.Command], dict[str, str], str]:
    """The practice consultation's set-up, made by the admin in one append: the
    participant in their own delegation, a chair, an interpreter, a few other
    delegations of the real roster with a speaker each, the real item, an open
    sitting. Returns the commands, each other delegation's speaker and the item's ref."""
    tz, local = _midday_zone(now_ms)
    start = (local - timedelta(hours=1)).strftime("%H:%M")
    end = (local + timedelta(hours=3)).strftime("%H:%M")
    commands: list[c.Command] = [
        c.CreateConsultation(
            id=c.new_id(),
            code=f"{real.code} practice"[:200],
            title=real.title,
            days=[local.date().isoformat()],
            slot_start=start,
            slot_end=end,
            tz=tz,
            tail_ms=script.tail_ms,
            note="A practice consultation: nothing done here reaches the meeting.",
        )
    ]
    own = real.delegations[me.delegation] if me.delegation is not None else None
    if own is not None:
        commands.append(_copy_delegation(own))
    others = sorted(
        (d for d in real.delegations.values() if own is None or d.id != own.id),
        key=lambda d: (d.cls != "council_member", d.name),
    )[:OTHERS]
    speakers: dict[str, str] = {}
    for number, other in enumerate(others, 1):
        speaker = f"practice-speaker-{number}"
        speakers[other.id] = speaker
        commands += [
            _copy_delegation(other),
            c.AddParticipant(
                id=c.new_id(),
                participant=speaker,
                name=other.name,
                role="delegate",
                delegation=other.id,
                languages=["en"],
                designated_speaker=True,
            ),
        ]
    commands += [
        msgspec.convert(
            {
                "id": c.new_id(),
                "participant": me.id,
                "name": me.name,
                "role": "delegate",
                "delegation": me.delegation,
                "languages": me.languages,
                "designated_speaker": True,
            },
            c.AddParticipant,
        ),
        c.AddParticipant(id=c.new_id(), participant=CHAIR, name="Practice chair", role="chair"),
        c.AddParticipant(
            id=c.new_id(), participant=INTERPRETER, name="Practice interpreter", role="interpreter", booth="en", languages=["en", "fr"]
        ),
    ]
    item = _practice_item(real)
    if item is not None:
        commands.append(
            msgspec.convert(
                {
                    "id": c.new_id(),
                    "item": item.ref,
                    "number": item.number,
                    "code": item.code,
                    "section": item.section,
                    "title": item.title,
                    "titles": item.titles,
                    "documents": item.documents[:20],
                    "kind": item.kind,
                    "minutes": item.minutes,
                },
                c.AddItem,
            )
        )
    else:
        commands.append(c.AddItem(id=c.new_id(), item=DRILL_ITEM, number=1, code=DRILL_ITEM, title="Practice item", minutes=15))
    commands.append(c.OpenSitting(id=c.new_id()))
    return commands, speakers, item.ref if item is not None else DRILL_ITEM


def opening_moves(speakers: dict[str, str], item: str) -> list[tuple[c.Command, str]]:
    """The moves that make the drill meaningful from its first second: the item
    taken up, the booth live, one other delegation speaking and another waiting
    in the queue."""
    moves: list[tuple[c.Command, str]] = [
        (c.TakeUpItem(id=c.new_id(), item=item), CHAIR),
        (c.TakeBoothDuty(id=c.new_id()), INTERPRETER),
        (c.SetBoothMic(id=c.new_id(), live=True), INTERPRETER),
    ]
    names = list(speakers.values())
    for speaker in names[:2]:
        moves.append((c.RequestFloor(id=c.new_id()), speaker))
    if names:
        moves += [(c.GrantFloor(id=c.new_id()), CHAIR), (c.GoLive(id=c.new_id()), names[0])]
    return moves


class PracticeRooms:
    """The node's practice consultations, one per participant at most.

    :param max_age: seconds after which a practice consultation is discarded even in use.
    :param end_connections: closes a consultation's connections, telling them
        why (the gateway's; ``None`` where no gateway runs).
    """

    def __init__(
        self,
        service: Service,
        secret: bytes,
        *,
        max_rooms: int = DEFAULT_MAX_ROOMS,
        idle_seconds: float = DEFAULT_IDLE_SECONDS,
        max_age: float = TOKEN_MS / 1000,
        script: Script = Script(),
        end_connections: EndConnections | None = None,
    ) -> None:
        self.service = service
        self.secret = secret
        self.max_rooms = max_rooms
        self.idle_seconds = idle_seconds
        self.max_age = max_age
        self.script = script
        self.end_connections = end_connections
        self.rooms: dict[str, Room] = {}
        self._by_owner: dict[tuple[str, str], Room] = {}
        self._starting: set[tuple[str, str]] = set()
        self._closing: set[asyncio.Task[None]] = set()
        self._sweeper: asyncio.TimerHandle | None = None
        service.on_unload(self._unloaded)

    def of(self, consultation: str, participant: str) -> Room | None:
        """The practice consultation a participant of ``consultation`` is drilling in, if any."""
        return self._by_owner.get((consultation, participant))

    async def start(self, claims: Claims) -> tuple[str, str]:
        """A new practice consultation for the participant a join link names, replacing
        their previous one; returns its id and the token to join it with.

        :raises PracticeRefused: the link names nobody on a real roster, a role that
            does not ask for the floor, or the node holds ``max_rooms`` already.
        """
        if is_practice(claims.consultation):
            raise PracticeRefused(
                403, "not_allowed", "Open the drill from your join link to the consultation, not from a practice session."
            )
        try:
            real = await self.service.existing(claims.consultation)
        except UnknownConsultation:
            raise PracticeRefused(
                403,
                "unknown_consultation",
                "This join link is for a consultation this server does not hold; ask the secretariat for a new link.",
            ) from None
        me = real.state.participants.get(claims.participant)
        if me is None or me.role != claims.role:
            raise PracticeRefused(
                403,
                "unknown_participant",
                "This join link names nobody registered in the consultation; ask the secretariat for a new link.",
            )
        if me.role not in PRACTISING_ROLES:
            raise PracticeRefused(403, "not_allowed", "The floor drill is for delegates, who ask for the floor; your role does not.")
        owner = (claims.consultation, claims.participant)
        if owner in self._starting:
            raise PracticeRefused(
                409,
                "practice_starting",
                "Your practice session is being prepared in another window; use that one, or try again in a moment.",
            )
        previous = self._by_owner.get(owner)
        if previous is None and len(self.rooms) + len(self._starting) >= self.max_rooms:
            metrics.PRACTICE_REFUSED.inc()
            raise PracticeRefused(
                503, "practice_full", f"The server runs {self.max_rooms} floor drills at once, its most: try again in a few minutes."
            )
        self._starting.add(owner)
        try:
            if previous is not None:
                await self.discard(previous)
            room = await self._create(owner, real.state, me)
        finally:
            self._starting.discard(owner)
        expires = min(claims.expires, self.service.clock() + TOKEN_MS)
        token = sign(self.secret, Claims(me.id, me.role, room.runtime.consultation, expires))
        return room.runtime.consultation, token

    async def _create(self, owner: tuple[str, str], real: ConsultationState, me: Participant) -> Room:
        consultation = PREFIX + secrets.token_hex(12)
        store = MemoryStore()
        await store.open()
        runtime = await Runtime.load(store, consultation, self.service.clock)
        commands, speakers, item = setup_commands(real, me, self.service.clock(), self.script)
        answer = await runtime.execute_atomically(commands, ADMIN_ACTOR)
        if answer["ok"]:
            for command, actor in opening_moves(speakers, item):
                answer = await runtime.execute(command, actor)
                if not answer["ok"]:
                    break
        if not answer["ok"]:
            await runtime.close()
            await store.close()
            raise RuntimeError(f"the practice consultation could not be set up: {answer['error']}")
        # The store minted the log's epoch on the first append: the welcome carries it.
        await runtime.catch_up()
        room = Room(owner, runtime, store, me.id, speakers, self.script)
        self.rooms[consultation] = room
        self._by_owner[owner] = room
        self.service.adopt(runtime)
        metrics.PRACTICE_ROOMS.set(len(self.rooms))
        room.follow()
        self._start_sweeping()
        return room

    async def discard(self, room: Room) -> None:
        """End a practice consultation: its connections are told and closed, its runtime unloaded, its memory freed."""
        if self.rooms.get(room.runtime.consultation) is not room:
            return
        self._forget(room)
        if self.end_connections is not None:
            await self.end_connections(room.runtime.consultation, ENDED)
        self.service.discard(room.runtime)
        await room.stop()

    def _forget(self, room: Room) -> None:
        del self.rooms[room.runtime.consultation]
        if self._by_owner.get(room.owner) is room:
            del self._by_owner[room.owner]
        metrics.PRACTICE_ROOMS.set(len(self.rooms))

    def _unloaded(self, runtime: Runtime) -> None:
        """The service unloaded a practice runtime (idle, or beyond its bound): the room goes with it."""
        room = self.rooms.get(runtime.consultation)
        if room is None or room.runtime is not runtime:
            return
        self._forget(room)
        task = asyncio.get_running_loop().create_task(room.stop())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def _start_sweeping(self) -> None:
        if self._sweeper is None:
            every = min(max(min(self.idle_seconds, self.max_age) / 4, 0.05), 30.0)
            self._sweeper = asyncio.get_running_loop().call_later(every, self._sweep)

    def _sweep(self) -> None:
        """Discard the rooms nobody has been connected to, nor sent a command to, for
        ``idle_seconds``, and those older than ``max_age``."""
        self._sweeper = None
        now = asyncio.get_running_loop().time()
        for room in list(self.rooms.values()):
            # A connection's release touches the runtime, as does every command.
            idle = not room.runtime.pins and now - room.runtime.used_at >= self.idle_seconds
            if idle or now - room.made_at >= self.max_age:
                task = asyncio.get_running_loop().create_task(self.discard(room))
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)
        if self.rooms:
            self._start_sweeping()

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        for room in list(self.rooms.values()):
            await self.discard(room)
        await asyncio.gather(*self._closing, return_exceptions=True)
