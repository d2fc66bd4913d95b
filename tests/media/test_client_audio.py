"""The real pages carry real audio: the delegate's page connects its microphone when its
delegation asks for the floor (and is heard only after the grant), and the interpreter's
console hears its source and speaks into its booth. Chromium with WAV microphones (440 Hz
delegates, 880 Hz interpreters); the ear is the classifying test page."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect
from vcc.documents.reports import technical
from vcc_protocol import commands as c
from vcc_testkit.audio import (
    CONSULTATION,
    AudioNode,
    browser_with_microphone,
    open_ear,
    open_page,
    packets_at_janus,
    packets_counted,
    tone_wav,
    until,
    until_true,
)
from vcc_testkit.audio import audio_node as start_audio_node
from vcc_testkit.build import ensure_built
from vcc_testkit.consultations import CHAIR, COUNCIL, INTERPRETER, PARTNER, TECHNICAL

pytestmark = pytest.mark.browser


@pytest.fixture
async def audio_node(tmp_path: Path) -> AsyncIterator[AudioNode]:
    ensure_built()
    async with start_audio_node(tmp_path / "store") as node:
        yield node


async def real_page(browser: Browser, node: AudioNode, participant: str, role: str = "delegate") -> Page:
    page = await (await browser.new_context(locale="en-GB")).new_page()
    await page.add_init_script("localStorage.setItem('vcc.language', 'en')")
    await page.goto(f"{node.url}/join#t={node.token(participant, role)}")
    await expect(page.get_by_test_id("connection")).to_have_attribute("data-status", "connected", timeout=15_000)
    return page


async def viewers(node: AudioNode) -> dict[str, int]:
    """Channel -> how many listening connections its mountpoint serves now (Streaming ``info``)."""
    reconciler = node.media.reconcilers[CONSULTATION]
    out: dict[str, int] = {}
    for channel in ("floor", "ar", "zh", "en", "fr", "ru", "es"):
        info: dict[str, Any] = await reconciler._st(
            {"request": "info", "id": reconciler.mount_id(channel), "secret": node.media.endpoint.secrets.room_secret}
        )  # type: ignore[union-attr]
        out[channel] = int(info["info"]["viewers"])
    return out


async def serving(node: AudioNode, wanted: dict[str, int], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while (seen := {ch: n for ch, n in (await viewers(node)).items() if n}) != wanted:
        assert time.monotonic() < deadline, f"mountpoints serve {seen}, not {wanted}"
        await asyncio.sleep(0.05)


async def test_the_delegates_page_connects_its_microphone_on_request_and_is_heard_after_the_grant(
    audio_node: AudioNode, tmp_path: Path
) -> None:
    node = audio_node
    delegate = COUNCIL[0]
    async with async_playwright() as playwright:
        speaking = await browser_with_microphone(playwright, tone_wav(tmp_path / "440.wav", 440))
        listening = await browser_with_microphone(playwright, tone_wav(tmp_path / "silence.wav", 0))
        try:
            ear = await open_ear(listening, node, COUNCIL[1], "floor")
            await until(ear, "vcc.heard === 'silent'")
            page = await real_page(speaking, node, delegate)
            # Not on the list: the page holds no microphone connection.
            await expect(page.get_by_test_id("mic-link")).to_have_count(0)
            await page.get_by_test_id("request-floor").click()
            await expect(page.get_by_test_id("mic-link")).to_have_attribute("data-status", "connected", timeout=10_000)
            # Two seconds of its tone reach Janus while it waits in the queue: nobody hears them.
            since = int(time.time() * 1000)
            await packets_at_janus(node, delegate, 100)
            assert not await ear.evaluate("since => vcc.heardSince('440', since)", since)

            granted_at = int(time.time() * 1000)
            await node.run(c.GrantFloor(id=c.new_id()), CHAIR)
            heard_at = await until(ear, f"vcc.firstHeard('440', {granted_at})")
            print(f"grant -> the real delegate page's microphone classified at a listener: {heard_at - granted_at} ms")
            # The grant revoked, the delegation is off the list: the page lets its microphone go.
            await node.run(c.RevokeGrant(id=c.new_id()), CHAIR)
            await expect(page.get_by_test_id("mic-link")).to_have_count(0)
            cut_at = int(time.time() * 1000)
            await until(ear, f"vcc.firstHeard('silent', {cut_at})")
        finally:
            await speaking.close()
            await listening.close()


async def test_the_interpreters_page_hears_its_source_and_speaks_into_its_booth(audio_node: AudioNode, tmp_path: Path) -> None:
    node = audio_node
    interpreter = INTERPRETER["en"]
    reconciler = node.media.reconcilers[CONSULTATION]
    async with async_playwright() as playwright:
        booths = await browser_with_microphone(playwright, tone_wav(tmp_path / "880.wav", 880))
        listening = await browser_with_microphone(playwright, tone_wav(tmp_path / "silence.wav", 0))
        try:
            ear = await open_ear(listening, node, COUNCIL[1], "en")
            console = await real_page(booths, node, interpreter, "interpreter")
            audio = console.get_by_test_id("booth-audio")
            # The booth works from the floor: the console hears the floor channel.
            await expect(audio).to_have_attribute("data-status", "playing", timeout=10_000)
            await expect(audio).to_have_attribute("data-source", "floor")
            await serving(node, {"floor": 1, "en": 1})
            assert interpreter in reconciler.listening()
            # Its microphone is connected at once (interpreters are always in their booth's mix), muted until duty and the microphone.
            await expect(console.get_by_test_id("mic-link")).to_have_attribute("data-status", "connected", timeout=10_000)
            since = int(time.time() * 1000)
            await packets_at_janus(node, interpreter, await packets_counted(node, interpreter) + 50)
            assert not await ear.evaluate("since => vcc.heardSince('880', since)", since)
            await console.get_by_test_id("take-duty").click()
            # On duty, the panel lays itself out again (the handover button appears above the microphone's).
            await expect(console.get_by_test_id("request-handover")).to_be_visible()
            await expect(console.get_by_test_id("mic")).to_be_enabled()
            opened_at = int(time.time() * 1000)
            await console.get_by_test_id("mic").click()
            heard_at = await until(ear, f"vcc.firstHeard('880', {opened_at})")
            print(f"interpreter opens the booth microphone on the real console -> heard on the English channel: {heard_at - opened_at} ms")
            # On relay from the French booth, the console hears the French channel: the same connection, switched.
            await console.get_by_test_id("booth-source").select_option("fr")
            await expect(audio).to_have_attribute("data-source", "fr")
            await serving(node, {"fr": 1, "en": 1})
            await expect(audio).to_have_attribute("data-status", "playing")
            assert reconciler.listening() == {interpreter, COUNCIL[1]}
            await until_true(lambda: node.runtime.state.booths["en"].source == "fr")
        finally:
            await booths.close()
            await listening.close()


async def test_the_technical_dashboard_shows_each_listeners_ice_path_level_and_loss(audio_node: AudioNode, tmp_path: Path) -> None:
    """The delegate's page plays the floor (a delegate speaking 440 Hz, granted); its browser's
    own WebRTC figures reach the technical team's dashboard, row by participant."""
    node = audio_node
    listener, delegate = COUNCIL[1], COUNCIL[0]
    async with async_playwright() as playwright:
        speaking = await browser_with_microphone(playwright, tone_wav(tmp_path / "440.wav", 440))
        others = await browser_with_microphone(playwright, tone_wav(tmp_path / "silence.wav", 0))
        try:
            mouth = await open_page(speaking, node, delegate)
            assert (await mouth.evaluate("vcc.command('request_floor')"))["ok"]
            published = await mouth.evaluate("vcc.publish()")
            assert published["ok"], published
            await node.run(c.GrantFloor(id=c.new_id()), CHAIR)
            page = await real_page(others, node, listener)
            await expect(page.get_by_test_id("audio-status")).to_have_attribute("data-status", "playing", timeout=15_000)
            await page.get_by_test_id("channels").get_by_text("Floor", exact=True).click()
            dashboard = await real_page(others, node, TECHNICAL, "technical")
            row = dashboard.get_by_test_id("connections").locator(f"tr[data-participant='{listener}']")
            await expect(row.get_by_test_id("ice")).to_have_text("connected", timeout=15_000)
            # On one machine the browser and Janus meet directly, or through a peer-reflexive candidate.
            await expect(row.get_by_test_id("candidate")).to_have_text(re.compile(r"^(host|prflx)$"))
            await expect(row.get_by_test_id("packet-loss")).to_have_text(re.compile(r"^\d+(\.\d)? %$"))
            # The floor carries the granted delegate's tone: the level received is well above silence.
            await dashboard.wait_for_function(
                f"() => Number(document.querySelector(\"tr[data-participant='{listener}'] [data-testid=audio-level]\")?.dataset.level) > 0.05",
                timeout=15_000,
            )
        finally:
            await speaking.close()
            await others.close()


