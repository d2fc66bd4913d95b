"""The server restarted, or killed with SIGKILL in the middle of a burst: every
acknowledged command is in the log, none is applied twice, clients resync."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import msgspec
from vcc.auth.tokens import Claims, sign
from vcc.client import ConsultationClient
from vcc.config import Config
from vcc.core.views import snapshot
from vcc.service import Service
from vcc.store import open_store
from vcc_protocol import commands as c
from vcc_protocol.events import ConnectionTestRecorded, decode_event
from vcc_protocol.vocabulary import ADMIN_ACTOR
from vcc_testkit.consultations import CHAIR, COUNCIL, OBSERVER_STATE, live_commands
from vcc_testkit.process_node import ProcessNode

CONSULTATION = "test"


async def prepared_store(path: Path) -> bytes:
    """Build the live consultation in an embedded store; return the store's secret."""
    store = open_store(str(path))
    await store.open()
    service = Service(store)
    answers = await service.execute_all(CONSULTATION, live_commands(service.clock()), ADMIN_ACTOR)
    assert answers[-1]["ok"], answers[-1]
    await service.close()
    await store.close()
    return await Config(store=str(path)).secret()


async def server_state(path: Path):  # noqa: ANN201
    store = open_store(str(path))
    await store.open()
    service = Service(store)
    runtime = await service.runtime(CONSULTATION)
    rows = await store.read(CONSULTATION, 0)
    await service.close()
    await store.close()
    return runtime, [decode_event(data) for _, data in rows]


def token(secret: bytes, participant: str) -> str:
    return sign(secret, Claims(participant, "delegate", CONSULTATION, time.time_ns() // 1_000_000 + 3_600_000))


async def test_clients_resync_after_the_server_restarts(tmp_path: Path) -> None:
    secret = await prepared_store(tmp_path / "store")
    node = ProcessNode(str(tmp_path / "store"), log=tmp_path / "node.log")
    node.start()
    chair = ConsultationClient(node.url, token(secret, CHAIR))
    delegate = ConsultationClient(node.url, token(secret, COUNCIL[0]))
    try:
        await chair.connect()
        await delegate.connect()
        assert (await chair.send("take_up_item", item="3"))["ok"]
        node.stop()
        node.start()
        # commands sent while the server is away are delivered after it comes back
        assert (await delegate.send("request_floor", timeout=20))["ok"]
        assert (await chair.send("grant_floor", timeout=20))["ok"]
        await chair.wait_for(lambda s: s.grant is not None, timeout=10)
        await delegate.wait_for(lambda s: s.grant is not None, timeout=10)
    finally:
        await chair.close()
        await delegate.close()
        node.stop()
    runtime, _ = await server_state(tmp_path / "store")
    for client in (chair, delegate):
        assert client.seq == runtime.seq
        assert msgspec.to_builtins(client.state, str_keys=True) == snapshot(runtime.state, "public")


async def test_sigkill_in_a_burst_loses_no_acknowledged_command_and_applies_none_twice(tmp_path: Path) -> None:
    secret = await prepared_store(tmp_path / "store")
    node = ProcessNode(str(tmp_path / "store"), log=tmp_path / "node.log")
    node.start()
    senders = [ConsultationClient(node.url, token(secret, p)) for p in (*COUNCIL, OBSERVER_STATE)]
    for sender in senders:
        await sender.connect()
    acknowledged: set[str] = set()
    attempted: set[str] = set()

    async def burst(client: ConsultationClient, index: int) -> None:
        for n in range(40):
            mark = f"{index}-{n}"
            attempted.add(mark)
            answer = await client.send(
                "record_connection_test",
                timeout=30,
                transport="websocket",
                websocket_ok=True,
                rtt_ms=1.0,
                jitter_ms=0.5,
                clock_offset_ms=0.0,
                microphone="granted",
                camera="granted",
                input_level=0.2,
                browser=mark,
            )
            if answer["ok"]:
                acknowledged.add(mark)
            await asyncio.sleep(0.06)  # about 16 commands/s per connection, under the rate limit

    async def killer() -> None:
        while len(acknowledged) < 40:
            await asyncio.sleep(0.01)
        node.kill()
        await asyncio.sleep(0.3)
        node.start()

    try:
        await asyncio.gather(killer(), *(burst(s, i) for i, s in enumerate(senders)))
    finally:
        for sender in senders:
            await sender.close()
        node.stop()
    _, events = await server_state(tmp_path / "store")
    recorded = [e.browser for e in events if isinstance(e, ConnectionTestRecorded)]
    assert len(acknowledged) == len(attempted) == 160, "every command was answered after the restart"
    assert sorted(recorded) == sorted(acknowledged), "each acknowledged command is in the log exactly once"


async def test_a_snapshot_of_an_older_state_shape_gives_way_to_the_log(tmp_path: Path) -> None:
    """A snapshot saved when items were keyed by number no longer decodes: the log is replayed instead."""
    store = open_store(str(tmp_path / "store"))
    await store.open()
    try:
        service = Service(store)
        setup = [
            c.CreateConsultation(id=c.new_id(), code="X", title="X", days=["2021-06-08"]),
            c.AddItem(id=c.new_id(), item="7", number=7, code="PL 1.05", title="T"),
        ]
        assert (await service.execute_atomically(CONSULTATION, setup, ADMIN_ACTOR))["ok"]
        await service.close()
        await store.save_snapshot(
            CONSULTATION, 2, msgspec.msgpack.encode({"created": True, "items": {7: {"number": 7, "code": "PL 1.05"}}})
        )
        again = Service(store)
        runtime = await again.runtime(CONSULTATION)
        assert runtime.seq == 2 and list(runtime.state.items) == ["7"] and runtime.state.items["7"].code == "PL 1.05"
        await again.close()
    finally:
        await store.close()
