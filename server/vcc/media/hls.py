"""The webcast's audio: each listener channel as HLS, made by ffmpeg from an
RTP forward of the mix that feeds the channel, and recorded per sitting.

Theory of operation
-------------------
For each consultation the media plane follows, ``HlsChannels`` runs, while a
sitting is open and the media is up, one ffmpeg per listener channel (floor and
six languages), children of vcc (``PR_SET_PDEATHSIG``), started again if they
die. Each ffmpeg receives Opus over RTP on a local UDP port and writes:

- the live HLS rendition of the channel (AAC in MPEG-TS, one-second segments,
  a six-segment playlist): ``<folder>/<consultation>/live/<channel>/index.m3u8``;
- the sitting's recording of the channel (ADTS AAC, playable as it grows, so a
  killed ffmpeg loses nothing written):
  ``<folder>/<consultation>/recordings/<day>/<channel>-<HHMMSS>-<restarts>.aac`` (one
  file per ffmpeg run: a restart starts a new file rather than overwrite one).

The RTP comes from one more AudioBridge ``rtp_forward`` per channel, made here in
the reconciler's Janus session (the mixes are the reconciler's; it rebuilds them
after Janus restarts, and a new session here means: forward again). The forward
follows ``desired.feeds(state)`` as the listeners' channels do: the floor
language's channel carries the floor mix, the others their booth.

Why one-second segments: a player starts about three segments behind the live
edge (hls.js's default, and Safari's), so the segment length sets the webcast's
latency: 1 s segments give about 3-4 s from floor to ear, inside the issue's
6 s; 2 s segments would give 6-8 s. Audio needs no keyframes, so short segments
cost only requests: one playlist and one segment of ~8 KB per second per viewer,
which the HTTP cache in front answers (``deploy/nginx``).

Why ffmpeg stamps packets with the wall clock (``-use_wallclock_as_timestamps``)
and keeps no reorder queue: moving a channel's forward from a booth to the floor
mix starts a new forwarder, whose RTP sequence numbers and timestamps start
again from zero. ffmpeg's RTP reorder queue would drop every packet "older" than
the previous forwarder's for minutes, and RTP timestamps would run backwards; on
localhost packets arrive in order, so arrival time is the right clock.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import shutil
import signal
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ..service import Batch, Runtime, Service
from .desired import CHANNELS, feeds
from .janus_client import JanusError, JanusSession, SessionLost
from .janus_server import JanusUnavailable
from .plane import MediaPlane
from .reconciler import AUDIOBRIDGE, Reconciler

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1
#: Segment length (s), segments in the live playlist: see "Why one-second segments".
SEGMENT_S = 1
PLAYLIST_SEGMENTS = 6
PLAYLIST = "index.m3u8"
#: Pause before starting a dead ffmpeg again, doubled up to the maximum while it keeps dying.
FIRST_RESTART_S = 0.2
MAX_RESTART_S = 5.0
#: How long a SIGTERM'd ffmpeg has to finish its files before the next signal.
STOP_WAIT_S = 1.0
#: Retries of the forwards while Janus is refusing them (the mixes are being rebuilt).
RETRY_S = 0.5
#: A constant SSRC per channel's forward, so the stream ffmpeg receives keeps its identity across swaps.
SSRC_BASE = 0x5EBC_A570


def _die_with_parent() -> None:
    """In the child: ffmpeg gets SIGTERM if vcc dies without stopping it."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _sdp(port: int) -> str:
    """What the forward sends: Opus at 48 kHz, payload type 111 (as the reconciler's forwards)."""
    return (
        "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=vcc\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        f"m=audio {port} RTP/AVP 111\r\na=rtpmap:111 opus/48000/2\r\n"
    )


class FfmpegMissing(JanusUnavailable):
    """The media plane runs, but the webcast's encoder is not installed."""


