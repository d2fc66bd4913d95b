"""No gap, no duplicate: a dropped connection gets exactly the missed events;
the slot end and the interpretation tail happen with nobody clicking."""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

import msgspec
from vcc.core.views import snapshot
from vcc.documents import importers
from vcc_protocol import commands as c
from vcc_testkit.consultations import CHAIR, COUNCIL, INTERPRETER


async def test_a_dropped_connection_resyncs_with_exactly_the_missed_events(node, clients) -> None:
    chair, watcher = await clients(CHAIR), await clients(COUNCIL[0])
    await chair.send("take_up_item", item="3")
    await watcher.wait_for(lambda s: s.current_item == "3")
    seen_before = watcher.seq
    await watcher.sio.eio.ws.close()  # the network drops: the client reconnects by itself
    for delegate in COUNCIL[1:]:
        other = await clients(delegate)
        assert (await other.send("request_floor"))["ok"]
    runtime = await node.runtime()
    state = await watcher.wait_for(lambda s: watcher.seq == runtime.seq, timeout=10)
    assert watcher.snapshots == 1, "the missed events were replayed, not a new snapshot"
    seqs = [seq for seq, _ in watcher.events]
    assert seqs == list(range(seqs[0], runtime.seq + 1)) and seqs[0] <= seen_before + 1
    assert msgspec.to_builtins(state, str_keys=True) == snapshot(runtime.state, "public")


async def test_a_client_too_far_behind_gets_a_snapshot_marked_resync(node, clients) -> None:
    from vcc import service as service_module

    chair, watcher = await clients(CHAIR), await clients(COUNCIL[0])
    await watcher.close()
    runtime = await node.runtime()
    assert (await chair.send("take_up_item", item="3"))["ok"]
    runtime._recent.clear()  # as if more than REPLAY_LIMIT events had passed since
    assert (await chair.send("take_up_item", item="5"))["ok"]
    await watcher.connect()
    state = await watcher.wait_for(lambda s: watcher.seq == runtime.seq, timeout=10)
    assert watcher.snapshots == 2 and service_module.REPLAY_LIMIT > 0
    assert msgspec.to_builtins(state, str_keys=True) == snapshot(runtime.state, "public")


def shifted_clock(target: datetime):  # noqa: ANN201
    """A clock that reads ``target`` now and runs at the real pace."""
    offset = int(target.timestamp() * 1000) - time.time_ns() // 1_000_000
    return lambda: time.time_ns() // 1_000_000 + offset


async def test_the_slot_end_at_15_00_geneva_closes_the_sitting_with_nobody_clicking(make_node) -> None:
    geneva = ZoneInfo("Europe/Zurich")
    clock = shifted_clock(datetime(2021, 6, 8, 14, 59, 57, tzinfo=geneva))
    agenda = importers.example("c21-vcc1-agenda.json")
    commands = [
        importers.consultation_from_agenda(agenda),
        *importers.roster_from_csv(importers.example("roster-demo.csv")),
        *importers.items_from_agenda_json(agenda),
        c.OpenSitting(id=c.new_id()),
    ]
    node = await make_node(clock=clock, commands=commands)
    node_clock = node.service.clock
    from vcc.client import ConsultationClient

    chair = ConsultationClient(node.url, node.token(CHAIR))
    speaker = ConsultationClient(node.url, node.token(COUNCIL[0]))
    await chair.connect()
    await speaker.connect()
    try:
        assert (await chair.send("take_up_item", item="1"))["ok"]
        assert (await speaker.send("request_floor"))["ok"]
        assert (await chair.send("grant_floor"))["ok"]
        assert (await speaker.send("go_live"))["ok"]
        state = await chair.wait_for(lambda s: s.sitting is None, timeout=8)
        assert state.sittings[-1].close_reason == "slot_end"
        assert state.speeches[-1].reason == "slot_end"
        ended = datetime.fromtimestamp(state.sittings[-1].closed_at / 1000, geneva)
        assert (ended.hour, ended.minute, ended.second) == (15, 0, 0)
        refused = await chair.send("open_sitting")
        assert refused["error"]["code"] == "outside_sitting"
        assert node_clock() >= int(datetime(2021, 6, 8, 15, 0, tzinfo=geneva).timestamp() * 1000)
    finally:
        await chair.close()
        await speaker.close()


async def test_the_interpretation_tail_elapses_by_itself(make_node) -> None:
    node = await make_node(tail_ms=600)
    from vcc.client import ConsultationClient

    chair = ConsultationClient(node.url, node.token(CHAIR))
    speaker = ConsultationClient(node.url, node.token(COUNCIL[0]))
    booth = ConsultationClient(node.url, node.token(INTERPRETER["en"]))
    for client in (chair, speaker, booth):
        await client.connect()
    try:
        assert (await booth.send("take_booth_duty"))["ok"]
        assert (await booth.send("set_booth_mic", live=True))["ok"]
        await chair.send("take_up_item", item="3")
        await speaker.send("request_floor")
        await chair.send("grant_floor")
        await speaker.send("go_live")
        await speaker.send("yield_floor")
        state = await chair.wait_for(lambda s: s.tail is not None)
        assert state.tail.booths == ["en"]
        await chair.wait_for(lambda s: s.tail is None, timeout=3)
        kinds = [type(e).__name__ for _, e in chair.events]
        assert kinds[-1] == "InterpretationTailEnded" and chair.events[-1][1].reason == "elapsed"
    finally:
        for client in (chair, speaker, booth):
            await client.close()