async def test_the_connection_test_sends_audio_through_janus_and_back(audio_node: AudioNode, tmp_path: Path) -> None:
    """The real connection test: ICE connects to Janus, a tone the page makes comes back
    through the server's EchoTest handle, the result is recorded and counted in the report."""
    node = audio_node
    reconciler = node.media.reconcilers[CONSULTATION]
    async with async_playwright() as playwright:
        browser = await browser_with_microphone(playwright, tone_wav(tmp_path / "440.wav", 440))
        try:
            page = await real_page(browser, node, COUNCIL[2])
            await page.get_by_test_id("tab-connection_test").click()
            await page.get_by_test_id("run-connection-test").click()
            result = page.get_by_test_id("ct-result")
            await expect(result).to_be_visible(timeout=40_000)
            await expect(result).to_have_attribute("data-media", "ok")
            round_trip = float(await result.get_attribute("data-media-rtt") or "nan")
            print(f"connection test: audio out and back through Janus in {round_trip:.0f} ms")
            assert 0 < round_trip < 5_000
            await expect(result).to_contain_text("Audio goes through the media server and back")
            recorded = node.runtime.state.connection_tests[COUNCIL[2]]
            assert recorded.media == "ok" and recorded.media_rtt_ms == round_trip
            assert "1 audio round trips through the media server, 0 failed" in technical.build(node.runtime.state).connection_summary
            # The echo handle is the page's alone, and goes with its connection.
            assert COUNCIL[2] in reconciler._actual.echoes
            await page.context.close()
            await until_true(lambda: COUNCIL[2] not in reconciler._actual.echoes)
        finally:
            await browser.close()


