"""The public webcast behind a real nginx running deploy/nginx/vcc.conf: many
viewers' requests are answered from the cache, a node sees about one per
second, and a change still reaches the viewers within the freshness period."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import aiohttp
import pytest
from vcc.ops import metrics
from vcc_protocol import commands as c
from vcc_protocol.vocabulary import ADMIN_ACTOR
from vcc_testkit.audio import CONSULTATION as AUDIO_CONSULTATION
from vcc_testkit.audio import audio_node
from vcc_testkit.consultations import CAPTIONER
from vcc_testkit.nginx import Nginx

from tests.integration.conftest import make_node, node  # noqa: F401  (fixtures)

VIEWERS = 300


def origin_requests() -> float:
    return sum(
        sample.value
        for m in metrics.REGISTRY.collect()
        if m.name == "vcc_webcast_requests"
        for sample in m.samples
        if sample.name.endswith("_total")
    )


@pytest.fixture
def proxy(node) -> Iterator[Nginx]:  # noqa: ANN001, F811
    running = Nginx([urlparse(node.url).port])  # type: ignore[list-item]
    running.start()
    yield running
    running.stop()


async def test_viewers_are_served_from_the_cache_and_see_changes(node, proxy) -> None:  # noqa: F811
    assert (await node.service.execute_all("test", [c.SetWebcast(id=c.new_id(), public=True)], ADMIN_ACTOR))[-1]["ok"]
    url = f"{proxy.url}/webcast/test/state.json"
    async with aiohttp.ClientSession() as http:

        async def view(address: str = url) -> tuple[int, bytes, str]:
            async with http.get(address) as answer:
                return answer.status, await answer.read(), answer.headers.get("X-Cache", "")

        before = origin_requests()
        started = time.monotonic()
        seen = await asyncio.gather(*(view() for _ in range(VIEWERS)))
        elapsed = time.monotonic() - started
        assert {status for status, _, _ in seen} == {200} and len({body for _, body, _ in seen}) == 1
        reached = origin_requests() - before
        # One request per second of freshness at most (plus the first miss), whatever the number of viewers.
        assert reached <= 1 + elapsed + 1, f"{reached} of {VIEWERS} requests reached the node in {elapsed:.1f} s"
        assert sum(1 for _, _, cache in seen if cache in ("HIT", "UPDATING", "STALE", "REVALIDATED")) >= VIEWERS - reached

        before = origin_requests()
        unknown = await asyncio.gather(*(view(f"{proxy.url}/webcast/nobody/state.json") for _ in range(50)))
        assert {status for status, _, _ in unknown} == {404}
        assert origin_requests() - before <= 1

        captioner = await node.client(CAPTIONER)
        try:
            assert (await captioner.send("post_caption", text="Seen through the cache."))["ok"]
        finally:
            await captioner.close()
        deadline = time.monotonic() + 10
        while b"Seen through the cache." not in (await view())[1]:
            assert time.monotonic() < deadline, "the change never reached the viewers through the cache"
            await asyncio.sleep(0.2)


def origin_audio_requests() -> float:
    return sum(
        sample.value
        for m in metrics.REGISTRY.collect()
        if m.name == "vcc_webcast_audio_requests"
        for sample in m.samples
        if sample.name.endswith("_total")
    )


async def test_the_hls_audio_is_served_from_the_cache(tmp_path: Path) -> None:
    """A node with its media (Janus, ffmpeg) behind the same nginx: viewers' playlists and
    segments come from the cache; the node sees about one request per URL and second."""
    async with audio_node(tmp_path / "store") as media_node:
        await media_node.run(c.SetWebcast(id=c.new_id(), public=True), ADMIN_ACTOR)
        proxy = Nginx([urlparse(media_node.url).port])  # type: ignore[list-item]
        proxy.start()
        try:
            playlist = f"{proxy.url}/webcast/{AUDIO_CONSULTATION}/audio/floor/index.m3u8"
            async with aiohttp.ClientSession() as http:
                deadline = time.monotonic() + 30
                while True:
                    async with http.get(f"{media_node.url}/webcast/{AUDIO_CONSULTATION}/audio/floor/index.m3u8") as answer:
                        segments = (
                            [line for line in (await answer.text()).splitlines() if line and not line.startswith("#")]
                            if answer.status == 200
                            else []
                        )
                    if len(segments) >= 3:
                        break
                    assert time.monotonic() < deadline, "the floor channel's HLS never appeared"
                    await asyncio.sleep(0.2)

                async def fetch(url: str) -> tuple[int, bytes, str, str]:
                    async with http.get(url) as answer:
                        return (
                            answer.status,
                            await answer.read(),
                            answer.headers.get("Cache-Control", ""),
                            answer.headers.get("X-Cache", ""),
                        )

                before = origin_audio_requests()
                started = time.monotonic()
                lists = await asyncio.gather(*(fetch(playlist) for _ in range(VIEWERS)))
                segment = f"{playlist.rsplit('/', 1)[0]}/{segments[-1]}"
                parts = await asyncio.gather(*(fetch(segment) for _ in range(VIEWERS)))
                elapsed = time.monotonic() - started
                reached = origin_audio_requests() - before
        finally:
            proxy.stop()
    assert {status for status, *_ in lists + parts} == {200}
    assert len({body for _, body, _, _ in parts}) == 1 and len(parts[0][1]) > 1000
    assert lists[0][2] == "public, max-age=1" and parts[0][2] == "public, max-age=86400, immutable"
    # The segment once, the playlist once per second of freshness (plus its first miss).
    assert reached <= 1 + (1 + elapsed + 1), f"{reached} of {2 * VIEWERS} requests reached the node in {elapsed:.1f} s"
