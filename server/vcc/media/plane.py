"""The node's media plane: a Janus (started by vcc, or an existing one) and one
reconciler per consultation the node serves.

With several nodes (``cluster``), each consultation's reconciler runs on the
node holding its lease (``cluster.py``); the others forward their clients'
media requests to it. With the media plane down, the procedure keeps working:
commands never wait on Janus. ``status()`` says, per consultation, whether the media is up and, if
not, why; ``vcc_media_janus_up`` says the same to Prometheus.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
import redis.exceptions
from vcc_protocol.media import (
    MediaAnswer,
    MediaEcho,
    MediaIce,
    MediaIceServers,
    MediaListen,
    MediaPublish,
    MediaRequest,
    MediaSwitch,
    parse_media,
    sdp_problem,
)

from ..service import Runtime, Service
from .cluster import RENEW_S, MediaCluster
from .janus_client import JanusError, SessionLost
from .janus_server import JanusEndpoint, JanusProcess, JanusSecrets
from .reconciler import UNAVAILABLE, MediaRefused, MediaStatus, Reconciler
from .turn import Turn

log = logging.getLogger(__name__)


class MediaPlane:
    """Create with ``managed(...)`` or ``external(...)``, then ``await start(service)``."""

    def __init__(
        self,
        endpoint: JanusEndpoint | None = None,
        process: JanusProcess | None = None,
        cluster: MediaCluster | None = None,
        turn: Turn | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.process = process
        self.cluster = cluster
        #: The TURN server the browsers may relay through, with its credentials' secret.
        self.turn = turn
        self.reconcilers: dict[str, Reconciler] = {}
        #: Consultation -> the task that holds (or waits for) its lease, with several nodes.
        self._leases: dict[str, asyncio.Task[None]] = {}
        #: Called with a consultation whose media was rebuilt after Janus came back (the gateway tells the browsers).
        self.on_rebuilt: Callable[[str], None] | None = None
        self._http: aiohttp.ClientSession | None = None
        self._closing: set[asyncio.Task[None]] = set()

    @classmethod
    def managed(cls, folder: Path, cluster: MediaCluster | None = None, turn: Turn | None = None) -> MediaPlane:
        """Janus as a child process, configured in ``folder`` (secrets, config, log)."""
        return cls(process=JanusProcess(folder), cluster=cluster, turn=turn)

    @classmethod
    def external(cls, url: str, folder: Path, cluster: MediaCluster | None = None, turn: Turn | None = None) -> MediaPlane:
        """An existing Janus at ``url``, configured with this installation's secrets (``vcc janus-config``)."""
        return cls(
            endpoint=JanusEndpoint(url.rstrip("/"), JanusSecrets.load_or_create(folder / "secrets.json")), cluster=cluster, turn=turn
        )

    async def start(self, service: Service) -> None:
        """Start Janus if vcc manages it, then follow every consultation the node has or loads."""
        if self.process is not None:
            self.endpoint = await self.process.start()
        self._http = aiohttp.ClientSession()
        if self.cluster is not None:
            self.cluster.on_request = self._forwarded
            self.cluster.on_reset = self._reset_here
            await self.cluster.start()
        service.on_load(self.follow)
        service.on_unload(self.unfollow)
        for consultation in service.loaded:
            self.follow(await service.runtime(consultation))

    def follow(self, runtime: Runtime) -> None:
        if self.cluster is None:
            self._adapt(runtime, announce=False)
        elif runtime.consultation not in self._leases:
            self._leases[runtime.consultation] = asyncio.ensure_future(self._hold(runtime))

    def _adapt(self, runtime: Runtime, announce: bool) -> None:
        if runtime.consultation in self.reconcilers or self.endpoint is None or self._http is None:
            return
        reconciler = Reconciler(runtime, self.endpoint, self._http, announce=announce)
        reconciler.on_rebuilt = self._rebuilt
        self.reconcilers[runtime.consultation] = reconciler
        reconciler.start()

    async def _hold(self, runtime: Runtime) -> None:
        """Hold the consultation's lease and run its reconciler, or leave both to the node that holds it."""
        assert self.cluster is not None
        consultation = runtime.consultation
        while True:
            try:
                held = await self.cluster.hold(consultation)
            except (redis.exceptions.RedisError, OSError) as exc:
                # Redis unreachable: nobody can take the lease meanwhile, so what runs goes on.
                log.warning("media lease of %s not renewed: %s", consultation, exc)
            else:
                reconciler = self.reconcilers.get(consultation)
                if held and reconciler is None:
                    log.info("media of %s: this node (%s) holds the lease", consultation, self.cluster.node)
                    # Taking over: the browsers' connections went to the previous holder's handles.
                    self._adapt(runtime, announce=True)
                elif not held and reconciler is not None:
                    log.warning("media of %s: the lease went to another node; stopping here", consultation)
                    del self.reconcilers[consultation]
                    await reconciler.close()
            await asyncio.sleep(RENEW_S)

    def unfollow(self, runtime: Runtime) -> None:
        """An unloaded consultation (nobody connected, nothing due) leaves the media alone
        until it is loaded again; its reconciler would follow a state that no longer moves."""
        lease = self._leases.get(runtime.consultation)
        if lease is not None:
            lease.cancel()
            del self._leases[runtime.consultation]
        reconciler = self.reconcilers.get(runtime.consultation)
        if reconciler is None or reconciler.runtime is not runtime:
            return
        del self.reconcilers[runtime.consultation]
        task = asyncio.get_running_loop().create_task(self._let_go(reconciler))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _let_go(self, reconciler: Reconciler) -> None:
        await reconciler.close()
        if self.cluster is not None:
            try:
                await self.cluster.release(reconciler.runtime.consultation)
            except (redis.exceptions.RedisError, OSError) as exc:
                log.info("media lease of %s not released (it lapses by itself): %s", reconciler.runtime.consultation, exc)

    def _rebuilt(self, consultation: str) -> None:
        if self.cluster is None:
            self._reset_here(consultation)
            return
        # Every node's browsers connect again, this node's included (the reset comes back to it).
        task = asyncio.get_running_loop().create_task(self.cluster.announce_reset(consultation))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def _reset_here(self, consultation: str) -> None:
        if self.on_rebuilt is not None:
            self.on_rebuilt(consultation)

    def status(self, consultation: str) -> MediaStatus:
        reconciler = self.reconcilers.get(consultation)
        if reconciler is not None:
            return reconciler.status
        if self.cluster is not None and consultation in self._leases:
            return MediaStatus(
                up=False,
                reason="the media adapter of this consultation runs on the node holding its lease (Redis key vcc:media:<consultation>)",
            )
        return MediaStatus(up=False, reason="no media adapter follows this consultation on this node")

    async def signal(self, consultation: str, participant: str, request: MediaRequest) -> dict[str, Any]:
        """A browser's media request, answered like a command: ``{ok, sdp?}`` or ``{ok: false, error}``.
        With several nodes, a request for a consultation whose lease another node holds goes there."""
        if isinstance(request, MediaIceServers):
            return self._ice_servers(participant)
        if consultation not in self.reconcilers and self.cluster is not None:
            return await self._forward(
                consultation,
                {"op": "signal", "consultation": consultation, "participant": participant, "request": msgspec.to_builtins(request)},
            )
        return await self._signal_here(consultation, participant, request)

    def _ice_servers(self, participant: str) -> dict[str, Any]:
        """Any node answers: the credential needs no Janus, only the secret every node has."""
        return {"ok": True, "ice_servers": self.turn.ice_servers(participant) if self.turn is not None else []}

    async def _forward(self, consultation: str, message: dict[str, Any]) -> dict[str, Any]:
        assert self.cluster is not None
        try:
            holder = await self.cluster.holder(consultation)
            if holder is None or holder == self.cluster.node:
                raise TimeoutError
            return await self.cluster.forward(holder, message)
        except (TimeoutError, redis.exceptions.RedisError, OSError):
            return {"ok": False, "error": {"code": "media_unavailable", "message": UNAVAILABLE}}

    async def _forwarded(self, message: dict[str, Any]) -> dict[str, Any]:
        """Another node's client, for a consultation whose media this node holds. Never forwarded again."""
        consultation, participant = str(message.get("consultation")), str(message.get("participant"))
        if message.get("op") == "disconnected":
            await self._disconnected_here(consultation, participant)
            return {"ok": True}
        try:
            request = parse_media(message.get("request"))
        except msgspec.ValidationError:
            return {"ok": False, "error": {"code": "invalid_media_request", "message": "The forwarded media request is not valid."}}
        if isinstance(request, MediaIceServers):
            return self._ice_servers(participant)
        return await self._signal_here(consultation, participant, request)

    async def _signal_here(self, consultation: str, participant: str, request: MediaRequest) -> dict[str, Any]:
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
            return {
                "ok": False,
                "error": {
                    "code": "invalid_sdp",
                    "message": f"The media server refused the SDP (error {refused.code}: {refused.reason}); reload the page to make a new connection.",
                },
            }
        except TimeoutError:
            return {"ok": False, "error": {"code": "media_unavailable", "message": UNAVAILABLE}}

    async def disconnected(self, consultation: str, participant: str) -> None:
        """A participant has no connection left on this node: release what only their browser used."""
        if consultation not in self.reconcilers and self.cluster is not None:
            await self._forward(consultation, {"op": "disconnected", "consultation": consultation, "participant": participant})
            return
        await self._disconnected_here(consultation, participant)

    async def _disconnected_here(self, consultation: str, participant: str) -> None:
        reconciler = self.reconcilers.get(consultation)
        if reconciler is None:
            return
        try:
            await reconciler.stop_listening(participant)
        except (SessionLost, JanusError) as exc:
            log.info("listening handle of %s not released: %s", participant, exc)

    async def close(self) -> None:
        for lease in self._leases.values():
            lease.cancel()
        await asyncio.gather(*self._leases.values(), return_exceptions=True)
        await asyncio.gather(*self._closing, return_exceptions=True)
        for reconciler in list(self.reconcilers.values()):
            await self._let_go(reconciler)
        self.reconcilers.clear()
        if self.cluster is not None:
            await self.cluster.close()
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
    candidate = (
        None
        if request.candidate is None
        else {"candidate": request.candidate, "sdpMid": request.sdp_mid, "sdpMLineIndex": request.sdp_mline_index}
    )
    await reconciler.trickle(participant, request.stream, candidate)
    return {}
