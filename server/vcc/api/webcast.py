"""The public webcast's state: small JSON snapshots, made once per change and
served with an ETag, for any number of viewers behind an HTTP cache.

Viewers never hold a socket.io connection: a page polls one stable URL
(``/webcast/<consultation>/state.json``) with ``If-None-Match``; the node
answers from memory (304 when nothing changed), and nginx in front
(``deploy/nginx``) serves the same bytes to every viewer for up to a second,
collapsing concurrent misses into one request to the node. Why polling and not
server-sent events: ``docs/webcast.md``.

Only a consultation that exists in the store and that the secretariat opened
to the public (``SetWebcast``) is served. A name that is not in the store is
answered 404 after one read of the store (``Service.exists``): an unknown name
loads nothing and allocates nothing that outlives its request.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.views import webcast_view
from ..documents.reports import captions
from ..media.desired import CHANNELS
from ..service import Runtime, Service

#: A consultation id as the store accepts it; anything else is not looked up at all.
NAME = re.compile(r"^[A-Za-z0-9_.-]{1,80}$")
#: What ffmpeg writes in a channel's live folder (``vcc.media.hls``): the playlist and epoch-numbered segments.
LIVE_FILE = re.compile(r"^(index\.m3u8|\d{1,20}\.m4s|\d{1,20}-init\.mp4)$")
#: A channel's recording of one ffmpeg run in a sitting.
RECORDING_FILE = re.compile(r"^([a-z]{2}|floor)-\d{6}-\d{1,6}\.aac$")


@dataclass(frozen=True)
class Snapshot:
    body: bytes
    etag: str


def _snapshot(view: dict[str, Any]) -> Snapshot:
    body = json.dumps(view, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
    return Snapshot(body, f'"{hashlib.sha256(body).hexdigest()[:32]}"')


class Webcast:
    def __init__(self, service: Service, audio: Path | None = None) -> None:
        self.service = service
        #: Where ``vcc.media.hls`` writes the live HLS and the recordings (None: no webcast audio on this node).
        self.audio = audio
        service.on_unload(self._forget)
        #: Consultation -> its latest snapshot, for the consultations viewers asked for.
        self._snapshots: dict[str, Snapshot] = {}
        #: (consultation, day) -> the closed sitting's WebVTT: final once the sitting is closed
        #: (corrections need an open sitting), so it is read from the log once.
        self._archive: dict[tuple[str, str], Snapshot] = {}

    def _forget(self, runtime: Runtime) -> None:
        """An unloaded runtime no longer calls back: its snapshot is made anew when it is loaded again."""
        self._snapshots.pop(runtime.consultation, None)

    async def snapshot(self, consultation: str) -> Snapshot | None:
        """The consultation's public snapshot, or None when it does not exist or is not webcast."""
        if not NAME.match(consultation) or not await self.service.exists(consultation):
            return None
        runtime = await self.service.runtime(consultation)
        if consultation not in self._snapshots:

            def changed(*_: object) -> None:
                # Once per batch of events: re-made only when its bytes change.
                fresh = _snapshot(webcast_view(runtime.state))
                current = self._snapshots.get(consultation)
                if current is not None and fresh.etag != current.etag:
                    self._snapshots[consultation] = fresh

            self._snapshots[consultation] = _snapshot(webcast_view(runtime.state))
            runtime.subscribe(changed)
        if not runtime.state.created or not runtime.state.webcast:
            return None
        return self._snapshots[consultation]

    async def sitting_captions(self, consultation: str, day: str) -> Snapshot | None:
        """The WebVTT of a closed sitting of a webcast consultation, or None."""
        if await self.snapshot(consultation) is None:
            return None
        key = (consultation, day)
        if key not in self._archive:
            runtime = await self.service.runtime(consultation)
            sitting = next((s for s in runtime.state.sittings if s.day == day), None)
            if sitting is None:
                return None
            text = captions.to_webvtt(captions.cues(captions.record(await runtime.history()), sitting), f"{runtime.state.code} {day}")
            body = text.encode()
            self._archive[key] = Snapshot(body, f'"{hashlib.sha256(body).hexdigest()[:32]}"')
        return self._archive[key]

    async def live_file(self, consultation: str, channel: str, name: str) -> Path | None:
        """A live playlist or segment of a webcast consultation's channel while a sitting is open, or None
        (the last sitting's files stay on disk until the next one opens, but they are not live)."""
        if self.audio is None or channel not in CHANNELS or not LIVE_FILE.match(name) or await self.snapshot(consultation) is None:
            return None
        if (await self.service.runtime(consultation)).state.sitting is None:
            return None
        path = self.audio / consultation / "live" / channel / name
        return path if path.is_file() else None

    async def _closed_days(self, consultation: str) -> list[str]:
        runtime = await self.service.runtime(consultation)
        return [s.day for s in runtime.state.sittings if s.closed_at is not None]

    async def recording_file(self, consultation: str, day: str, name: str) -> Path | None:
        """A channel's recording of a closed sitting (a file no longer written to), or None."""
        if self.audio is None or not RECORDING_FILE.match(name) or await self.snapshot(consultation) is None:
            return None
        if day not in await self._closed_days(consultation):
            return None
        path = self.audio / consultation / "recordings" / day / name
        return path if path.is_file() else None

    async def archive(self, consultation: str) -> list[dict[str, Any]] | None:
        """The closed sittings, newest first, each with its captions and the recordings still kept
        (the retention removes old ones), or None when the consultation is not webcast."""
        if await self.snapshot(consultation) is None:
            return None
        base = f"/webcast/{consultation}"
        out = []
        for day in reversed(await self._closed_days(consultation)):
            folder = self.audio / consultation / "recordings" / day if self.audio is not None else None
            files = sorted(p for p in folder.iterdir() if RECORDING_FILE.match(p.name)) if folder is not None and folder.is_dir() else []
            recordings = [
                {"channel": p.name.split("-", 1)[0], "url": f"{base}/recordings/{day}/{p.name}", "bytes": p.stat().st_size} for p in files
            ]
            out.append({"day": day, "captions": f"{base}/captions/{day}.vtt", "recordings": recordings})
        return out
