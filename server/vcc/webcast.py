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
from typing import Any

from .core.views import webcast_view
from .reports import captions
from .service import Runtime, Service

#: A consultation id as the store accepts it; anything else is not looked up at all.
NAME = re.compile(r"^[A-Za-z0-9_.-]{1,80}$")


@dataclass(frozen=True)
class Snapshot:
    body: bytes
    etag: str


def _snapshot(view: dict[str, Any]) -> Snapshot:
    body = json.dumps(view, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
    return Snapshot(body, f'"{hashlib.sha256(body).hexdigest()[:32]}"')


class Webcast:
    def __init__(self, service: Service) -> None:
        self.service = service
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
