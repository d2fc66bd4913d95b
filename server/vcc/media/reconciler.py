"""The media adapter of one consultation: makes Janus match ``desired_media(state)``.

Theory of operation
-------------------
The reconciler follows the runtime's batches (``Runtime.subscribe``); a batch
only marks it dirty, and one task computes the desired media from the state as
it is then and applies the difference from what it knows Janus holds. Batches
that arrive while calls are in flight are folded into the next pass, so Janus
always converges on the latest state, never replays history.

It owns everything it creates in Janus, in one session: the seven mixes
(AudioBridge rooms), the seven listener channels (Streaming mountpoints), one
RTP forward per channel, and one AudioBridge handle per participant in a mix
(a participant joined by vcc; a browser never holds a handle, so it cannot undo
a mute). Ids carry the consultation (``<consultation>/floor``), so several
consultations can share one Janus.

Calls are ordered so that nobody is heard who should not be: microphones close
first, then participants leave, then forwards are swapped (stopped, then
started: a channel never carries two mixes), then microphones open, then new
participants join. A closed microphone is muted, or, for a booth's partner off
duty, *metered*: unmuted at volume 0, so that AudioBridge measures their talking
(the both-live alarm) while the mix carries none of their sound. Volume and mute
are set by the server's handle, which no browser holds.

What the media hears comes back to the procedure as commands of the media
actor (``@media``), never as a decision taken here: AudioBridge reports who
starts and stops talking in each mix (``talking`` / ``stopped-talking``, measured
over a window of packets); when the state makes that meaningful, the reconciler
sends ``observe_booth_silent`` (a booth in the interpretation tail whose
interpreter on duty was heard to stop) and ``observe_speaker_heard`` (the granted
or live speaker's first audio), and the core accepts or refuses them like any
command. Janus measures only unmuted participants: a muted microphone is never
heard as talking, a metered one is (``observe_both_talking``).

When the session is lost (Janus killed, restarted, unreachable), the known
state is dropped, the procedure carries on, ``status`` says why media is down,
and the reconciler retries with a growing pause (at most ``MAX_RETRY_S``). On
a new session it removes what an earlier session of this consultation left
(rooms and mountpoints survive a vcc restart, not a Janus one) and builds
everything again from the state.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from vcc_protocol import commands as c
from vcc_protocol.vocabulary import MEDIA_ACTOR

from ..service import Batch, Runtime
from . import metrics
from .desired import CHANNELS, FLOOR, ROOMS, DesiredMedia, desired_media
from .janus_client import JanusError, JanusSession, SessionLost
from .janus_server import JanusEndpoint
from .observed import Key, observations

log = logging.getLogger(__name__)

AUDIOBRIDGE = "janus.plugin.audiobridge"
STREAMING = "janus.plugin.streaming"
ECHOTEST = "janus.plugin.echotest"
#: How long the connection test's echo handle lives: its round trip takes a few seconds.
ECHO_HOLD_S = 30.0
FIRST_RETRY_S = 0.1
MAX_RETRY_S = 2.0
#: AudioBridge (1.1.x): the handle's participant is not in a room / no such participant in the room.
#: AudioBridge takes a participant out of the room when their browser's connection ends.
NOT_JOINED = 487
NO_SUCH_USER = 492
NO_SUCH_ROOM = 485
#: Streaming (1.1.x): no such mountpoint.
NO_SUCH_MOUNTPOINT = 455
#: AudioBridge's talking detection: the average audio level (dBov, 0 loudest, 127 silence) over a
#: window of 20 ms packets. Speech in a headset averages well under 40 dBov and a quiet room well
#: over it. The floor's window is short, so the speaker's first words end time to floor within about
#: half a second; a booth's is a second, so an interpreter's breath between sentences is not taken
#: for the end of the interpretation.
TALK_LEVEL = 40
FLOOR_TALK_PACKETS = 25
BOOTH_TALK_PACKETS = 50


class MediaRefused(Exception):
    """A browser's media request refused: a stable code and what the person can do."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


