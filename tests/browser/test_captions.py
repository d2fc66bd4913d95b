"""Captions on real screens: a captioner types lines and corrects one; they
appear on a delegate's screen (behind a toggle remembered by the browser), on
the public screen and on the public webcast page (no token, no socket), and the
WebVTT export carries exactly those lines."""

from __future__ import annotations

import time

import aiohttp
import pytest
from playwright.async_api import Page, async_playwright, expect
from vcc_protocol import commands as c
from vcc_protocol.vocabulary import ADMIN_ACTOR
from vcc_testkit.browser import Screens, launch, tokens_of
from vcc_testkit.consultations import CAPTIONER, COUNCIL

pytestmark = pytest.mark.browser


async def _type_line(page: Page, text: str) -> None:
    await page.get_by_test_id("caption-input").fill(text)
    await page.get_by_test_id("caption-input").press("Enter")
    await expect(page.get_by_test_id("caption-input")).to_have_value("")


async def test_a_captioners_lines_reach_the_delegate_the_screen_and_the_webvtt(make_node) -> None:
    # The node's clock steps past the rate limit between lines, so no line is refused for its pace.
    shift = [0]
    node = await make_node(clock=lambda: time.time_ns() // 1_000_000 + shift[0])
    assert (await node.service.execute_all("test", [c.SetWebcast(id=c.new_id(), public=True)], ADMIN_ACTOR))[-1]["ok"]
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        screens = Screens(browser, node.url, tokens_of(node))
        try:
            captioner = await screens.open(CAPTIONER)
            delegate = await screens.open(COUNCIL[0])
            screen = await screens.open(COUNCIL[1], path="/screen")
            webcast = await screens.open(None, path="/webcast/test", wait=False)
            await expect(delegate.get_by_test_id("captions")).to_contain_text("No captions yet.")
            await expect(webcast.get_by_test_id("captions")).to_contain_text("No captions yet.")
            sockets: list[str] = []
            webcast.on("websocket", lambda socket: sockets.append(socket.url))

            lines = ["Good afternoon, distinguished delegates.", "The chair opens item PL 1.01, the reprot of the Council."]
            for text in lines:
                shift[0] += 600
                await _type_line(captioner, text)
            await expect(delegate.get_by_test_id("caption-line")).to_have_text(lines)
            await expect(screen.get_by_test_id("caption-line")).to_have_text(lines)

            # A correction replaces the line everywhere.
            shift[0] += 600
            await captioner.get_by_test_id("caption-correct-2").click()
            await expect(captioner.get_by_test_id("caption-input")).to_have_value(lines[1])
            lines[1] = "The chair opens item PL 1.01, the report of the Council."
            await _type_line(captioner, lines[1])
            await expect(delegate.get_by_test_id("caption-line")).to_have_text(lines)
            await expect(screen.get_by_test_id("caption-line")).to_have_text(lines)
            await expect(webcast.get_by_test_id("caption-line")).to_have_text(lines)
            assert sockets == [], "the webcast page polls plain HTTP, it opens no socket"

            # The delegate hides captions; the choice survives a reload of the page.
            await delegate.get_by_test_id("captions-toggle").uncheck()
            await expect(delegate.get_by_test_id("captions")).to_have_count(0)
            await delegate.reload()
            await expect(delegate.get_by_test_id("connection")).to_have_attribute("data-status", "connected", timeout=15_000)
            await expect(delegate.get_by_test_id("captions-toggle")).not_to_be_checked()
            await expect(delegate.get_by_test_id("captions")).to_have_count(0)
        finally:
            await screens.close()
            await browser.close()

    runtime = await node.runtime()
    sitting = runtime.state.sitting
    assert sitting is not None
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {node.admin_token()}"}) as http:
        vtt = await (await http.get(f"{node.url}/api/consultations/test/captions/{sitting.day}.vtt")).text()
    cues = [block.split("\n") for block in vtt.strip().split("\n\n")[1:]]
    assert [cue[2] for cue in cues] == lines
    for cue, line in zip(cues, runtime.state.captions, strict=True):
        start = line.at - sitting.opened_at
        assert cue[1].startswith(f"{start // 3_600_000:02d}:{start // 60_000 % 60:02d}:{start // 1000 % 60:02d}.{start % 1000:03d} --> ")
