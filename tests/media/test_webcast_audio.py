"""The webcast's audio, end to end: Janus mixes driven by the procedure, an RTP
forward per channel into ffmpeg, HLS served by the node, and the public webcast
page (hls.js in Chromium, which has no native HLS) playing it into an
AudioWorklet that classifies what the viewer hears (tests/media/page/tone.js).

The delegate's fake microphone plays 440 Hz, the English interpreter's 880 Hz.
The grant -> heard-on-the-webcast time is printed: it is the webcast's latency
(ffmpeg's one-second segments, hls.js three segments behind the live edge).
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import Page, async_playwright
from vcc_protocol import commands as c
from vcc_protocol.vocabulary import ADMIN_ACTOR
from vcc_testkit.audio import CONSULTATION, AudioNode, browser_with_microphone, open_page, tone_wav, until, until_true
from vcc_testkit.audio import audio_node as start_audio_node
from vcc_testkit.consultations import CHAIR, COUNCIL, FRENCH_SPEAKER, INTERPRETER

pytestmark = pytest.mark.browser


@pytest.fixture
async def audio_node(tmp_path: Path) -> AsyncIterator[AudioNode]:
    async with start_audio_node(tmp_path / "store") as node:
        await node.run(c.SetWebcast(id=c.new_id(), public=True), ADMIN_ACTOR)
        yield node


async def _channel(page: Page, channel: str) -> int:
    await page.get_by_test_id(f"webcast-channel-{channel}").check()
    return int(time.time() * 1000)


#: A browser without native HLS (Firefox; Chromium before its native player): the page must load hls.js.
WITHOUT_NATIVE_HLS = """(() => {
  const canPlayType = HTMLMediaElement.prototype.canPlayType;
  HTMLMediaElement.prototype.canPlayType = function (type) { return /mpegurl/i.test(type) ? "" : canPlayType.call(this, type); };
})();"""


@pytest.mark.parametrize("player", ["native", "hls.js"])
async def test_the_webcast_page_plays_the_floor_then_a_language_channel(audio_node: AudioNode, tmp_path: Path, player: str) -> None:
    node = audio_node
    delegate = COUNCIL[0]
    async with async_playwright() as playwright:
        speaking = await browser_with_microphone(playwright, tone_wav(tmp_path / "440.wav", 440))
        booth = await browser_with_microphone(playwright, tone_wav(tmp_path / "880.wav", 880))
        viewing = await browser_with_microphone(playwright, tone_wav(tmp_path / "silence.wav", 0))
        try:
            context = await viewing.new_context()
            if player == "hls.js":
                await context.add_init_script(WITHOUT_NATIVE_HLS)
            viewer = await context.new_page()
            chunks: list[str] = []
            viewer.on("request", lambda request: chunks.append(request.url) if "/assets/chunks/hls" in request.url else None)
            await viewer.goto(f"{node.url}/webcast/{CONSULTATION}")
            await viewer.get_by_test_id("webcast-listen").wait_for()
            native = await viewer.evaluate("() => document.querySelector('audio').canPlayType('application/vnd.apple.mpegurl')")
            assert (native != "") == (player == "native"), f"this Chromium's native HLS: {native!r}"
            await viewer.add_script_tag(url="/test-media/webcast_ear.js")
            await viewer.evaluate("webcastEar()")
            await _channel(viewer, "floor")
            await viewer.get_by_test_id("webcast-listen").click()
            # The floor channel plays (AudioBridge forwards silence while nobody speaks).
            await until(viewer, "!document.querySelector('audio').paused && ear.heard === 'silent'", 20_000)

            mouth = await open_page(speaking, node, delegate)
            assert (await mouth.evaluate("vcc.command('request_floor')"))["ok"]
            published = await mouth.evaluate("vcc.publish()")
            assert published["ok"], published
            await until(mouth, "vcc.publishState === 'connected'")
            granted_at = int(time.time() * 1000)
            await node.run(c.GrantFloor(id=c.new_id()), CHAIR)
            heard_at = await until(viewer, f"ear.firstHeard('440', {granted_at})", 20_000)
            print(f"{player}: grant -> 440 Hz heard on the webcast page: {heard_at - granted_at} ms")
            assert bool(chunks) == (player == "hls.js"), "hls.js is loaded only where the browser has no native HLS"
            assert heard_at - granted_at < 10_000

            interpreter = await open_page(booth, node, INTERPRETER["en"], "interpreter")
            assert (await interpreter.evaluate("vcc.command('take_booth_duty')"))["ok"]
            assert (await interpreter.evaluate("vcc.command('set_booth_mic', {live: true})"))["ok"]
            published = await interpreter.evaluate("vcc.publish()")
            assert published["ok"], published
            await until(interpreter, "vcc.publishState === 'connected'")
            switched_at = await _channel(viewer, "en")
            heard_at = await until(viewer, f"ear.firstHeard('880', {switched_at})", 20_000)
            print(f"{player}: switch to English -> 880 Hz heard on the webcast page: {heard_at - switched_at} ms")
            # Once the English channel plays, the delegate's tone is not in it.
            settled = await until(viewer, "ear.heard === '880' && Date.now()") + 1_000
            await until(viewer, f"Date.now() > {settled + 2_000}", 10_000)
            assert not await viewer.evaluate(f"ear.tones.some((t) => t.tone === '440' && t.at >= {settled})")
        finally:
            for browser in (speaking, booth, viewing):
                await browser.close()


async def test_the_archive_lists_the_recordings_of_a_closed_sitting(audio_node: AudioNode, tmp_path: Path) -> None:
    node = audio_node
    live = tmp_path / "store" / "webcast" / CONSULTATION / "live" / "floor"
    # The channels are encoded while the sitting is open: wait for the floor's first segments.
    await until_true(lambda: len(list(live.glob("*.m4s"))) >= 2, 20)
    await node.run(c.CloseSitting(id=c.new_id()), CHAIR)
    day = node.runtime.state.sittings[-1].day
    async with aiohttp.ClientSession() as http:
        # The close stops the encoders, which finish their files: the archive lists them at once,
        # and the floor's file is complete once ffmpeg has exited.
        ffmpeg_done = asyncio.get_running_loop().time() + 10
        while True:
            async with http.get(f"{node.url}/webcast/{CONSULTATION}/archive.json") as reply:
                archive = await reply.json()
            sitting = archive["sittings"][0]
            if any(r["channel"] == "floor" and r["bytes"] > 1000 for r in sitting["recordings"]):
                break
            assert asyncio.get_running_loop().time() < ffmpeg_done, archive
            await asyncio.sleep(0.1)
        assert sitting["day"] == day
        assert sorted(r["channel"] for r in sitting["recordings"]) == sorted(["floor", "ar", "zh", "en", "fr", "ru", "es"])
        floor = next(r for r in sitting["recordings"] if r["channel"] == "floor")
        async with http.get(f"{node.url}{floor['url']}") as reply:
            body = await reply.read()
            assert reply.status == 200 and reply.headers["Content-Type"] == "audio/aac"
        assert len(body) > 1000 and body[:2] == b"\xff\xf1", "an ADTS AAC stream"
        # The sitting is over: its last playlist is still on disk, but no longer served as live.
        assert (live / "index.m3u8").exists()
        async with http.get(f"{node.url}/webcast/{CONSULTATION}/audio/floor/index.m3u8") as reply:
            assert reply.status == 404
    async with async_playwright() as playwright:
        viewing = await browser_with_microphone(playwright, tone_wav(tmp_path / "silence.wav", 0))
        try:
            viewer = await (await viewing.new_context()).new_page()
            await viewer.goto(f"{node.url}/webcast/{CONSULTATION}")
            await viewer.get_by_test_id(f"webcast-sitting-{day}").get_by_test_id("webcast-recording").first.wait_for()
            assert await viewer.get_by_test_id("webcast-recording").count() == 7
        finally:
            await viewing.close()


async def test_the_floor_language_channel_of_the_webcast_carries_the_speaker_not_the_booth(audio_node: AudioNode, tmp_path: Path) -> None:
    """A French speaker goes live: the webcast's French channel moves from the French booth
    (880 Hz) to the floor (440 Hz), and back when the speech ends. The forward into ffmpeg
    is a new one each time (its RTP numbering starts again): the channel must not stall."""
    node = audio_node
    async with async_playwright() as playwright:
        speaking = await browser_with_microphone(playwright, tone_wav(tmp_path / "440.wav", 440))
        booth = await browser_with_microphone(playwright, tone_wav(tmp_path / "880.wav", 880))
        viewing = await browser_with_microphone(playwright, tone_wav(tmp_path / "silence.wav", 0))
        try:
            interpreter = await open_page(booth, node, INTERPRETER["fr"], "interpreter")
            assert (await interpreter.evaluate("vcc.command('take_booth_duty')"))["ok"]
            assert (await interpreter.evaluate("vcc.command('set_booth_mic', {live: true})"))["ok"]
            published = await interpreter.evaluate("vcc.publish()")
            assert published["ok"], published
            viewer = await (await viewing.new_context()).new_page()
            await viewer.goto(f"{node.url}/webcast/{CONSULTATION}")
            await viewer.get_by_test_id("webcast-listen").wait_for()
            await viewer.add_script_tag(url="/test-media/webcast_ear.js")
            await viewer.evaluate("webcastEar()")
            await _channel(viewer, "fr")
            await viewer.get_by_test_id("webcast-listen").click()
            await until(viewer, "ear.heard === '880'", 20_000)

            mouth = await open_page(speaking, node, FRENCH_SPEAKER)
            assert (await mouth.evaluate("vcc.command('request_floor')"))["ok"]
            published = await mouth.evaluate("vcc.publish()")
            assert published["ok"], published
            await until(mouth, "vcc.publishState === 'connected'")
            await node.run(c.GrantFloor(id=c.new_id(), delegation=node.runtime.state.participants[FRENCH_SPEAKER].delegation), CHAIR)
            if node.runtime.state.tail is not None:
                await node.run(c.OverrideTail(id=c.new_id()), CHAIR)
            live_at = int(time.time() * 1000)
            assert (await mouth.evaluate("vcc.command('go_live')"))["ok"]
            heard_at = await until(viewer, f"ear.firstHeard('440', {live_at})", 20_000)
            print(f"French speaker live -> the webcast's French channel carries the floor: {heard_at - live_at} ms")
            # Two seconds into the speech (its audio is continuous at the microphone), the channel still
            # carries the speaker: the swap did not stall it, and the booth is not heard over it.
            steady = heard_at + 500
            await until(viewer, f"Date.now() > {steady + 2_000}", 10_000)
            assert not await viewer.evaluate(f"ear.tones.some((t) => t.tone !== '440' && t.at >= {steady})"), await viewer.evaluate(
                "ear.tones.slice(-5)"
            )
            yielded_at = int(time.time() * 1000)
            assert (await mouth.evaluate("vcc.command('yield_floor')"))["ok"]
            back_at = await until(viewer, f"ear.firstHeard('880', {yielded_at})", 20_000)
            print(f"speech over -> the French channel carries the booth again: {back_at - yielded_at} ms")
        finally:
            for browser in (speaking, booth, viewing):
                await browser.close()


async def test_after_kill_9_of_janus_the_webcast_plays_the_speaker_again(audio_node: AudioNode, tmp_path: Path) -> None:
    """Janus restarted: the reconciler rebuilds the mixes in a new session, and the webcast's
    forwards follow (ffmpeg and its port stay), so the page hears the speaker again by itself."""
    node = audio_node
    process = node.media.process
    assert process is not None
    async with async_playwright() as playwright:
        speaking = await browser_with_microphone(playwright, tone_wav(tmp_path / "440.wav", 440))
        viewing = await browser_with_microphone(playwright, tone_wav(tmp_path / "silence.wav", 0))
        try:
            mouth = await open_page(speaking, node, COUNCIL[0])
            assert (await mouth.evaluate("vcc.command('request_floor')"))["ok"]
            published = await mouth.evaluate("vcc.publish()")
            assert published["ok"], published
            await node.run(c.GrantFloor(id=c.new_id()), CHAIR)
            viewer = await (await viewing.new_context()).new_page()
            await viewer.goto(f"{node.url}/webcast/{CONSULTATION}")
            await viewer.get_by_test_id("webcast-listen").wait_for()
            await viewer.add_script_tag(url="/test-media/webcast_ear.js")
            await viewer.evaluate("webcastEar()")
            await _channel(viewer, "floor")
            await viewer.get_by_test_id("webcast-listen").click()
            await until(viewer, "ear.heard === '440'", 20_000)

            assert process.pid is not None
            killed_at = int(time.time() * 1000)
            os.kill(process.pid, signal.SIGKILL)
            # The delegate's page reconnects its microphone after media_reset (as in test_browser_audio).
            await until(viewer, f"ear.firstHeard('silent', {killed_at}) !== null", 20_000)
            back_at = await until(viewer, f"ear.firstHeard('440', {killed_at})", 30_000)
            print(f"kill -9 of Janus -> the delegate heard again on the webcast page: {back_at - killed_at} ms")
        finally:
            await speaking.close()
            await viewing.close()


def _ffmpeg_pids(folder: Path) -> dict[str, int]:
    """Channel -> pid of the ffmpeg writing under ``folder`` (this test's node only)."""
    found = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"ffmpeg") and str(folder).encode() in b" ".join(argv):
            sdp = Path(argv[argv.index(b"-i") + 1].decode())
            found[sdp.parent.name] = int(proc.name)
    return found


async def test_a_killed_ffmpeg_is_started_again_and_the_channel_goes_on(audio_node: AudioNode, tmp_path: Path) -> None:
    node = audio_node
    folder = tmp_path / "store" / "webcast"
    live = folder / CONSULTATION / "live" / "floor"
    await until_true(lambda: len(_ffmpeg_pids(folder)) == 7 and len(list(live.glob("*.m4s"))) >= 1, 20)
    killed = _ffmpeg_pids(folder)["floor"]
    os.kill(killed, signal.SIGKILL)
    await until_true(lambda: _ffmpeg_pids(folder).get("floor") not in (None, killed), 20)
    before = {p.name for p in live.glob("*.m4s")}
    # The new ffmpeg writes new segments into the same playlist, under names never used before.
    await until_true(lambda: len({p.name for p in live.glob("*.m4s")} - before) >= 2, 20)
    recordings = sorted((folder / CONSULTATION / "recordings").glob("*/floor-*.aac"))
    assert len(recordings) == 2, "a restart starts a new recording, never truncates the one before"
    # Closing the sitting stops every ffmpeg: none is left behind.
    await node.run(c.CloseSitting(id=c.new_id()), CHAIR)
    await until_true(lambda: not _ffmpeg_pids(folder), 20)
