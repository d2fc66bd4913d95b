"""The media adapter against a real Janus: a node started as ``vcc serve`` starts
it (its own Janus on free ports), the procedure's commands, and what Janus then
holds, read back with ``listparticipants``, ``listforwarders`` and the
Streaming ``list``/``info``; then ``kill -9`` of Janus and the rebuild."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from vcc.api.routes import MEDIA, SERVICE
from vcc.app import create_app
from vcc.config import Config
from vcc.media.desired import CHANNELS, ROOMS
from vcc.media.janus_client import JanusSession
from vcc.media.plane import MediaPlane
from vcc.media.reconciler import Reconciler
from vcc.service import Runtime
from vcc_protocol import commands as c
from vcc_protocol.vocabulary import ADMIN_ACTOR
from vcc_testkit.consultations import CHAIR, COUNCIL, FRENCH_SPEAKER, INTERPRETER, PARTNER, live_commands

CONSULTATION = "media-test"
_id = iter(range(1, 1_000_000))


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait for a condition the code under test makes true (an asyncio world with no event to await)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def until_gone(janus: Janus, room: str, participant: str, timeout: float = 10.0) -> None:
    """Wait until Janus no longer lists ``participant`` in ``room`` (AudioBridge lets a detached handle's participant go a moment later)."""
    deadline = time.monotonic() + timeout
    while participant in await janus.participants(room):
        assert time.monotonic() < deadline, f"{participant} is still in {room}"
        await asyncio.sleep(0.02)


@dataclass
class Janus:
    """A read-only look into Janus, through a session of the test's own."""

    session: JanusSession
    audiobridge: int
    streaming: int
    secret: str
    admin_key: str

    def room(self, name: str) -> str:
        return f"{CONSULTATION}/{name}"

    async def rooms(self) -> set[str]:
        return {r["room"] for r in (await self.session.request(self.audiobridge, {"request": "list", "admin_key": self.admin_key}))["list"]}

    async def participants(self, room: str) -> dict[str, bool]:
        """Participant -> microphone open."""
        answer = await self.session.request(self.audiobridge, {"request": "listparticipants", "room": self.room(room)})
        return {p["id"]: not p["muted"] for p in answer["participants"]}

    async def forwarded_ports(self, room: str) -> set[int]:
        answer = await self.session.request(self.audiobridge, {"request": "listforwarders", "room": self.room(room), "secret": self.secret})
        return {f["port"] for f in answer["rtp_forwarders"]}

    async def mounts(self) -> set[str]:
        answer = await self.session.request(self.streaming, {"request": "list", "admin_key": self.admin_key})
        return {m["id"] for m in answer["list"]}

    async def mount_port(self, channel: str) -> int:
        answer = await self.session.request(
            self.streaming, {"request": "info", "id": f"{CONSULTATION}/ch-{channel}", "secret": self.secret}
        )
        return int(answer["info"]["media"][0]["port"])

    async def feeds(self) -> dict[str, str]:
        """Channel -> the room whose mix is forwarded to its mountpoint."""
        by_port = {await self.mount_port(channel): channel for channel in CHANNELS}
        out: dict[str, str] = {}
        for room in ROOMS:
            for port in await self.forwarded_ports(room):
                if port not in by_port:
                    continue  # a forward into the webcast's ffmpeg (vcc.media.hls), not a listener channel
                assert by_port[port] not in out, f"channel {by_port[port]} is fed twice"
                out[by_port[port]] = room
        return out


@dataclass
class MediaNode:
    runtime: Runtime
    plane: MediaPlane
    http: aiohttp.ClientSession

    @property
    def reconciler(self) -> Reconciler:
        return self.plane.reconcilers[CONSULTATION]

    async def run(self, command: c.Command, actor: str) -> None:
        command = type(command)(**{**{f: getattr(command, f) for f in command.__struct_fields__}, "id": f"m{next(_id)}"})
        answer = await self.runtime.execute(command, actor)
        assert answer["ok"], answer

    async def settled(self) -> None:
        await asyncio.wait_for(self.reconciler.settled.wait(), 10)

    async def microphones(self, janus: Janus, room: str) -> dict[str, str]:
        """Participant -> "open" (heard), "metered" (unmuted at volume 0: measured, never
        heard) or "closed" (muted), from Janus's mute flags and the volumes the reconciler set."""
        quiet = self.reconciler.quiet
        return {
            p: "closed" if not unmuted else "metered" if (room, p) in quiet else "open"
            for p, unmuted in (await janus.participants(room)).items()
        }

    async def janus(self) -> Janus:
        endpoint = self.plane.endpoint
        assert endpoint is not None
        session = await JanusSession.create(self.http, endpoint.url, endpoint.secrets.api_secret)
        return Janus(
            session,
            await session.attach("janus.plugin.audiobridge"),
            await session.attach("janus.plugin.streaming"),
            endpoint.secrets.room_secret,
            endpoint.secrets.admin_key,
        )


@pytest.fixture
async def media_node(tmp_path: Path) -> AsyncIterator[MediaNode]:
    app = await create_app(Config(store=str(tmp_path / "store"), media="managed"))
    service = app[SERVICE]
    answers = await service.execute_all(CONSULTATION, live_commands(service.clock()), ADMIN_ACTOR)
    assert answers[-1]["ok"], answers[-1]
    runtime = await service.runtime(CONSULTATION)
    async with aiohttp.ClientSession() as http:
        node = MediaNode(runtime, app[MEDIA], http)
        await node.run(c.TakeUpItem(id=c.new_id(), item=runtime.state.agenda[0]), CHAIR)
        await node.settled()
        yield node
        app.freeze()
        await app.shutdown()
        await app.cleanup()


async def test_every_mix_channel_and_forward_is_built_from_the_state(media_node: MediaNode) -> None:
    janus = await media_node.janus()
    state = media_node.runtime.state
    assert await janus.rooms() == {janus.room(room) for room in ROOMS}
    assert await janus.mounts() == {f"{CONSULTATION}/ch-{channel}" for channel in CHANNELS}
    assert await janus.feeds() == {"floor": "floor", **{lang: f"booth-{lang}" for lang in ("ar", "zh", "en", "fr", "ru", "es")}}
    chairs = {p.id for p in state.participants.values() if p.role == "chair"}
    assert await janus.participants("floor") == {chair: True for chair in chairs}
    # Nobody is on duty: both interpreters are measured, neither is heard.
    assert await media_node.microphones(janus, "booth-en") == {INTERPRETER["en"]: "metered", PARTNER["en"]: "metered"}
    assert media_node.reconciler.status.up


async def test_request_grant_go_live_and_yield_drive_the_floor_mix(media_node: MediaNode) -> None:
    janus, node = await media_node.janus(), media_node
    delegate = FRENCH_SPEAKER
    await node.run(c.RequestFloor(id=c.new_id()), delegate)
    await node.run(c.RequestFloor(id=c.new_id()), COUNCIL[0])
    await node.settled()
    floor = await janus.participants("floor")
    assert floor[delegate] is False and floor[COUNCIL[0]] is False, "a request connects the delegation in advance, muted"

    started = time.perf_counter()
    await node.run(c.GrantFloor(id=c.new_id(), delegation=node.runtime.state.participants[delegate].delegation), CHAIR)
    await node.settled()
    granted_ms = (time.perf_counter() - started) * 1000
    floor = await janus.participants("floor")
    assert floor[delegate] is True and floor[COUNCIL[0]] is False
    print(f"grant -> unmuted in Janus: {granted_ms:.1f} ms (command, durable append, reconcile)")

    await node.run(c.GoLive(id=c.new_id()), delegate)
    await node.settled()
    language = node.runtime.state.floor_language
    assert language == "fr"
    feeds = await janus.feeds()
    assert feeds["fr"] == "floor" and feeds["floor"] == "floor" and feeds["en"] == "booth-en"

    await node.run(c.YieldFloor(id=c.new_id()), delegate)
    await node.settled()
    floor = await janus.participants("floor")
    assert floor.get(delegate, False) is False and floor[COUNCIL[0]] is False
    await until_gone(janus, "floor", delegate)
    assert (await janus.feeds())["fr"] == "booth-fr", "the French channel carries its booth again"


async def test_the_chairs_cut_and_a_revoked_grant_close_the_microphone(media_node: MediaNode) -> None:
    janus, node = await media_node.janus(), media_node
    await node.run(c.RequestFloor(id=c.new_id()), COUNCIL[0])
    await node.run(c.GrantFloor(id=c.new_id()), CHAIR)
    await node.settled()
    assert (await janus.participants("floor"))[COUNCIL[0]] is True
    await node.run(c.RevokeGrant(id=c.new_id()), CHAIR)
    await node.settled()
    # Closed at once (muted, acknowledged by Janus), then gone from the mix once its handle is.
    assert (await janus.participants("floor")).get(COUNCIL[0], False) is False
    await until_gone(janus, "floor", COUNCIL[0])
    await node.run(c.RequestFloor(id=c.new_id()), COUNCIL[0])
    await node.run(c.GrantFloor(id=c.new_id()), CHAIR)
    await node.run(c.GoLive(id=c.new_id()), COUNCIL[0])
    await node.settled()
    assert (await janus.participants("floor"))[COUNCIL[0]] is True
    await node.run(c.EndSpeech(id=c.new_id()), CHAIR)
    await node.settled()
    assert (await janus.participants("floor")).get(COUNCIL[0], False) is False
    await until_gone(janus, "floor", COUNCIL[0])


async def test_the_interpreter_on_duty_is_heard_and_a_handover_swaps_the_microphones(media_node: MediaNode) -> None:
    janus, node = await media_node.janus(), media_node
    first, partner = INTERPRETER["es"], PARTNER["es"]
    await node.run(c.TakeBoothDuty(id=c.new_id()), first)
    await node.run(c.SetBoothMic(id=c.new_id(), live=True), first)
    await node.settled()
    assert await node.microphones(janus, "booth-es") == {first: "open", partner: "metered"}
    await node.run(c.RequestHandover(id=c.new_id()), partner)
    await node.run(c.AcceptHandover(id=c.new_id()), first)
    await node.settled()
    # The handover closes the booth's microphone: the incoming interpreter opens it.
    assert await node.microphones(janus, "booth-es") == {first: "metered", partner: "closed"}
    await node.run(c.SetBoothMic(id=c.new_id(), live=True), partner)
    await node.settled()
    assert await node.microphones(janus, "booth-es") == {first: "metered", partner: "open"}


async def test_after_kill_9_of_janus_everything_is_rebuilt_and_the_procedure_never_stopped(media_node: MediaNode) -> None:
    node = media_node
    process = node.plane.process
    assert process is not None and process.pid is not None
    await node.run(c.RequestFloor(id=c.new_id()), COUNCIL[0])
    await node.settled()

    os.kill(process.pid, signal.SIGKILL)
    await until(lambda: not node.reconciler.status.up)
    assert "Janus unavailable" in node.reconciler.status.reason
    # The procedure does not wait for the media: commands go through while Janus is down or coming back.
    await node.run(c.RequestFloor(id=c.new_id()), COUNCIL[1])
    await node.run(c.GrantFloor(id=c.new_id()), CHAIR)

    killed_at = time.perf_counter()
    await until(lambda: node.reconciler.status.up and node.reconciler.settled.is_set())
    rebuilt_s = time.perf_counter() - killed_at
    janus = await node.janus()
    assert await janus.rooms() == {janus.room(room) for room in ROOMS}
    assert await janus.mounts() == {f"{CONSULTATION}/ch-{channel}" for channel in CHANNELS}
    assert len(await janus.feeds()) == len(CHANNELS)
    floor = await janus.participants("floor")
    assert floor[COUNCIL[0]] is True and floor[COUNCIL[1]] is False
    assert node.reconciler.status.losses == 1
    print(f"Janus killed -> everything rebuilt: {rebuilt_s * 1000:.0f} ms")


async def test_without_janus_the_procedure_works_and_the_status_says_why(tmp_path: Path) -> None:
    app = await create_app(Config(store=str(tmp_path / "store"), media="http://127.0.0.1:9/janus"))
    try:
        service = app[SERVICE]
        answers = await service.execute_all(CONSULTATION, live_commands(service.clock()), ADMIN_ACTOR)
        assert answers[-1]["ok"]
        reconciler = app[MEDIA].reconcilers[CONSULTATION]
        await until(lambda: "Janus unavailable" in reconciler.status.reason)
        assert not reconciler.status.up
        from vcc.ops.metrics import REGISTRY

        assert REGISTRY.get_sample_value("vcc_media_janus_up", {"consultation": CONSULTATION}) == 0
    finally:
        app.freeze()
        await app.shutdown()
        await app.cleanup()
