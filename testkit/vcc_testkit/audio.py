"""Real-audio pages for the media tests and bench/bench_media.py: a node that
starts its own Janus and serves the test page (tests/media/page: vcc's socket
only, an AudioWorklet tone classifier), Chromium with a WAV as its microphone,
and helpers to drive and wait on the pages."""

from __future__ import annotations

import asyncio
import math
import struct
import time
import wave
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, Page
from vcc.api.routes import MEDIA, SECRET, SERVICE
from vcc.app import create_app
from vcc.auth.tokens import Claims, sign
from vcc.config import Config
from vcc.media.plane import MediaPlane
from vcc.service import Runtime
from vcc_protocol import commands as c
from vcc_protocol.vocabulary import ADMIN_ACTOR

from . import ROOT, waiting
from .browser import CHROMIUM_ARGS, chromium_path
from .consultations import CHAIR, live_commands

CONSULTATION = "audio-test"
PAGE = ROOT / "tests" / "media" / "page"
SOCKET_IO = ROOT / "tests" / "js" / "node_modules" / "socket.io-client" / "dist" / "socket.io.msgpack.min.js"
_ids = iter(range(1, 1_000_000))


def tone_wav(path: Path, hz: float, seconds: float = 4.0, rate: int = 48_000) -> Path:
    """A WAV of a pure tone (Chromium's fake microphone loops it)."""
    frames = b"".join(struct.pack("<h", int(12_000 * math.sin(2 * math.pi * hz * i / rate))) for i in range(int(seconds * rate)))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames)
    return path


@dataclass
class AudioNode:
    url: str
    runtime: Runtime
    media: MediaPlane
    secret: bytes

    def token(self, participant: str, role: str = "delegate") -> str:
        return sign(self.secret, Claims(participant, role, CONSULTATION, int(time.time() * 1000) + 3_600_000))

    async def run(self, command: c.Command, actor: str) -> None:
        command = type(command)(**{**{f: getattr(command, f) for f in command.__struct_fields__}, "id": f"t{next(_ids)}"})
        answer = await self.runtime.execute(command, actor)
        assert answer["ok"], answer


@asynccontextmanager
async def audio_node(store: Path, tail_ms: int = 4_000, **config: Any) -> AsyncIterator[AudioNode]:
    """A node as ``vcc serve`` runs it (its own Janus), holding the live consultation with an item taken up.
    :param config: more of the node's ``Config`` (a TURN server, say)."""
    app = await create_app(Config(store=str(store), media="managed", **config))

    async def socket_io(_: web.Request) -> web.FileResponse:
        return web.FileResponse(SOCKET_IO)

    app.router.add_get("/test-media/socket.io.msgpack.min.js", socket_io)
    app.router.add_static("/test-media", PAGE)
    service = app[SERVICE]
    answers = await service.execute_all(CONSULTATION, live_commands(service.clock(), tail_ms=tail_ms), ADMIN_ACTOR)
    assert answers[-1]["ok"], answers[-1]
    runtime = await service.runtime(CONSULTATION)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    node = AudioNode(str(server.make_url("")).rstrip("/"), runtime, app[MEDIA], app[SECRET])
    await node.run(c.TakeUpItem(id=c.new_id(), item=runtime.state.agenda[0]), CHAIR)
    try:
        yield node
    finally:
        await server.close()


async def browser_with_microphone(playwright: Any, wav: Path) -> Browser:
    args = [
        *CHROMIUM_ARGS,
        f"--use-file-for-fake-audio-capture={wav}",
        "--autoplay-policy=no-user-gesture-required",
        "--disable-features=WebRtcHideLocalIpsWithMdns",
    ]
    return await playwright.chromium.launch(executable_path=chromium_path(), args=args)


async def open_page(browser: Browser, node: AudioNode, participant: str, role: str = "delegate") -> Page:
    page = await (await browser.new_context()).new_page()
    await page.goto(f"{node.url}/test-media/media.html")
    assert await page.evaluate("token => vcc.connect(token)", node.token(participant, role))
    return page


async def open_ear(browser: Browser, node: AudioNode, participant: str, channel: str, *, quiet: bool = False, wait: bool = True) -> Page:
    """A page of ``participant`` listening to ``channel`` through the service, once
    its connection to Janus is up (``wait``); ``quiet``: receives without playing."""
    page = await open_page(browser, node, participant)
    assert (await page.evaluate("([channel, quiet]) => vcc.listen(channel, quiet)", [channel, quiet]))["ok"]
    if wait:
        await until(page, "vcc.listenState === 'connected'")
    return page


async def until(page: Page, expression: str, timeout_ms: int = 10_000) -> Any:
    handle = await page.wait_for_function(expression, timeout=timeout_ms, polling=20)
    return await handle.json_value()


async def packets_at_janus(node: AudioNode, participant: str, more_than: int) -> None:
    """Wait until Janus has received more than ``more_than`` audio packets (20 ms each) from a participant's microphone."""
    reconciler = node.media.reconcilers[CONSULTATION]
    while (await reconciler.publisher_stats(participant))["packets_in"] <= more_than:
        await asyncio.sleep(0.05)


async def packets_counted(node: AudioNode, participant: str) -> int:
    return int((await node.media.reconcilers[CONSULTATION].publisher_stats(participant))["packets_in"])


async def janus_handles(node: AudioNode) -> list[int]:
    """The handles of the media plane's Janus session (Admin API ``list_handles``)."""
    endpoint, reconciler = node.media.endpoint, node.media.reconcilers[CONSULTATION]
    assert endpoint is not None and endpoint.admin_url is not None and reconciler.session is not None
    body = {"janus": "list_handles", "transaction": "handles", "admin_secret": endpoint.secrets.admin_secret}
    async with aiohttp.ClientSession() as http, http.post(f"{endpoint.admin_url}/{reconciler.session.id}", json=body) as reply:
        return list((await reply.json(content_type=None))["handles"])


async def until_true(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait for a condition the node makes true (no event to await from outside)."""
    await waiting.until(condition, timeout, "the node's condition")
