"""The delegate's page of the real browser client plays the chosen channel:
choosing a channel moves its one connection from mountpoint to mountpoint
(Streaming ``switch``), with audio flowing, and a node without media says so."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, async_playwright, expect
from vcc_testkit.audio import CONSULTATION, AudioNode, browser_with_microphone, tone_wav
from vcc_testkit.audio import audio_node as start_audio_node
from vcc_testkit.build import ensure_built
from vcc_testkit.consultations import COUNCIL

pytestmark = pytest.mark.browser


@pytest.fixture
async def audio_node(tmp_path: Path) -> AsyncIterator[AudioNode]:
    ensure_built()
    async with start_audio_node(tmp_path / "store") as node:
        yield node


async def viewers(node: AudioNode) -> dict[str, int]:
    """Channel -> how many connections its mountpoint serves now (Streaming ``info``)."""
    reconciler = node.media.reconcilers[CONSULTATION]
    out: dict[str, int] = {}
    for channel in ("floor", "ar", "zh", "en", "fr", "ru", "es"):
        info: dict[str, Any] = await reconciler._st(
            {"request": "info", "id": reconciler.mount_id(channel), "secret": node.media.endpoint.secrets.room_secret}
        )  # type: ignore[union-attr]
        out[channel] = int(info["info"]["viewers"])
    return out


async def choose(page: Page, label: str) -> None:
    await page.get_by_test_id("channels").get_by_text(label, exact=True).click()


async def only_viewer_on(node: AudioNode, channel: str, timeout: float = 10.0) -> None:
    """Wait until the page's one connection is served by ``channel``'s mountpoint."""
    deadline = time.monotonic() + timeout
    while (seen := await viewers(node)) != {c: int(c == channel) for c in seen}:
        assert time.monotonic() < deadline, f"the connection is not on {channel}: {seen}"
        await asyncio.sleep(0.05)


async def test_the_channel_selector_really_switches_the_audio(audio_node: AudioNode, tmp_path: Path) -> None:
    node = audio_node
    async with async_playwright() as playwright:
        browser = await browser_with_microphone(playwright, tone_wav(tmp_path / "silence.wav", 0))
        try:
            page = await (await browser.new_context(locale="en-GB")).new_page()
            await page.add_init_script("localStorage.setItem('vcc.language', 'en')")
            await page.goto(f"{node.url}/join#t={node.token(COUNCIL[1])}")
            await expect(page.get_by_test_id("connection")).to_have_attribute("data-status", "connected", timeout=15_000)
            await expect(page.get_by_test_id("audio-status")).to_have_attribute("data-status", "playing", timeout=15_000)
            first = await viewers(node)
            assert sum(first.values()) == 1, first
            names = {"ar": "Arabic", "zh": "Chinese", "en": "English", "fr": "French", "ru": "Russian", "es": "Spanish"}
            for channel in [c for c in ("en", "fr", "zh") if first[c] == 0][:2]:
                await choose(page, names[channel])
                await only_viewer_on(node, channel)
            # One connection all along: the choice switched it, never a second one.
            assert node.media.reconcilers[CONSULTATION].listening() == {COUNCIL[1]}
            await expect(page.get_by_test_id("audio-status")).to_have_attribute("data-status", "playing")
        finally:
            await browser.close()