UNAVAILABLE = (
    "Audio is unavailable right now: the media server is down or restarting. It comes back by itself; the meeting goes on meanwhile."
)
#: How long a publish waits for the reconciler to connect a participant the procedure has just put in a mix.
JOIN_WAIT_S = 3.0


@dataclass
class MediaStatus:
    """What the technical team sees: is the media plane up for this consultation, and if not, why."""

    up: bool = False
    reason: str = "connecting to Janus"
    #: Since when (ms since the epoch) it has been so.
    since: int = field(default_factory=lambda: time.time_ns() // 1_000_000)
    #: Sessions lost since the node started.
    losses: int = 0


@dataclass
class _Actual:
    """What this session has made in Janus."""

    #: Mix -> participant -> microphone open.
    members: dict[str, dict[str, bool]] = field(default_factory=dict)
    #: (mix, participant) -> the AudioBridge handle that joined them.
    handles: dict[tuple[str, str], int] = field(default_factory=dict)
    #: Channel -> (mix feeding it, forward id).
    forwards: dict[str, tuple[str, int]] = field(default_factory=dict)
    #: Channel -> the UDP port its mountpoint receives on.
    ports: dict[str, int] = field(default_factory=dict)
    #: Participant -> the Streaming handle of their listening connection.
    listeners: dict[str, int] = field(default_factory=dict)
    #: Participant -> the EchoTest handle of their connection test's round trip.
    echoes: dict[str, int] = field(default_factory=dict)
    #: (mix, participant) -> talking, as AudioBridge last reported it (absent: never reported).
    talking: dict[tuple[str, str], bool] = field(default_factory=dict)
    #: (mix, participant) whose handle carries a browser's connection already.
    published: set[tuple[str, str]] = field(default_factory=set)
    #: (mix, participant) unmuted at volume 0: measured, never heard.
    metered: set[tuple[str, str]] = field(default_factory=set)
    #: (mix, participant) whose volume is 0 (the metered ones, and muted ones that were).
    quiet: set[tuple[str, str]] = field(default_factory=set)


class Reconciler:
    #: AudioBridge's buffer per participant before their audio goes into the mix, in 20 ms
    #: packets. Each packet is latency between a grant and the listeners; too few and a
    #: jittery network makes the mix stutter. Janus's default of 6 (120 ms) put grant ->
    #: sound at a p50 of 268 ms; 3 gave 211 ms and 2 gave 187 ms, in one run with the values
    #: taken in turn (``bench_media.py --prebuffering 6,3,2``, bench/README.md). 3 meets the
    #: 250 ms target and keeps 60 ms against a delegate's network jitter.
    prebuffering = 3

    def __init__(self, runtime: Runtime, endpoint: JanusEndpoint, http: aiohttp.ClientSession, announce: bool = False) -> None:
        """:param announce: call ``on_rebuilt`` after the first build too (a node taking over
        another's lease: the browsers' connections went to the old holder's handles)."""
        self.runtime = runtime
        self.endpoint = endpoint
        self.http = http
        self.status = MediaStatus()
        self.session: JanusSession | None = None
        self._control: dict[str, int] = {}
        self._actual = _Actual()
        self._dirty = asyncio.Event()
        self._dirty.set()
        #: Set after each pass that left Janus matching the state (tests and benchmarks wait on it).
        self.settled = asyncio.Event()
        #: Called with the consultation once Janus holds everything again after a lost
        #: session, so the browsers make new connections (theirs died with the old Janus).
        self.on_rebuilt: Callable[[str], None] | None = None
        self._rebuilding = False
        self._announce = announce
        self._unsubscribe = runtime.subscribe(self._on_batch)
        self._task: asyncio.Task[None] | None = None
        #: The observations already sent, each keyed by what it is about (a tail, a grant, a speech).
        self._observed: set[Key] = set()
        #: Observations being sent and echo handles being released: awaited on close.
        self._background: set[asyncio.Task[None]] = set()
        self._label = runtime.consultation
        metrics.JANUS_UP.labels(self._label).set(0)

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    async def close(self) -> None:
        self._unsubscribe()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await asyncio.gather(*self._background, return_exceptions=True)
        if self.session is not None:
            await self.session.close()
        metrics.JANUS_UP.labels(self._label).set(0)

    @property
    def quiet(self) -> frozenset[tuple[str, str]]:
        """(mix, participant) whose volume this reconciler set to 0 (Janus does not list volumes)."""
        return frozenset(self._actual.quiet)

    def room_id(self, room: str) -> str:
        return f"{self.runtime.consultation}/{room}"

    def mount_id(self, channel: str) -> str:
        return f"{self.runtime.consultation}/ch-{channel}"

    def _on_batch(self, batch: Batch) -> None:
        self.settled.clear()
        self._dirty.set()
        self._observe()

    # --- what the media hears, back to the procedure ----------------------------------

    def _on_janus_event(self, handle: int, data: dict[str, Any], jsep: dict[str, Any] | None) -> None:
        kind = data.get("audiobridge")
        if kind not in ("talking", "stopped-talking"):
            return
        prefix = f"{self.runtime.consultation}/"
        room, participant = str(data.get("room", "")), str(data.get("id", ""))
        if not room.startswith(prefix):
            return
        key = (room.removeprefix(prefix), participant)
        talking = kind == "talking"
        # Every handle in the mix gets the event: the first one counts.
        if self._actual.talking.get(key) == talking or key[0] not in self._actual.members:
            return
        self._actual.talking[key] = talking
        self._observe()

    def _observe(self) -> None:
        """Send what the media heard that the procedure can use now, once each."""
        wanted = observations(self.runtime.state, self._actual.talking)
        for key, command in wanted.items():
            if key not in self._observed:
                task = asyncio.ensure_future(self._report(command))
                self._background.add(task)
                task.add_done_callback(self._background.discard)
        self._observed = set(wanted)

    async def _report(self, command: c.Command) -> None:
        answer = await self.runtime.execute(command, MEDIA_ACTOR)
        if not answer["ok"]:
            # The procedure moved on meanwhile (the booth finished by hand, the grant revoked): nothing to do.
            log.info("media observation %s refused: %s", type(command).__name__, answer["error"])

    # --- the loop ----------------------------------------------------------------------

    async def _run(self) -> None:
        pause = FIRST_RETRY_S
        while True:
            try:
                await self._connect()
                pause = FIRST_RETRY_S
                await self._follow()
            except (TimeoutError, SessionLost, JanusError) as exc:
                self._down(str(exc))
            except Exception as exc:
                # A bug here must not leave the consultation without media for the rest of the sitting.
                log.exception("the media adapter of %s failed; rebuilding", self._label)
                self._down(f"internal error ({exc!r})")
            if self.session is not None:
                await self.session.close()
                self.session = None
            await asyncio.sleep(pause)
            pause = min(pause * 2, MAX_RETRY_S)

    def _down(self, reason: str) -> None:
        if self.status.up or self._control:
            self.status.losses += 1
            metrics.JANUS_LOST.labels(self._label).inc()
            log.warning("media of %s down: %s", self._label, reason)
        self.status = MediaStatus(up=False, reason=f"Janus unavailable: {reason}", losses=self.status.losses)
        metrics.JANUS_UP.labels(self._label).set(0)
        self._actual = _Actual()
        self._control = {}
        self.settled.clear()
        self._dirty.set()

    async def _connect(self) -> None:
        self.session = await JanusSession.create(self.http, self.endpoint.url, self.endpoint.secrets.api_secret)
        self.session.on_event = self._on_janus_event
        self._control = {AUDIOBRIDGE: await self.session.attach(AUDIOBRIDGE), STREAMING: await self.session.attach(STREAMING)}
        await self._clear_leftovers()
        self._rebuilding = self.status.losses > 0 or self._announce
        self._announce = False
        metrics.REBUILDS.labels(self._label).inc()
        self._dirty.set()

    def _up(self) -> None:
        """Janus holds what the state needs: browsers may connect."""
        if not self.status.up:
            self.status = MediaStatus(up=True, reason="", losses=self.status.losses)
            metrics.JANUS_UP.labels(self._label).set(1)

    async def _follow(self) -> None:
        session = self.session
        assert session is not None
        lost = asyncio.ensure_future(session.lost.wait())
        dirty: asyncio.Future[bool] | None = None
        try:
            while True:
                dirty = asyncio.ensure_future(self._dirty.wait())
                await asyncio.wait({dirty, lost}, return_when=asyncio.FIRST_COMPLETED)
                dirty.cancel()
                if session.lost.is_set():
                    raise SessionLost(session.lost_reason)
                self._dirty.clear()
                if self.runtime.state.created:
                    started = time.perf_counter()
                    await self._apply(desired_media(self.runtime.state))
                    metrics.RECONCILE_SECONDS.observe(time.perf_counter() - started)
                self._up()
                if not self._dirty.is_set():
                    self.settled.set()
                    if self._rebuilding and self.on_rebuilt is not None:
                        self.on_rebuilt(self.runtime.consultation)
                    self._rebuilding = False
        finally:  # also when this task is cancelled: no waiter is left pending
            lost.cancel()
            if dirty is not None:
                dirty.cancel()

    # --- calls -------------------------------------------------------------------------

    async def _ab(self, body: dict[str, object]) -> dict[str, object]:
        assert self.session is not None
        return await self.session.request(self._control[AUDIOBRIDGE], body)

    async def _st(self, body: dict[str, object]) -> dict[str, object]:
        assert self.session is not None
        return await self.session.request(self._control[STREAMING], body)

    async def _clear_leftovers(self) -> None:
        """Destroy the rooms and mountpoints an earlier session of this consultation left (a vcc
        restart, or another node's adapter before a failover). By id: private rooms are not listed."""
        secret = self.endpoint.secrets.room_secret
        for room in ROOMS:
            try:
                await self._ab({"request": "destroy", "room": self.room_id(room), "secret": secret})
            except JanusError as refused:
                if refused.code != NO_SUCH_ROOM:
                    raise
        for channel in CHANNELS:
            try:
                await self._st({"request": "destroy", "id": self.mount_id(channel), "secret": secret})
            except JanusError as refused:
                if refused.code != NO_SUCH_MOUNTPOINT:
                    raise

    async def _build(self) -> None:
        secrets_ = self.endpoint.secrets
        for room in ROOMS:
            await self._ab(
                {
                    "request": "create",
                    "room": self.room_id(room),
                    "admin_key": secrets_.admin_key,
                    "secret": secrets_.room_secret,
                    "permanent": False,
                    "is_private": True,
                    "sampling_rate": 48000,
                    "default_prebuffering": self.prebuffering,
                    "audiolevel_event": True,
                    "audio_level_average": TALK_LEVEL,
                    "audio_active_packets": FLOOR_TALK_PACKETS if room == FLOOR else BOOTH_TALK_PACKETS,
                }
            )
            self._actual.members[room] = {}
        for channel in CHANNELS:
            made = await self._st(
                {
                    "request": "create",
                    "type": "rtp",
                    "id": self.mount_id(channel),
                    "admin_key": secrets_.admin_key,
                    "secret": secrets_.room_secret,
                    "permanent": False,
                    "is_private": True,
                    "media": [{"type": "audio", "mid": "a", "port": 0, "pt": 111, "codec": "opus"}],
                }
            )
            self._actual.ports[channel] = int(made["stream"]["ports"][0]["port"])  # type: ignore[index]

    async def _apply(self, desired: DesiredMedia) -> None:
        if not self._actual.ports:
            await self._build()
        actual = self._actual
        secret = self.endpoint.secrets.room_secret
        for room, members in actual.members.items():
            for participant, open_ in list(members.items()):
                # Closing comes first: open -> muted or metered, and a closed one between the two.
                place = (room, participant)
                metered = place in desired.metered
                if desired.rooms[room].get(participant) is False and (open_ or (place in actual.metered) != metered):
                    await self._set_mic(room, participant, False, metered=metered)
        for room, members in actual.members.items():
            for participant in [p for p in members if p not in desired.rooms[room]]:
                await self._leave(room, participant)
        for channel, room in desired.feeds.items():
            current = actual.forwards.get(channel)
            if current is not None and current[0] != room:
                await self._ab(
                    {
                        "request": "stop_rtp_forward",
                        "room": self.room_id(current[0]),
                        "stream_id": current[1],
                        "secret": secret,
                        "admin_key": self.endpoint.secrets.admin_key,
                    }
                )
                del actual.forwards[channel]
            if channel not in actual.forwards:
                made = await self._ab(
                    {
                        "request": "rtp_forward",
                        "room": self.room_id(room),
                        "host": "127.0.0.1",
                        "port": actual.ports[channel],
                        "codec": "opus",
                        "ptype": 111,
                        "always_on": True,
                        "secret": secret,
                        "admin_key": self.endpoint.secrets.admin_key,
                    }
                )
                actual.forwards[channel] = (room, int(made["stream_id"]))  # type: ignore[call-overload]
        for room, members in actual.members.items():
            for participant, open_ in list(members.items()):
                if not open_ and desired.rooms[room].get(participant) is True:
                    await self._set_mic(room, participant, True)
        for room, wanted_members in desired.rooms.items():
            for participant, open_ in wanted_members.items():
                if participant not in actual.members[room]:
                    await self._join(room, participant, open_, (room, participant) in desired.metered)

    async def _set_mic(self, room: str, participant: str, open_: bool, metered: bool = False) -> None:
        """Open or close a member's microphone (closed and ``metered``: unmuted at volume 0),
        never making them heard on the way: the volume falls before an unmute and rises
        only under a mute, or last."""
        place = (room, participant)
        actual = self._actual
        try:
            if open_:
                if place in actual.quiet:
                    await self._volume(place, 100)
                if place not in actual.metered:
                    await self._mute(place, False)
            elif metered:
                if actual.members[room][participant] or place not in actual.quiet:
                    await self._volume(place, 0)
                if not actual.members[room][participant] and place not in actual.metered:
                    await self._mute(place, False)
            else:
                await self._mute(place, True)
        except JanusError as refused:
            if refused.code not in (NO_SUCH_USER, NOT_JOINED):
                raise
            # Their browser's connection ended and AudioBridge let them go: back in, as the state wants.
            await self._rejoin(room, participant, open_, metered)
        actual.members[room][participant] = open_
        _mark(actual.metered, place, not open_ and metered)

    async def _mute(self, place: tuple[str, str], muted: bool) -> None:
        room, participant = place
        request = "mute" if muted else "unmute"
        await self._ab({"request": request, "room": self.room_id(room), "id": participant, "secret": self.endpoint.secrets.room_secret})
        self._actual.metered.discard(place)

    async def _volume(self, place: tuple[str, str], volume: int) -> None:
        assert self.session is not None
        await self.session.message(self._actual.handles[place], {"request": "configure", "volume": volume})
        _mark(self._actual.quiet, place, volume == 0)

    async def _rejoin(
        self, room: str, participant: str, open_: bool, metered: bool, jsep: dict[str, object] | None = None
    ) -> dict[str, object] | None:
        """Join again on a new handle (the old one's connection is over); with a browser's offer, its answer."""
        assert self.session is not None
        old = self._actual.handles.pop((room, participant))
        self._actual.talking.pop((room, participant), None)
        try:
            await self.session.detach(old)
        except JanusError as refused:
            log.info("old handle of %s not detached: %s", participant, refused)
        handle = await self.session.attach(AUDIOBRIDGE)
        self._actual.handles[(room, participant)] = handle
        _, answer = await self.session.message(handle, self._join_body(room, participant, open_, metered), jsep)
        return answer

    async def _join(self, room: str, participant: str, open_: bool, metered: bool) -> None:
        assert self.session is not None
        handle = await self.session.attach(AUDIOBRIDGE)
        await self.session.message(handle, self._join_body(room, participant, open_, metered))
        self._actual.handles[(room, participant)] = handle
        self._actual.members[room][participant] = open_

    def _join_body(self, room: str, participant: str, open_: bool, metered: bool) -> dict[str, object]:
        """Heard (``open_``), muted, or metered (unmuted at volume 0) from the moment they join."""
        place = (room, participant)
        metered = metered and not open_
        _mark(self._actual.metered, place, metered)
        _mark(self._actual.quiet, place, metered)
        name = self.runtime.state.participants[participant].name
        body: dict[str, object] = {"request": "join", "room": self.room_id(room), "id": participant, "display": name}
        body.update({"muted": False, "volume": 0} if metered else {"muted": not open_})
        return body

    async def _leave(self, room: str, participant: str) -> None:
        assert self.session is not None
        place = (room, participant)
        if self._actual.members[room][participant]:
            # Closed first, and acknowledged: AudioBridge may go on mixing a detached handle's
            # participant for a moment, and a revoked speaker must not be heard in it (a metered
            # one is at volume 0 already).
            try:
                await self._mute(place, True)
            except JanusError as refused:
                if refused.code not in (NO_SUCH_USER, NOT_JOINED):
                    raise
        handle = self._actual.handles.pop(place)
        del self._actual.members[room][participant]
        self._actual.talking.pop(place, None)
        self._actual.published.discard(place)
        self._actual.metered.discard(place)
        self._actual.quiet.discard(place)
        await self.session.detach(handle)

    # --- signalling: the browser asks, the server holds the handles -------------------

    def _live_session(self) -> JanusSession:
        if not self.status.up or self.session is None or self.session.lost.is_set():
            raise MediaRefused("media_unavailable", UNAVAILABLE)
        return self.session

    async def listen(self, participant: str, channel: str) -> str:
        """A new listening connection on ``channel``: the server's SDP offer."""
        session = self._live_session()
        old = self._actual.listeners.pop(participant, None)
        if old is not None:
            await session.detach(old)
        handle = await session.attach(STREAMING)
        self._actual.listeners[participant] = handle
        _, jsep = await session.message(handle, {"request": "watch", "id": self.mount_id(channel)})
        if jsep is None:
            raise MediaRefused("media_unavailable", UNAVAILABLE)
        return str(jsep["sdp"])

    async def stop_listening(self, participant: str) -> None:
        """The participant's last connection closed: their listening and echo handles go (their mix place is the procedure's)."""
        handle = self._actual.listeners.pop(participant, None)
        if handle is not None and self.session is not None and not self.session.lost.is_set():
            await self.session.detach(handle)
        await self._end_echo(participant)

    async def echo(self, participant: str, sdp: str) -> str:
        """The connection test's round trip: a handle that sends the browser's audio back to it alone."""
        session = self._live_session()
        await self._end_echo(participant)
        handle = await session.attach(ECHOTEST)
        self._actual.echoes[participant] = handle
        asyncio.get_running_loop().call_later(ECHO_HOLD_S, self._expire_echo, participant, handle)
        _, jsep = await session.message(handle, {"audio": True, "video": False, "data": False}, {"type": "offer", "sdp": sdp})
        if jsep is None:
            raise MediaRefused("invalid_sdp", "The media server did not accept this offer; run the test again.")
        return str(jsep["sdp"])

    def _expire_echo(self, participant: str, handle: int) -> None:
        if self._actual.echoes.get(participant) == handle:
            task = asyncio.ensure_future(self._end_echo(participant))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _end_echo(self, participant: str) -> None:
        handle = self._actual.echoes.pop(participant, None)
        if handle is not None and self.session is not None and not self.session.lost.is_set():
            try:
                await self.session.detach(handle)
            except (JanusError, SessionLost) as exc:
                log.info("echo handle of %s not detached: %s", participant, exc)

    def listening(self) -> set[str]:
        """The participants whose browser holds a listening connection now."""
        return set(self._actual.listeners)

    def _listener(self, participant: str) -> int:
        handle = self._actual.listeners.get(participant)
        if handle is None:
            raise MediaRefused("invalid_media_request", "Ask to listen (op 'listen') first, then answer the offer or switch channel.")
        return handle

    async def answer(self, participant: str, sdp: str) -> None:
        session = self._live_session()
        await session.message(self._listener(participant), {"request": "start"}, {"type": "answer", "sdp": sdp})

    async def switch(self, participant: str, channel: str) -> None:
        session = self._live_session()
        await session.message(self._listener(participant), {"request": "switch", "id": self.mount_id(channel)})

    async def _mix_handle(self, participant: str) -> int:
        return (await self._mix_place(participant))[1]

    async def _mix_place(self, participant: str) -> tuple[str, int]:
        """The mix the procedure put the participant in, and the server's handle there."""
        deadline = asyncio.get_running_loop().time() + JOIN_WAIT_S
        while True:
            for (room, who), handle in self._actual.handles.items():
                if who == participant:
                    return room, handle
            wanted = any(participant in members for members in desired_media(self.runtime.state).rooms.values())
            if not wanted:
                raise MediaRefused(
                    "not_in_mix",
                    "Your microphone is not connected: ask for the floor (delegates) or take duty in your booth (interpreters) first.",
                )
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise MediaRefused("media_unavailable", UNAVAILABLE)
            # The procedure has just put them in a mix: the reconciler's pass is under way.
            self.settled.clear()
            self._dirty.set()
            await asyncio.wait_for(self.settled.wait(), remaining)

    async def publish(self, participant: str, sdp: str) -> str:
        """The microphone into the participant's mix: the server's SDP answer. The
        body carries no ``muted``: whether they are heard stays the procedure's."""
        session = self._live_session()
        room, handle = await self._mix_place(participant)
        offer = {"type": "offer", "sdp": sdp}
        place = (room, participant)
        open_ = self._actual.members[room][participant]
        if place in self._actual.published:
            # A new page (a reload, a second tab): the handle's connection is the old
            # page's, which Janus may still hold for a while, so a configure there would
            # answer for a connection nobody uses. Join again on a new handle.
            jsep = await self._rejoin(room, participant, open_, place in self._actual.metered, offer)
        else:
            try:
                _, jsep = await session.message(handle, {"request": "configure"}, offer)
            except JanusError as refused:
                if refused.code != NOT_JOINED:
                    raise
                # AudioBridge let the participant go: they join again, with the microphone as the procedure has it.
                jsep = await self._rejoin(room, participant, open_, place in self._actual.metered, offer)
        if jsep is None:
            raise MediaRefused("invalid_sdp", "The media server did not accept this offer; reload the page to make a new one.")
        self._actual.published.add(place)
        return str(jsep["sdp"])

    async def publisher_stats(self, participant: str) -> dict[str, object]:
        """What Janus sees of a participant's microphone connection (Admin API ``handle_info``):
        ICE state, the selected candidate pair, audio packets received."""
        session = self._live_session()
        if self.endpoint.admin_url is None:
            raise MediaRefused("media_unavailable", "This Janus was given without its Admin API; connection details are not available.")
        handle = await self._mix_handle(participant)
        body = {"janus": "handle_info", "transaction": "stats", "admin_secret": self.endpoint.secrets.admin_secret}
        try:
            async with self.http.post(
                f"{self.endpoint.admin_url}/{session.id}/{handle}", json=body, timeout=aiohttp.ClientTimeout(total=2)
            ) as reply:
                info = (await reply.json(content_type=None)).get("info", {})
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            raise MediaRefused("media_unavailable", f"The media server's Admin API did not answer ({exc!r}).") from None
        webrtc = info.get("webrtc", {})
        media = webrtc.get("media", {})
        received = sum(int(m.get("stats", {}).get("in", {}).get("packets", 0)) for m in media.values()) if isinstance(media, dict) else 0
        ice = webrtc.get("ice", {})
        return {"ice": ice.get("state"), "pair": ice.get("selected-pair"), "packets_in": received}

    async def trickle(self, participant: str, stream: str, candidate: dict[str, object] | None) -> None:
        session = self._live_session()
        if stream == "echo":
            handle = self._actual.echoes.get(participant)
            if handle is None:
                raise MediaRefused("invalid_media_request", "Start the round trip (op 'echo') first, then send its candidates.")
        else:
            handle = self._listener(participant) if stream == "listen" else await self._mix_handle(participant)
        await session.trickle(handle, candidate)


def _mark(places: set[tuple[str, str]], place: tuple[str, str], member: bool) -> None:
    if member:
        places.add(place)
    else:
        places.discard(place)
