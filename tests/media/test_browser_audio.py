"""Real audio, end to end: Chromium pages whose fake microphones play WAV tones,
signalling only through vcc's socket, Janus driven by the procedure, and an
AudioWorklet in the listener's page classifying what it hears.

A delegate's page publishes 440 Hz as soon as its floor request connects it;
a listener on the floor channel must hear nothing of it until the chair's grant,
and the tone after it. The grant -> sound time is printed (measured from just
before the grant command to the first 20 ms window the listener's worklet
classified as 440 Hz; page and test share the machine's clock).
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import async_playwright
from vcc.client import ConsultationClient
from vcc_protocol import commands as c
from vcc_protocol import events as e
from vcc_protocol.vocabulary import MEDIA_ACTOR
from vcc_testkit.audio import (
    CONSULTATION,
    AudioNode,
    browser_with_microphone,
    janus_handles,
    open_ear,
    open_page,
    packets_at_janus,
    packets_counted,
    tone_wav,
    until,
    until_true,
)
from vcc_testkit.audio import audio_node as start_audio_node
from vcc_testkit.consultations import CHAIR, COUNCIL, FRENCH_SPEAKER, INTERPRETER

pytestmark = pytest.mark.browser


@pytest.fixture
async def audio_node(tmp_path: Path) -> AsyncIterator[AudioNode]:
    async with start_audio_node(tmp_path / "store") as node:
        yield node


async def test_a_listener_hears_a_delegate_only_after_the_grant(audio_node: AudioNode, tmp_path: Path) -> None:
    node = audio_node
    delegate, listener = COUNCIL[0], COUNCIL[1]
    async with async_playwright() as playwright:
        speaking = await browser_with_microphone(playwright, tone_wav(tmp_path / "440.wav", 440))
        listening = await browser_with_microphone(playwright, tone_wav(tmp_path / "silence.wav", 0))
        try:
            ear = await open_ear(listening, node, listener, "floor")
            await until(ear, "vcc.heard === 'silent'")

            mouth = await open_page(speaking, node, delegate)
            # Before any request the procedure has not connected this microphone: a page cannot force it.
            refused = await mouth.evaluate("vcc.publish()")
            assert refused["ok"] is False and refused["error"]["code"] == "not_in_mix"
            assert (await mouth.evaluate("vcc.command('request_floor')"))["ok"]
            published = await mouth.evaluate("vcc.publish()")
            assert published["ok"], published
            await until(mouth, "vcc.publishState === 'connected'")
            connected_at = int(time.time() * 1000)
            # Two seconds of the delegate's tone reach Janus (its Admin API counts them), muted:
            # the listener hears none of it (unmuted, it would within about 0.3 s).
            await packets_at_janus(node, delegate, 100)
            assert not await ear.evaluate("since => vcc.heardSince('440', since)", connected_at)

            granted_at = int(time.time() * 1000)
            await node.run(c.GrantFloor(id=c.new_id()), CHAIR)
            heard_at = await until(ear, f"vcc.firstHeard('440', {granted_at})")
            print(f"grant -> 440 Hz classified at the listener: {heard_at - granted_at} ms")
            assert heard_at - granted_at < 2_000
            # AudioBridge heard the speaker too: the procedure's time to floor ends there, not at "go live".
            await until_true(lambda: node.runtime.state.grant is not None and node.runtime.state.grant.heard_at is not None)
            grant = node.runtime.state.grant
            assert grant is not None and grant.heard_at is not None
            print(f"grant -> the media heard the speaker (time to floor): {grant.heard_at - grant.granted_at} ms")
            assert 0 < grant.heard_at - grant.granted_at < 2_000

            await node.run(c.RevokeGrant(id=c.new_id()), CHAIR)
            cut_at = int(time.time() * 1000)
            silent_at = await until(ear, f"vcc.firstHeard('silent', {cut_at})")
            print(f"revoke -> silence at the listener: {silent_at - cut_at} ms")
        finally:
            await speaking.close()
            await listening.close()


async def test_the_floor_language_channel_carries_the_floor_and_the_others_their_booth(audio_node: AudioNode, tmp_path: Path) -> None:
    """A French speaker live: the French listener hears the speaker (440 Hz), never
    the French booth (880 Hz), while the English listener hears the English booth."""
    node = audio_node
    async with async_playwright() as playwright:
        speaking = await browser_with_microphone(playwright, tone_wav(tmp_path / "440.wav", 440))
        booths = await browser_with_microphone(playwright, tone_wav(tmp_path / "880.wav", 880))
        listening = await browser_with_microphone(playwright, tone_wav(tmp_path / "silence.wav", 0))
        try:
            ears = {lang: await open_ear(listening, node, who, lang, wait=False) for lang, who in (("fr", COUNCIL[1]), ("en", COUNCIL[2]))}
            for lang in ("fr", "en"):
                booth = await open_page(booths, node, INTERPRETER[lang], "interpreter")
                assert (await booth.evaluate("vcc.command('take_booth_duty')"))["ok"]
                assert (await booth.evaluate("vcc.command('set_booth_mic', {live: true})"))["ok"]
                published = await booth.evaluate("vcc.publish()")
                assert published["ok"], published
            # Nobody speaks: each channel carries its booth.
            await until(ears["fr"], "vcc.heard === '880'")
            await until(ears["en"], "vcc.heard === '880'")

            mouth = await open_page(speaking, node, FRENCH_SPEAKER)
            assert (await mouth.evaluate("vcc.command('request_floor')"))["ok"]
            published = await mouth.evaluate("vcc.publish()")
            assert published["ok"], published
            await until(mouth, "vcc.publishState === 'connected'")
            await node.run(c.GrantFloor(id=c.new_id()), CHAIR)
            live_at = int(time.time() * 1000)
            assert (await mouth.evaluate("vcc.command('go_live')"))["ok"]
            rerouted_at = await until(ears["fr"], f"vcc.firstHeard('440', {live_at})")
            print(f"French speaker live -> the French channel carries the floor: {rerouted_at - live_at} ms")
            # From then on, while the French speaker is live (one more second of their audio counted
            # at Janus): no booth in the French channel, the booth in the English one.
            settled = rerouted_at + 100
            await packets_at_janus(node, FRENCH_SPEAKER, await packets_counted(node, FRENCH_SPEAKER) + 50)
            assert not await ears["fr"].evaluate("since => vcc.heardSince('880', since)", settled), (
                "the French booth echoed into the French channel"
            )
            assert await ears["en"].evaluate("vcc.heard") == "880"
            assert not await ears["en"].evaluate("since => vcc.heardSince('440', since)", settled)
        finally:
            for browser in (speaking, booths, listening):
                await browser.close()


async def test_the_next_speaker_is_not_heard_while_the_interpretation_tail_holds(audio_node: AudioNode, tmp_path: Path) -> None:
    node = audio_node
    previous, following, listener = COUNCIL[2], COUNCIL[0], COUNCIL[1]
    delegation_of = {p: node.runtime.state.participants[p].delegation for p in (previous, following)}
    async with async_playwright() as playwright:
        speaking = await browser_with_microphone(playwright, tone_wav(tmp_path / "440.wav", 440))
        listening = await browser_with_microphone(playwright, tone_wav(tmp_path / "silence.wav", 0))
        try:
            ear = await open_ear(listening, node, listener, "floor", wait=False)
            await node.run(c.TakeBoothDuty(id=c.new_id()), INTERPRETER["en"])
            await node.run(c.SetBoothMic(id=c.new_id(), live=True), INTERPRETER["en"])
            mouth = await open_page(speaking, node, following)
            assert (await mouth.evaluate("vcc.command('request_floor')"))["ok"]
            published = await mouth.evaluate("vcc.publish()")
            assert published["ok"], published
            await until(mouth, "vcc.publishState === 'connected'")
            await node.run(c.RequestFloor(id=c.new_id()), previous)
            await node.run(c.GrantFloor(id=c.new_id(), delegation=delegation_of[previous]), CHAIR)
            await node.run(c.GoLive(id=c.new_id()), previous)
            await node.run(c.YieldFloor(id=c.new_id()), previous)
            assert node.runtime.state.tail is not None and node.runtime.state.tail.booths == ["en"]
            granted_at = int(time.time() * 1000)
            await node.run(c.GrantFloor(id=c.new_id(), delegation=delegation_of[following]), CHAIR)
            # A second of the next speaker's audio reaches Janus during the tail: nobody hears it.
            await packets_at_janus(node, following, await packets_counted(node, following) + 50)
            assert node.runtime.state.tail is not None, "the tail ended before the check: the machine is too slow for this test"
            assert not await ear.evaluate("since => vcc.heardSince('440', since)", granted_at)
            # The English booth has finished: the tail ends, the granted speaker is heard.
            finished_at = int(time.time() * 1000)
            await node.run(c.BoothFinished(id=c.new_id()), INTERPRETER["en"])
            heard_at = await until(ear, f"vcc.firstHeard('440', {finished_at})")
            print(f"booth finished -> the next speaker heard at the listener: {heard_at - finished_at} ms")
        finally:
            await speaking.close()
            await listening.close()


async def test_the_booths_silence_ends_the_tail_early(tmp_path: Path) -> None:
    """The English booth interprets (880 Hz) when the speech ends, so the tail holds the
    next speaker; when the interpreter falls silent, AudioBridge reports it, the media
    adapter tells the procedure, and the next speaker is heard long before the bounded
    tail (20 s here) would have let them."""
    previous, following, listener = COUNCIL[2], COUNCIL[0], COUNCIL[1]
    async with start_audio_node(tmp_path / "store", tail_ms=20_000) as node, async_playwright() as playwright:
        reconciler = node.media.reconcilers[CONSULTATION]
        delegation_of = {p: node.runtime.state.participants[p].delegation for p in (previous, following)}
        tail_ends: list[e.Event] = []
        node.runtime.subscribe(lambda batch: tail_ends.extend(ev for ev in batch.events if isinstance(ev, e.InterpretationTailEnded)))
        speaking = await browser_with_microphone(playwright, tone_wav(tmp_path / "440.wav", 440))
        booths = await browser_with_microphone(playwright, tone_wav(tmp_path / "880.wav", 880))
        listening = await browser_with_microphone(playwright, tone_wav(tmp_path / "silence.wav", 0))
        try:
            ear = await open_ear(listening, node, listener, "floor", wait=False)
            booth = await open_page(booths, node, INTERPRETER["en"], "interpreter")
            assert (await booth.evaluate("vcc.command('take_booth_duty')"))["ok"]
            assert (await booth.evaluate("vcc.command('set_booth_mic', {live: true})"))["ok"]
            published = await booth.evaluate("vcc.publish()")
            assert published["ok"], published
            await until_true(lambda: reconciler._actual.talking.get(("booth-en", INTERPRETER["en"])) is True)
            mouth = await open_page(speaking, node, following)
            assert (await mouth.evaluate("vcc.command('request_floor')"))["ok"]
            published = await mouth.evaluate("vcc.publish()")
            assert published["ok"], published
            await until(mouth, "vcc.publishState === 'connected'")
            await node.run(c.RequestFloor(id=c.new_id()), previous)
            await node.run(c.GrantFloor(id=c.new_id(), delegation=delegation_of[previous]), CHAIR)
            await node.run(c.GoLive(id=c.new_id()), previous)
            await node.run(c.YieldFloor(id=c.new_id()), previous)
            tail = node.runtime.state.tail
            assert tail is not None and tail.booths == ["en"]
            granted_at = int(time.time() * 1000)
            await node.run(c.GrantFloor(id=c.new_id(), delegation=delegation_of[following]), CHAIR)
            # The booth still interprets: a second of the next speaker's audio reaches Janus, nobody hears it.
            await packets_at_janus(node, following, await packets_counted(node, following) + 50)
            assert node.runtime.state.tail is not None and not tail_ends
            assert not await ear.evaluate("since => vcc.heardSince('440', since)", granted_at)

            silent_at = int(time.time() * 1000)
            await booth.evaluate("vcc.mic.getTracks()[0].enabled = false")
            heard_at = await until(ear, f"vcc.firstHeard('440', {silent_at})", 15_000)
            (ended,) = tail_ends
            assert (ended.reason, ended.actor) == ("silence", MEDIA_ACTOR)  # type: ignore[attr-defined]
            print(f"booth silent -> tail ended by the media: {ended.at - silent_at} ms; -> next speaker heard: {heard_at - silent_at} ms")
            assert heard_at < tail.until, "heard only when the bounded tail would have ended anyway"
        finally:
            for browser in (speaking, booths, listening):
                await browser.close()


async def test_after_kill_9_of_janus_the_audio_returns_without_a_click(audio_node: AudioNode, tmp_path: Path) -> None:
    node = audio_node
    delegate, listener = COUNCIL[0], COUNCIL[1]
    process = node.media.process
    assert process is not None
    async with async_playwright() as playwright:
        speaking = await browser_with_microphone(playwright, tone_wav(tmp_path / "440.wav", 440))
        listening = await browser_with_microphone(playwright, tone_wav(tmp_path / "silence.wav", 0))
        try:
            ear = await open_ear(listening, node, listener, "floor", wait=False)
            mouth = await open_page(speaking, node, delegate)
            assert (await mouth.evaluate("vcc.command('request_floor')"))["ok"]
            published = await mouth.evaluate("vcc.publish()")
            assert published["ok"], published
            await node.run(c.GrantFloor(id=c.new_id()), CHAIR)
            await until(ear, "vcc.heard === '440'")

            assert process.pid is not None
            killed_at = int(time.time() * 1000)
            os.kill(process.pid, signal.SIGKILL)
            await until(ear, f"vcc.firstHeard('silent', {killed_at}) !== null")
            back_at = await until(ear, f"vcc.firstHeard('440', {killed_at})", 15_000)
            print(f"kill -9 of Janus -> the delegate heard again at the listener: {back_at - killed_at} ms")
            assert await ear.evaluate("vcc.resets") == 1 and await mouth.evaluate("vcc.resets") == 1
            assert back_at - killed_at < 5_000, "the issue's target: audio back within 5 s, without a click"
        finally:
            await speaking.close()
            await listening.close()


async def test_a_muted_delegate_stays_silent_whatever_its_page_does(audio_node: AudioNode, tmp_path: Path) -> None:
    """The page of a delegate waiting in the queue tries what a page can: publish
    again (a new offer), claim to be unmuted, trickle candidates, ask for another
    channel. Its microphone stays closed at every listener until the grant."""
    node = audio_node
    delegate = COUNCIL[0]
    async with async_playwright() as playwright:
        speaking = await browser_with_microphone(playwright, tone_wav(tmp_path / "440.wav", 440))
        listening = await browser_with_microphone(playwright, tone_wav(tmp_path / "silence.wav", 0))
        try:
            ears = [await open_ear(listening, node, who, channel) for who, channel in ((COUNCIL[1], "floor"), (COUNCIL[2], "es"))]
            mouth = await open_page(speaking, node, delegate)
            assert (await mouth.evaluate("vcc.command('request_floor')"))["ok"]
            published = await mouth.evaluate("vcc.publish()")
            assert published["ok"], published
            await until(mouth, "vcc.publishState === 'connected'")
            since = int(time.time() * 1000)
            tricks = await mouth.evaluate("""async () => {
              const answers = [];
              answers.push(await vcc.media({ op: "publish", sdp: vcc.publishPc.localDescription.sdp, muted: false }));
              answers.push(await vcc.media({ op: "unmute" }));
              answers.push(await vcc.media({ op: "ice", stream: "publish", candidate: null }));
              answers.push(await vcc.command("go_live"));
              answers.push(await vcc.publish());
              return answers;
            }""")
            assert [a["ok"] for a in tricks] == [False, False, True, False, True], tricks
            assert tricks[3]["error"]["code"] == "not_granted"
            await until(mouth, "vcc.publishState === 'connected'")
            # Two more seconds of its tone reach Janus: no listener hears any of it.
            await packets_at_janus(node, delegate, await packets_counted(node, delegate) + 100)
            for ear in ears:
                assert not await ear.evaluate("since => vcc.heardSince('440', since)", since)
            assert (await node.media.reconcilers[CONSULTATION]._ab({"request": "listparticipants", "room": f"{CONSULTATION}/floor"}))[
                "participants"
            ]
        finally:
            await speaking.close()
            await listening.close()


async def test_a_delegate_whose_page_dropped_is_granted_and_heard_from_a_new_page(audio_node: AudioNode, tmp_path: Path) -> None:
    """AudioBridge lets a participant go when their browser's connection ends; the
    grant joins them again instead of failing, nobody else is disturbed (no rebuild),
    and the reloaded page is heard."""
    node = audio_node
    delegate = COUNCIL[0]
    reconciler = node.media.reconcilers[CONSULTATION]
    async with async_playwright() as playwright:
        speaking = await browser_with_microphone(playwright, tone_wav(tmp_path / "440.wav", 440))
        listening = await browser_with_microphone(playwright, tone_wav(tmp_path / "silence.wav", 0))
        try:
            ear = await open_ear(listening, node, COUNCIL[1], "floor", wait=False)
            mouth = await open_page(speaking, node, delegate)
            assert (await mouth.evaluate("vcc.command('request_floor')"))["ok"]
            published = await mouth.evaluate("vcc.publish()")
            assert published["ok"], published
            await until(mouth, "vcc.publishState === 'connected'")
            # The page goes away (its connection closed, as on a reload).
            await mouth.evaluate("vcc.publishPc.close()")
            await mouth.context.close()
            floor = f"{CONSULTATION}/floor"
            deadline = time.monotonic() + 10
            while delegate in {p["id"] for p in (await reconciler._ab({"request": "listparticipants", "room": floor}))["participants"]}:
                assert time.monotonic() < deadline, "AudioBridge kept the participant whose connection ended"
                await asyncio.sleep(0.05)
            granted_at = int(time.time() * 1000)
            await node.run(c.GrantFloor(id=c.new_id()), CHAIR)
            await asyncio.wait_for(reconciler.settled.wait(), 10)
            present = {
                p["id"]: not p["muted"] for p in (await reconciler._ab({"request": "listparticipants", "room": floor}))["participants"]
            }
            assert present[delegate] is True and reconciler.status.losses == 0
            again = await open_page(speaking, node, delegate)
            published = await again.evaluate("vcc.publish()")
            assert published["ok"], published
            heard_at = await until(ear, f"vcc.firstHeard('440', {granted_at})")
            print(f"grant -> heard from the reloaded page: {heard_at - granted_at} ms (page opened in between)")
        finally:
            await speaking.close()
            await listening.close()


async def test_garbage_sdp_gets_a_clear_error_and_disturbs_no_one(audio_node: AudioNode, tmp_path: Path) -> None:
    node = audio_node
    async with async_playwright() as playwright:
        browser = await browser_with_microphone(playwright, tone_wav(tmp_path / "440.wav", 440))
        try:
            page = await open_page(browser, node, COUNCIL[0])
            assert (await page.evaluate("vcc.command('request_floor')"))["ok"]
            for body, code in [
                ({"op": "publish", "sdp": "hello"}, "invalid_sdp"),
                (
                    {"op": "publish", "sdp": "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nnonsense\r\n"},
                    "invalid_sdp",
                ),
                ({"op": "publish", "sdp": "v=0" + "x" * 20_000}, "invalid_media_request"),
                ({"op": "unmute"}, "invalid_media_request"),
                ({"op": "listen", "channel": "klingon"}, "invalid_media_request"),
                ({"op": "publish", "sdp": "v=0\r\nm=audio 9\r\n", "muted": False}, "invalid_media_request"),
                ({"op": "answer", "sdp": "v=0\r\nm=audio 9\r\n"}, "invalid_media_request"),
            ]:
                answer = await page.evaluate("body => vcc.media(body)", body)
                assert answer["ok"] is False and answer["error"]["code"] == code, (body, answer)
                assert answer["error"]["message"]
            # The delegate's place in the floor mix and everyone else's media are untouched.
            reconciler = node.media.reconcilers[CONSULTATION]
            assert reconciler.status.up
            published = await page.evaluate("vcc.publish()")
            assert published["ok"], published
            await until(page, "vcc.publishState === 'connected'")
        finally:
            await browser.close()


async def test_a_closed_connection_releases_its_listening_handle(audio_node: AudioNode) -> None:
    """Janus holds a listening handle only while the participant's browser is connected."""
    node = audio_node
    client = ConsultationClient(node.url, node.token(COUNCIL[1]))
    await client.connect()
    offered = await client.sio.call("media", {"op": "listen", "channel": "en"})
    assert offered["ok"] and offered["sdp"].startswith("v=0")
    reconciler = node.media.reconcilers[CONSULTATION]
    handles_before = await janus_handles(node)
    await client.close()
    await until_true(lambda: COUNCIL[1] not in reconciler.listening())
    assert len(await janus_handles(node)) == len(handles_before) - 1
