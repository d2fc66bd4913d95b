"""The node's media plane: a Janus (started by vcc, or an existing one) and one
reconciler per consultation the node serves.

With the media plane down, the procedure keeps working: commands never wait
on Janus. ``status()`` says, per consultation, whether the media is up and, if
not, why; ``vcc_media_janus_up`` says the same to Prometheus.
"""

from __future__ import annotations

import logging
from pathlib import Path

import aiohttp

from ..service import Runtime, Service
from .janus_server import JanusEndpoint, JanusProcess, JanusSecrets
from .reconciler import MediaStatus, Reconciler

log = logging.getLogger(__name__)


class MediaPlane:
    """Create with ``managed(...)`` or ``external(...)``, then ``await start(service)``."""

    def __init__(self, endpoint: JanusEndpoint | None = None, process: JanusProcess | None = None) -> None:
        self.endpoint = endpoint
        self.process = process
        self.reconcilers: dict[str, Reconciler] = {}
        self._http: aiohttp.ClientSession | None = None

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
        for consultation in await service.consultations():
            self.follow(await service.runtime(consultation))

    def follow(self, runtime: Runtime) -> None:
        if runtime.consultation in self.reconcilers or self.endpoint is None or self._http is None:
            return
        reconciler = Reconciler(runtime, self.endpoint, self._http)
        self.reconcilers[runtime.consultation] = reconciler
        reconciler.start()

    def status(self, consultation: str) -> MediaStatus:
        reconciler = self.reconcilers.get(consultation)
        return reconciler.status if reconciler is not None else MediaStatus(up=False, reason="no media adapter follows this consultation on this node")

    async def close(self) -> None:
        for reconciler in self.reconcilers.values():
            await reconciler.close()
        self.reconcilers.clear()
        if self._http is not None:
            await self._http.close()
        if self.process is not None:
            await self.process.stop()