class ChannelEncoder:
    """One channel's ffmpeg for one sitting: RTP on ``port`` in, live HLS and the recording out."""

    def __init__(self, binary: str, channel: str, live: Path, recordings: Path) -> None:
        self.binary = binary
        self.channel = channel
        self.live = live
        self.recordings = recordings
        self.port = _free_udp_port()
        #: ffmpeg's errors, beside the live folders (not among the files the webcast serves).
        self.log_file = live.parent.parent / f"ffmpeg-{channel}.log"
        self.process: asyncio.subprocess.Process | None = None
        #: Times ffmpeg died and was started again.
        self.restarts = 0
        self._supervisor: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> None:
        self._supervisor = asyncio.ensure_future(self._supervise())

    def _command(self) -> list[str]:
        sdp = self.live / "rtp.sdp"
        # The restart count keeps a restart within the same second from truncating the file before.
        recording = self.recordings / f"{self.channel}-{datetime.now(UTC):%H%M%S}-{self.restarts}.aac"
        run = time.time_ns() // 1000
        hls = (
            f"[f=hls:hls_time={SEGMENT_S}:hls_list_size={PLAYLIST_SEGMENTS}:hls_segment_type=fmp4"
            # Segment numbers from the epoch in microseconds and an init segment named after the run:
            # no name is ever reused (a cache may hold a segment for a day), and a restart moves the
            # playlist's sequence forward, never back.
            f":hls_start_number_source=epoch_us:hls_fmp4_init_filename={run}-init.mp4"
            ":hls_flags=delete_segments+omit_endlist+temp_file"
            f":hls_segment_filename={self.live}/%d.m4s]{self.live}/{PLAYLIST}"
        )
        return [
            self.binary,
            "-hide_banner",
            "-nostdin",
            "-loglevel",
            "error",
            "-protocol_whitelist",
            "file,udp,rtp",
            "-reorder_queue_size",
            "0",
            "-use_wallclock_as_timestamps",
            "1",
            "-i",
            str(sdp),
            "-map",
            "0:a",
            "-af",
            "aresample=async=1000",
            "-ac",
            "1",
            "-ar",
            "48000",
            "-c:a",
            "aac",
            "-b:a",
            "64k",
            "-f",
            "tee",
            f"{hls}|[f=adts]{recording}",
        ]

    async def _supervise(self) -> None:
        pause = FIRST_RESTART_S
        # A new sitting's playlist starts clean: the last sitting's segments are not this one's.
        shutil.rmtree(self.live, ignore_errors=True)
        self.live.mkdir(parents=True)
        self.recordings.mkdir(parents=True, exist_ok=True)
        (self.live / "rtp.sdp").write_text(_sdp(self.port))
        while not self._stopping:
            started = time.monotonic()
            with self.log_file.open("ab") as errors:
                self.process = await asyncio.create_subprocess_exec(
                    *self._command(),
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=errors,
                    start_new_session=True,
                    preexec_fn=_die_with_parent,
                )
            code = await self.process.wait()
            if self._stopping:
                return
            self.restarts += 1
            log.warning("ffmpeg of channel %s exited (%s), starting it again; see %s", self.channel, code, self.log_file)
            pause = FIRST_RESTART_S if time.monotonic() - started > MAX_RESTART_S else min(pause * 2, MAX_RESTART_S)
            await asyncio.sleep(pause)

    async def stop(self) -> None:
        """Stop ffmpeg so that it writes its last segment and closes the recording.

        ffmpeg acts on a first SIGTERM only when its next packet arrives; a second one
        also interrupts a read that waits for a packet (the forward already gone), and
        ffmpeg still finishes its files. A third would not let it finish: SIGKILL then."""
        self._stopping = True
        process = self.process
        for _ in range(2):
            if process is None or process.returncode is not None:
                break
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), STOP_WAIT_S)
            except TimeoutError:
                pass
        if process is not None and process.returncode is None:
            process.kill()
            await process.wait()
        if self._supervisor is not None:
            self._supervisor.cancel()
            await asyncio.gather(self._supervisor, return_exceptions=True)