async def test_a_reloaded_interpreters_page_is_heard_again(audio_node: AudioNode, tmp_path: Path) -> None:
    """A new page of the same person (a reload, a crash, a second tab) publishes on a new
    handle: a configure on the old one answered for a connection Janus still held and
    nobody used, so the booth went silent for good."""
    node = audio_node
    interpreter = INTERPRETER["fr"]
    async with async_playwright() as playwright:
        booths = await browser_with_microphone(playwright, tone_wav(tmp_path / "880.wav", 880))
        listening = await browser_with_microphone(playwright, tone_wav(tmp_path / "silence.wav", 0))
        try:
            ear = await open_ear(listening, node, COUNCIL[1], "fr")
            await node.run(c.TakeBoothDuty(id=c.new_id()), interpreter)
            await node.run(c.SetBoothMic(id=c.new_id(), live=True), interpreter)
            console = await real_page(booths, node, interpreter, "interpreter")
            first = int(time.time() * 1000)
            await until(ear, f"vcc.firstHeard('880', {first})")
            await console.context.close()
            gone = int(time.time() * 1000)
            await until(ear, f"vcc.firstHeard('silent', {gone})")
            await real_page(booths, node, interpreter, "interpreter")
            again = int(time.time() * 1000)
            heard = await until(ear, f"vcc.firstHeard('880', {again})")
            print(f"the reloaded console is heard again {heard - again} ms after it opened")
        finally:
            await booths.close()
            await listening.close()


async def test_the_partner_off_duty_is_measured_never_heard_and_both_talking_raises_the_alarm(
    audio_node: AudioNode, tmp_path: Path
) -> None:
    """The partner off duty is metered: in the booth's mix at volume 0. Their tone (440 Hz
    here, the one on duty's 880 Hz) never reaches the booth's channel, but AudioBridge
    measures it, so both talking while one is live raises the both-live alarm on the
    console, and it clears when the one on duty closes the microphone."""
    node = audio_node
    on_duty, partner = INTERPRETER["en"], PARTNER["en"]
    booth = node.runtime.state.booths["en"]
    async with async_playwright() as playwright:
        duty_booth = await browser_with_microphone(playwright, tone_wav(tmp_path / "880.wav", 880))
        partner_booth = await browser_with_microphone(playwright, tone_wav(tmp_path / "440.wav", 440))
        listening = await browser_with_microphone(playwright, tone_wav(tmp_path / "silence.wav", 0))
        try:
            ear = await open_ear(listening, node, COUNCIL[1], "en")
            since = int(time.time() * 1000)
            partners_console = await real_page(partner_booth, node, partner, "interpreter")
            await expect(partners_console.get_by_test_id("mic-link")).to_have_attribute("data-status", "connected", timeout=10_000)
            await packets_at_janus(node, partner, await packets_counted(node, partner) + 50)
            console = await real_page(duty_booth, node, on_duty, "interpreter")
            await console.get_by_test_id("take-duty").click()
            await expect(console.get_by_test_id("mic")).to_be_enabled()
            await console.get_by_test_id("mic").click()
            opened_at = int(time.time() * 1000)
            await until(ear, f"vcc.firstHeard('880', {opened_at})")
            await until_true(lambda: booth.both_talking, timeout=15)
            # On both consoles: the booth's own alert, and its row in the booth table.
            for page in (console, partners_console):
                await expect(page.get_by_test_id("booth-alarms").get_by_text("both partners talking")).to_be_visible()
                await expect(page.get_by_test_id("booths").get_by_text("both partners talking")).to_be_visible()
            await console.get_by_test_id("mic").click()
            await until_true(lambda: not booth.both_talking, timeout=15)
            await expect(console.get_by_text("both partners talking")).to_have_count(0)
            assert not await ear.evaluate("since => vcc.heardSince('440', since)", since), "the partner off duty was heard"
        finally:
            await duty_booth.close()
            await partner_booth.close()
            await listening.close()
