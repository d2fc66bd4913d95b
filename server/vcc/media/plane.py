"""The node's media plane: a Janus (started by vcc, or an existing one) and one
reconciler per consultation the node serves.

With the media plane down, the procedure keeps working: commands never wait
on Janus. ``status()`` says, per consultation, whether the media is up and, if
not, why; ``vcc_media_janus_up`` says the same to Prometheus.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

import aiohttp

from typing import Any

from vcc_protocol.media import MediaAnswer, MediaEcho, MediaIce, MediaListen, MediaPublish, MediaRequest, MediaSwitch, sdp_problem

from ..service import Runtime, Service
from .janus_client import JanusError, SessionLost
from .janus_server import JanusEndpoint, JanusProcess, JanusSecrets
from .reconciler import UNAVAILABLE, MediaRefused, MediaStatus, Reconciler

log = logging.getLogger(__name__)


class MediaPlane:
    """Create with ``managed(...)`` or ``external(...)``, then ``await start(service)``."""

    def __init__(self, endpoint: JanusEndpoint | None = None, process: JanusProcess | None = None) -> None:
        self.endpoint = endpoint
        self.process = process
        self.reconcilers: dict[str, Reconciler] = {}
        #: Called with a consultation whose media was rebuilt after Janus came back (the gateway tells the browsers).
        self.on_rebuilt: Callable[[str], None] | None = None
        self._http: aiohttp.ClientSession | None = None
        self._closing: set[asyncio.Task[None]] = set()

    @classmethod
    def managed(cls, folder: Path) -> MediaPlane:
        """Janus as a child process, configured in ``folder`` (secrets, config, log)."""
        return cls(process=JanusProcess(folder))

    @classmethod
    def external(cls, url: str, folder: Path) -> MediaPlane:
        """An existing Janus at ``url``, configured with this installation's secrets (``vcc janus-config``)."""
        return cls(endpoint=JanusEndpoint(url.rstrip("/"), JanusSecrets.load_or_create(folder / "secrets.json")))

    async def start(self, service: Service) -> None:
        """Start Janus if vcc manages it, then follow every consultation the node has or loads."""
        if self.process is not None:
            self.endpoint = await self.process.start()
        self._http = aiohttp.ClientSession()
        service.on_load(self.follow)
        service.on_unload(self.unfollow)
        for consultation in service.loaded:
            self.follow(await service.runtime(consultation))

    def follow(self, runtime: Runtime) -> None:
        if runtime.consultation in self.reconcilers or self.endpoint is None or self._http is None:
            return
        reconciler = Reconciler(runtime, self.endpoint, self._http)
        reconciler.on_rebuilt = self._rebuilt
        self.reconcilers[runtime.consultation] = reconciler
        reconciler.start()

    def unfollow(self, runtime: Runtime) -> None:
        """An unloaded consultation (nobody connected, nothing due) leaves the media alone
        until it is loaded again; its reconciler would follow a state that no longer moves."""
        reconciler = self.reconcilers.get(runtime.consultation)
        if reconciler is None or reconciler.runtime is not runtime:
            return
        del self.reconcilers[runtime.consultation]
        task = asyncio.get_running_loop().create_task(reconciler.close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def _rebuilt(self, consultation: str) -> None:
        if self.on_rebuilt is not None:
            self.on_rebuilt(consultation)

    def status(self, consultation: str) -> MediaStatus:
        reconciler = self.reconcilers.get(consultation)
        return reconciler.status if reconciler is not None else MediaStatus(up=False, reason="no media adapter follows this consultation on this node")

    async def signal(self, consultation: str, participant: str, request: MediaRequest) -> dict[str, Any]:
        """A browser's media request, answered like a command: ``{ok, sdp?}`` or ``{ok: false, error}``."""
        reconciler = self.reconcilers.get(consultation)
        try:
            if reconciler is None:
                raise MediaRefused("media_unavailable", UNAVAILABLE)
            return {"ok": True, **await _dispatch(reconciler, participant, request)}
        except MediaRefused as refused:
            return {"ok": False, "error": {"code": refused.code, "message": refused.message}}
        except SessionLost:
            return {"ok": False, "error": {"code": "media_unavailable", "message": UNAVAILABLE}}
        except JanusError as refused:
            # Janus parses the SDP: what it refuses is the browser's to fix, and disturbs no one else.
            return {"ok": False, "error": {"code": "invalid_sdp", "message": f"The media server refused the SDP (error {refused.code}: {refused.reason}); reload the page to make a new connection."}}
        except TimeoutError:
            return {"ok": False, "error": {"code": "media_unavailable", "message": UNAVAILABLE}}

    async def disconnected(self, consultation: str, participant: str) -> None:
        """A participant has no connection left on this node: release what only their browser used."""
        reconciler = self.reconcilers.get(consultation)
        if reconciler is None:
            return
        try:
            await reconciler.stop_listening(participant)
        except (SessionLost, JanusError) as exc:
            log.info("listening handle of %s not released: %s", participant, exc)

    async def close(self) -> None:
        await asyncio.gather(*self._closing, return_exceptions=True)
        for reconciler in self.reconcilers.values():
            await reconciler.close()
        self.reconcilers.clear()
        if self._http is not None:
            await self._http.close()
        if self.process is not None:
            await self.process.stop()


async def _dispatch(reconciler: Reconciler, participant: str, request: MediaRequest) -> dict[str, Any]:
    if isinstance(request, (MediaAnswer, MediaPublish, MediaEcho)):
        problem = sdp_problem(request.sdp, "answer" if isinstance(request, MediaAnswer) else "offer")
        if problem is not None:
            raise MediaRefused("invalid_sdp", f"{problem} Reload the page to make a new connection.")
    if isinstance(request, MediaListen):
        return {"sdp": await reconciler.listen(participant, request.channel)}
    if isinstance(request, MediaAnswer):
        await reconciler.answer(participant, request.sdp)
        return {}
    if isinstance(request, MediaSwitch):
        await reconciler.switch(participant, request.channel)
        return {}
    if isinstance(request, MediaPublish):
        return {"sdp": await reconciler.publish(participant, request.sdp)}
    if isinstance(request, MediaEcho):
        return {"sdp": await reconciler.echo(participant, request.sdp)}
    assert isinstance(request, MediaIce)
    candidate = None if request.candidate is None else {"candidate": request.candidate, "sdpMid": request.sdp_mid, "sdpMLineIndex": request.sdp_mline_index}
    await reconciler.trickle(participant, request.stream, candidate)
    return {}