@dataclass
class _Forward:
    room: str
    port: int
    stream_id: int


class HlsChannels:
    """The HLS renditions and recordings of one consultation, following its reconciler."""

    def __init__(self, reconciler: Reconciler, folder: Path, binary: str) -> None:
        self.reconciler = reconciler
        self.runtime: Runtime = reconciler.runtime
        self.folder = folder
        self.binary = binary
        #: Channel -> its ffmpeg, while a sitting is open.
        self.encoders: dict[str, ChannelEncoder] = {}
        self._day: str | None = None
        self._forwards: dict[str, _Forward] = {}
        self._session: JanusSession | None = None
        self._handle = 0
        self._dirty = asyncio.Event()
        self._dirty.set()
        self._unsubscribe = self.runtime.subscribe(self._on_batch)
        self._task: asyncio.Task[None] | None = None

    def _on_batch(self, batch: Batch) -> None:
        self._dirty.set()

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    async def close(self) -> None:
        self._unsubscribe()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        # The encoders first: ffmpeg ends on SIGTERM at its next packet, so the forwards must still run.
        await self._stop_encoders()
        await self._stop_forwards()

    async def _run(self) -> None:
        while True:
            # The reconciler has made the mixes the state needs (after a Janus restart too).
            await self.reconciler.settled.wait()
            session = self.reconciler.session
            if session is None or session.lost.is_set():
                # The reconciler has yet to notice the loss: it clears ``settled`` when it does.
                await asyncio.sleep(RETRY_S)
                continue
            self._dirty.clear()
            try:
                await self._apply(session)
            except (TimeoutError, SessionLost, JanusError) as exc:
                log.info("webcast forwards of %s not made yet: %s", self.runtime.consultation, exc)
                await asyncio.sleep(RETRY_S)
                continue
            dirty = asyncio.ensure_future(self._dirty.wait())
            lost = asyncio.ensure_future(session.lost.wait())
            try:
                await asyncio.wait({dirty, lost}, return_when=asyncio.FIRST_COMPLETED)
            finally:  # also when this task is cancelled: no waiter is left pending
                dirty.cancel()
                lost.cancel()

    async def _apply(self, session: JanusSession) -> None:
        if session is not self._session:
            # A new session: Janus restarted or vcc reconnected, the mixes were made anew, our forwards died with the old ones.
            self._session = session
            self._forwards = {}
            self._handle = await session.attach(AUDIOBRIDGE)
        state = self.runtime.state
        day = state.sitting.day if state.sitting is not None and state.sitting.closed_at is None else None
        if day != self._day:
            await self._stop_encoders()
            await self._stop_forwards()
            self._day = day
            if day is not None:
                self._start_encoders(day)
        if day is None:
            return
        for channel, room in feeds(state).items():
            port = self.encoders[channel].port
            current = self._forwards.get(channel)
            if current is not None and (current.room != room or current.port != port):
                await self._stop_forward(channel)
            if channel not in self._forwards:
                secrets = self.reconciler.endpoint.secrets
                made = await session.request(
                    self._handle,
                    {
                        "request": "rtp_forward",
                        "room": self.reconciler.room_id(room),
                        "host": "127.0.0.1",
                        "port": port,
                        "codec": "opus",
                        "ptype": 111,
                        "ssrc": SSRC_BASE + CHANNELS.index(channel),
                        "always_on": True,
                        "secret": secrets.room_secret,
                        "admin_key": secrets.admin_key,
                    },
                )
                self._forwards[channel] = _Forward(room, port, int(made["stream_id"]))

    def _start_encoders(self, day: str) -> None:
        base = self.folder / self.runtime.consultation
        for channel in CHANNELS:
            encoder = ChannelEncoder(self.binary, channel, base / "live" / channel, base / "recordings" / day)
            encoder.start()
            self.encoders[channel] = encoder

    async def _stop_encoders(self) -> None:
        encoders, self.encoders = self.encoders, {}
        await asyncio.gather(*(encoder.stop() for encoder in encoders.values()))

    async def _stop_forward(self, channel: str) -> None:
        forward = self._forwards.pop(channel)
        session = self._session
        if session is None or session.lost.is_set():
            return
        secrets = self.reconciler.endpoint.secrets
        await session.request(
            self._handle,
            {
                "request": "stop_rtp_forward",
                "room": self.reconciler.room_id(forward.room),
                "stream_id": forward.stream_id,
                "secret": secrets.room_secret,
                "admin_key": secrets.admin_key,
            },
        )

    async def _stop_forwards(self) -> None:
        for channel in list(self._forwards):
            try:
                await self._stop_forward(channel)
            except (SessionLost, JanusError) as exc:
                # The mix is gone with its forwards (Janus restarted): nothing left to stop.
                log.info("webcast forward of %s not stopped: %s", channel, exc)


