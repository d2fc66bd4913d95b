"""Practice consultations (the floor drill): created on a join link, run by the real
core on the real socket, bounded, discarded, and never seen by the real consultation."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from vcc.api.routes import PRACTICE, SECRET, SERVICE
from vcc.app import GATEWAY, create_app
from vcc.auth.tokens import Claims, sign
from vcc.client import ConsultationClient
from vcc.config import Config
from vcc.practice import CHAIR, PREFIX, PracticeRooms, Script
from vcc.service import Runtime, Service
from vcc.store.base import ConcurrencyConflict, DuplicateCommand, StoreUnavailable
from vcc.store.memory import MemoryStore
from vcc_protocol.events import FloorGranted
from vcc_protocol.vocabulary import ADMIN_ACTOR
from vcc_testkit.consultations import CHAIR as REAL_CHAIR
from vcc_testkit.consultations import COUNCIL, live_commands
from vcc_testkit.node import CONSULTATION

FAST = Script(chair_reaction_ms=50, others_go_live_ms=50, others_speech_ms=200, booth_finishes_ms=50)


class PracticeNode:
    def __init__(self, server: TestServer) -> None:
        self.server = server
        self.service: Service = server.app[SERVICE]
        self.secret: bytes = server.app[SECRET]
        self.rooms: PracticeRooms = server.app[PRACTICE]
        self.clients: list[ConsultationClient] = []

    @property
    def url(self) -> str:
        return str(self.server.make_url("")).rstrip("/")

    def token(self, participant: str, role: str = "delegate", consultation: str = CONSULTATION) -> str:
        return sign(self.secret, Claims(participant, role, consultation, self.service.clock() + 3_600_000))

    async def start(self, token: str | None) -> tuple[int, dict[str, Any]]:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        async with aiohttp.ClientSession() as http, http.post(f"{self.url}/api/practice", headers=headers) as answer:
            return answer.status, await answer.json()

    async def drill(self, participant: str) -> tuple[str, ConsultationClient]:
        status, body = await self.start(self.token(participant))
        assert status == 201, body
        client = ConsultationClient(self.url, body["token"], reconnection=False)
        await client.connect()
        self.clients.append(client)
        return body["consultation"], client


@pytest.fixture
async def make_practice_node(tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[PracticeNode]]]:
    started: list[PracticeNode] = []

    async def make(**config: Any) -> PracticeNode:
        app = await create_app(Config(store=str(tmp_path / f"store{len(started)}"), **config))
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        node = PracticeNode(server)
        started.append(node)
        node.rooms.script = FAST
        answers = await node.service.execute_all(CONSULTATION, live_commands(node.service.clock()), ADMIN_ACTOR)
        assert answers[-1]["ok"], answers[-1]
        return node

    yield make
    for node in started:
        for client in node.clients:
            await client.close()
        await node.server.close()


@pytest.fixture
async def practice_node(make_practice_node: Callable[..., Awaitable[PracticeNode]]) -> PracticeNode:
    return await make_practice_node()


def unloaded(service: Service, consultation: str) -> asyncio.Future[Runtime]:
    """Resolves with the runtime of ``consultation`` when the service unloads it."""
    done: asyncio.Future[Runtime] = asyncio.get_running_loop().create_future()

    def seen(runtime: Runtime) -> None:
        if runtime.consultation == consultation and not done.done():
            done.set_result(runtime)

    service.on_unload(seen)
    return done


async def test_the_drill_runs_on_the_real_core_through_the_socket(practice_node: PracticeNode) -> None:
    me = COUNCIL[0]
    consultation, client = await practice_node.drill(me)
    assert consultation.startswith(PREFIX)
    state = client.state
    assert state is not None and client.welcome["participant"] == me and client.welcome["consultation"] == consultation
    real = (await practice_node.service.existing(CONSULTATION)).state
    # The participant in their own delegation, a chair, other delegations of the real roster, the real item.
    mine = real.participants[me].delegation
    assert state.participants[me].delegation == mine and state.participants[me].designated_speaker
    assert state.delegations[mine].name == real.delegations[mine].name
    assert state.participants[CHAIR].role == "chair"
    assert len(state.delegations) == 4 and set(state.delegations) <= set(real.delegations)
    assert state.current_item in real.items and state.sitting is not None

    first = await client.send("request_floor")
    assert first["ok"] and first["seq"] > 0
    # A rule only the core knows the wording of: the server's answer, not the browser's.
    again = await client.send("request_floor")
    assert again["error"]["code"] == "already_requested"
    granted = await client.wait_for(lambda s: s.grant is not None and s.grant.delegation == mine, timeout=10)
    assert granted.tail is None
    live = await client.send("go_live")
    assert live["ok"], live
    speaking = await client.wait_for(lambda s: s.speech is not None and s.speech.participant == me)
    assert speaking.speech is not None and speaking.speech.time_to_floor_ms >= 0
    assert (await client.send("yield_floor"))["ok"]
    ended = await client.wait_for(lambda s: any(r.participant == me for r in s.speeches))
    assert [r.reason for r in ended.speeches if r.participant == me] == ["yielded"]
    # The scripted chair keeps going through the same commands: the tail ended by the booth, the floor free.
    await client.wait_for(lambda s: s.tail is None and s.grant is None and s.speech is None)
    assert any(e.actor == CHAIR and isinstance(e, FloorGranted) for _, e in client.events)


async def test_nothing_of_the_drill_reaches_the_real_consultation_or_the_disk(practice_node: PracticeNode) -> None:
    real = await practice_node.service.existing(CONSULTATION)
    before = real.seq
    store = practice_node.service.store
    consultation, client = await practice_node.drill(COUNCIL[0])
    assert (await client.send("request_floor"))["ok"]
    await client.wait_for(lambda s: s.grant is not None and s.grant.delegation == s.participants[COUNCIL[0]].delegation, timeout=10)
    assert (await client.send("go_live"))["ok"]
    assert real.seq == before
    assert await store.streams() == [CONSULTATION]
    assert (await store.head(consultation)).seq == 0
    assert await store.read(CONSULTATION, before) == []
    # A real client sees none of it either.
    async with aiohttp.ClientSession() as http:
        snapshot = await http.get(
            f"{practice_node.url}/api/consultations/{CONSULTATION}/snapshot",
            headers={"Authorization": f"Bearer {practice_node.token('@admin', 'admin')}"},
        )
        assert snapshot.status == 200
        assert (await snapshot.json())["seq"] == before


async def test_only_a_delegate_with_a_valid_join_link_starts_one_and_it_opens_nothing_else(practice_node: PracticeNode) -> None:
    loaded = practice_node.service.loaded
    assert (await practice_node.start(None))[0] == 401
    assert (await practice_node.start("forged.token"))[0] == 401
    status, body = await practice_node.start(practice_node.token("nobody-here"))
    assert (status, body["error"]["code"]) == (403, "unknown_participant")
    status, body = await practice_node.start(practice_node.token("x", consultation="no-such-consultation"))
    assert (status, body["error"]["code"]) == (403, "unknown_consultation")
    status, body = await practice_node.start(practice_node.token(REAL_CHAIR, "chair"))
    assert (status, body["error"]["code"]) == (403, "not_allowed")
    assert practice_node.rooms.rooms == {} and practice_node.service.loaded == loaded

    consultation, client = await practice_node.drill(COUNCIL[0])
    practice_token = client.token
    # A practice token starts no drill of its own and opens no HTTP route of the consultation's.
    status, body = await practice_node.start(practice_token)
    assert (status, body["error"]["code"]) == (403, "not_allowed")
    async with aiohttp.ClientSession() as http:
        answer = await http.get(
            f"{practice_node.url}/api/consultations/{consultation}/grouping/mine", headers={"Authorization": f"Bearer {practice_token}"}
        )
        assert answer.status == 403 and "drill" in (await answer.json())["error"]["message"]


async def test_one_per_participant_and_the_next_drill_ends_the_previous_with_its_connections(practice_node: PracticeNode) -> None:
    first, old = await practice_node.drill(COUNCIL[0])
    ended: asyncio.Future[dict[str, str]] = asyncio.get_running_loop().create_future()
    old.sio.on("ended", lambda data: ended.done() or ended.set_result(data))
    gone = unloaded(practice_node.service, first)
    second, new = await practice_node.drill(COUNCIL[0])
    assert second != first
    assert (await asyncio.wait_for(ended, 5))["code"] == "practice_ended"
    await asyncio.wait_for(gone, 5)
    assert list(practice_node.rooms.rooms) == [second] and first not in practice_node.service.loaded
    # The old token joins nothing any more.
    stale = ConsultationClient(practice_node.url, old.token, reconnection=False)
    with pytest.raises(Exception):  # noqa: B017 - socket.io's ConnectionError
        await stale.connect(timeout=3)
    assert stale.refused is not None and "start a new drill" in stale.refused["message"]
    assert (await new.send("request_floor"))["ok"]


async def test_a_global_cap_refuses_with_a_clear_answer(make_practice_node: Callable[..., Awaitable[PracticeNode]]) -> None:
    node = await make_practice_node(practice_rooms=2)
    await node.drill(COUNCIL[0])
    await node.drill(COUNCIL[1])
    status, body = await node.start(node.token(COUNCIL[2]))
    assert (status, body["error"]["code"]) == (503, "practice_full")
    assert "try again" in body["error"]["message"]
    # Someone already drilling may still start afresh: it replaces their own.
    status, _ = await node.start(node.token(COUNCIL[0]))
    assert status == 201 and len(node.rooms.rooms) == 2


async def test_a_drill_left_idle_is_discarded(practice_node: PracticeNode) -> None:
    practice_node.rooms.idle_seconds = 0.2
    consultation, client = await practice_node.drill(COUNCIL[0])
    gone = unloaded(practice_node.service, consultation)
    started = time.monotonic()
    await client.close()
    runtime = await asyncio.wait_for(gone, 5)
    assert time.monotonic() - started >= 0.2
    assert runtime.pins == 0 and practice_node.rooms.rooms == {} and consultation not in practice_node.service.loaded


async def test_a_drill_in_use_is_discarded_at_its_age_limit_with_its_connections(practice_node: PracticeNode) -> None:
    practice_node.rooms.max_age = 0.3
    consultation, client = await practice_node.drill(COUNCIL[0])
    ended: asyncio.Future[dict[str, str]] = asyncio.get_running_loop().create_future()
    client.sio.on("ended", lambda data: ended.done() or ended.set_result(data))
    gone = unloaded(practice_node.service, consultation)
    assert (await asyncio.wait_for(ended, 5))["code"] == "practice_ended"
    runtime = await asyncio.wait_for(gone, 5)
    assert runtime.pins == 0 and practice_node.rooms.rooms == {}
    assert not [s for s in practice_node.server.app[GATEWAY].sessions.values() if s.runtime.consultation == consultation]


async def test_the_memory_store_keeps_the_contract_within_its_bound() -> None:
    async with MemoryStore(max_events=3) as store:
        assert await store.append("s", 0, [b"a"], command_id="one") == 1
        with pytest.raises(ConcurrencyConflict):
            await store.append("s", 0, [b"b"])
        with pytest.raises(DuplicateCommand):
            await store.append("s", 1, [b"b"], command_id="one")
        assert await store.append("s", 1, [b"b", b"c"], commands=[("two", 1), ("", 1)]) == 3
        assert await store.find_command("s", "two") == (2, 2)
        with pytest.raises(StoreUnavailable):
            await store.append("s", 3, [b"d"])
        assert await store.read("s", 1) == [(2, b"b"), (3, b"c")]
        assert (await store.head("s")).seq == 3
