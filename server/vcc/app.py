"""One node: the aiohttp application with the HTTP API, the socket.io gateway,
the browser client's files, and the service over the event store."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

import socketio
from aiohttp import web

from .api.routes import (
    BASE_URL,
    BLOBS,
    INSPECTOR,
    MAX_REQUEST_BYTES,
    MEDIA,
    PRACTICE,
    SECRET,
    SERVICE,
    WEBCAST,
    add_routes,
    json_errors,
    not_webcast,
)
from .api.webcast import Webcast
from .config import Config
from .documents.uploads import BlobStore, Inspector
from .gateway.socket_api import Gateway
from .media.cluster import MediaCluster
from .media.hls import WebcastAudio
from .media.plane import MediaPlane
from .media.turn import Turn
from .practice import PracticeRooms
from .service import Clock, Service, wall_clock
from .store import open_store

GATEWAY = web.AppKey("gateway", Gateway)
#: The built browser client (``./dev setup`` builds it here).
WEB_ROOT = Path(str(resources.files("vcc").joinpath("web")))

NOT_BUILT = """<!doctype html><meta charset="utf-8"><title>vcc</title>
<p>The browser client is not built. Run <code>./dev setup</code> (or <code>./dev serve</code>) in the project folder.</p>"""


async def create_app(config: Config, clock: Clock = wall_clock) -> web.Application:
    """The node's application; the store is opened here and closed on cleanup."""
    store = open_store(config.store)
    await store.open()
    service = Service(store, clock, max_loaded=config.max_loaded, idle_seconds=config.idle_seconds)
    secret = await config.secret()
    app = web.Application(client_max_size=MAX_REQUEST_BYTES, middlewares=[json_errors])
    app[SERVICE] = service
    app[SECRET] = secret
    app[BLOBS] = BlobStore(config.uploads_dir())
    # LibreOffice lays a DOCX out to count its pages; without it only PDFs are accepted.
    app[INSPECTOR] = Inspector(shutil.which("soffice"))
    app[BASE_URL] = (config.public_url or "").rstrip("/")
    media = _media_plane(config)
    app[WEBCAST] = Webcast(service, config.webcast_dir() if media is not None else None)
    gateway = Gateway(service, secret, origins=config.origins or None, client_manager=_client_manager(config), deflate=config.deflate)
    app[GATEWAY] = gateway
    gateway.attach(app)
    practice = PracticeRooms(service, secret, max_rooms=config.practice_rooms, end_connections=gateway.end_connections)
    app[PRACTICE] = practice
    add_routes(app)
    _add_client(app)
    audio: WebcastAudio | None = None
    if media is not None:
        # Before Janus starts: a missing ffmpeg stops the node with nothing left running.
        audio = WebcastAudio(config.webcast_dir(), config.recordings_days)
        await media.start(service)
        app[MEDIA] = media
        gateway.attach_media(media)
        await audio.start(media, service)

    async def goodbye(_: web.Application) -> None:
        await practice.close()
        await gateway.close_connections()

    async def close(_: web.Application) -> None:
        if audio is not None:
            await audio.close()
        if media is not None:
            await media.close()
        await service.close()
        await store.close()

    app.on_shutdown.append(goodbye)
    app.on_cleanup.append(close)
    return app


def _media_plane(config: Config) -> MediaPlane | None:
    if config.media == "off":
        return None
    # Nodes sharing a Redis store may serve the same consultation: a lease picks its one media adapter.
    cluster = MediaCluster(config.store) if config.is_redis else None
    turn = None
    if config.turn:
        if config.turn_secret_file is None:
            raise ValueError("--turn needs --turn-secret-file, the file holding the TURN server's static-auth-secret.")
        turn = Turn.load(config.turn, Path(config.turn_secret_file))
    if config.media == "managed":
        return MediaPlane.managed(config.janus_dir(), cluster, turn)
    return MediaPlane.external(config.media, config.janus_dir(), cluster, turn)


def _client_manager(config: Config) -> socketio.AsyncManager | None:
    """With a Redis store, socket.io's Redis manager, for messages aimed at a
    participant whose connections may be on other nodes (``notice``).

    Not for the event stream: its one global channel gives no total order and
    no replay, so batches come from the store (see ``gateway.socket_api``).
    """
    if not config.is_redis:
        return None
    return socketio.AsyncRedisManager(
        config.store,
        channel="vcc:socketio",
        # A fast failure while Redis is down. No read timeout: the manager's
        # listener would take an idle channel for a dead one and resubscribe.
        # RESP2 as in the store (see vcc.store.redis).
        redis_options={"socket_connect_timeout": 1.0, "protocol": 2},
    )


def _add_client(app: web.Application) -> None:
    index = WEB_ROOT / "index.html"

    async def page(request: web.Request) -> web.StreamResponse:
        if index.exists():
            return web.FileResponse(index, headers={"Cache-Control": "no-cache"})
        return web.Response(text=NOT_BUILT, content_type="text/html", status=503)

    async def webcast_page(request: web.Request) -> web.StreamResponse:
        consultation = request.match_info["consultation"]
        if await request.app[WEBCAST].snapshot(consultation) is None:
            return not_webcast(consultation)
        return await page(request)

    for path in ("/", "/join", "/screen", "/drill"):
        app.router.add_get(path, page)
    app.router.add_get("/webcast/{consultation}", webcast_page)
    if (WEB_ROOT / "assets").is_dir():
        app.router.add_static("/assets", WEB_ROOT / "assets")