class WebcastAudio:
    """The node's webcast audio: ``HlsChannels`` for each consultation the media plane follows,
    and the retention of the recordings."""

    def __init__(self, folder: Path, recordings_days: int, binary: str = "ffmpeg") -> None:
        """Raises ``FfmpegMissing`` when ffmpeg is not installed (before anything is started)."""
        found = shutil.which(binary)
        if found is None:
            raise FfmpegMissing(
                f"The webcast's audio needs ffmpeg ({binary!r} is not on PATH): install Debian's package "
                "(sudo apt-get install ffmpeg, which ./dev setup does), or run with --no-media."
            )
        self.folder = folder
        self.recordings_days = recordings_days
        self.binary = found
        self.channels: dict[str, HlsChannels] = {}
        self._plane: MediaPlane | None = None
        self._cleaner: asyncio.Task[None] | None = None
        self._closing: set[asyncio.Task[None]] = set()

    async def start(self, plane: MediaPlane, service: Service) -> None:
        """Follow what the media plane follows (register after ``plane.start``: its reconcilers exist first)."""
        self._plane = plane
        service.on_load(self.follow)
        service.on_unload(self.unfollow)
        for consultation in list(plane.reconcilers):
            self.follow(plane.reconcilers[consultation].runtime)
        self.remove_expired()
        self._cleaner = asyncio.ensure_future(self._clean_daily())

    def follow(self, runtime: Runtime) -> None:
        assert self._plane is not None
        reconciler = self._plane.reconcilers.get(runtime.consultation)
        if reconciler is None or runtime.consultation in self.channels:
            return
        channels = HlsChannels(reconciler, self.folder, self.binary)
        self.channels[runtime.consultation] = channels
        channels.start()

    def unfollow(self, runtime: Runtime) -> None:
        channels = self.channels.get(runtime.consultation)
        if channels is None or channels.runtime is not runtime:
            return
        del self.channels[runtime.consultation]
        task = asyncio.ensure_future(channels.close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def remove_expired(self, today: datetime | None = None) -> list[Path]:
        """Delete the recordings of sittings older than the retention; returns the folders removed."""
        cutoff = ((today or datetime.now(UTC)) - timedelta(days=self.recordings_days)).date().isoformat()
        removed = []
        for day in sorted(self.folder.glob("*/recordings/*")):
            if day.is_dir() and day.name < cutoff:
                shutil.rmtree(day, ignore_errors=True)
                removed.append(day)
        if removed:
            log.info("recordings past the %d-day retention removed: %s", self.recordings_days, ", ".join(str(d) for d in removed))
        return removed

    async def _clean_daily(self) -> None:
        while True:
            await asyncio.sleep(3600)
            self.remove_expired()

    async def close(self) -> None:
        if self._cleaner is not None:
            self._cleaner.cancel()
        await asyncio.gather(*self._closing, return_exceptions=True)
        await asyncio.gather(*(channels.close() for channels in self.channels.values()))
        self.channels.clear()
