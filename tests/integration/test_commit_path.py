"""The one commit path across nodes: two runtimes of one consultation on one log,
each with its own store connection, as two nodes are. The second does not hear
of the first's appends until the store refuses its own, so its state is stale
when it decides, and the store is what keeps the log right."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from vcc.service import Runtime, Service
from vcc.store import open_store
from vcc_protocol import commands as c
from vcc_protocol.vocabulary import ADMIN_ACTOR
from vcc_testkit.consultations import CHAIR, COUNCIL, OBSERVER_STATE, live_commands


@pytest.fixture
async def two_nodes(tmp_path: Path) -> AsyncIterator[tuple[Runtime, Runtime]]:
    stores = [open_store(str(tmp_path / "store")) for _ in range(2)]
    for store in stores:
        await store.open()
    services = [Service(store) for store in stores]
    try:
        answers = await services[0].execute_all("t", live_commands(services[0].clock()), ADMIN_ACTOR)
        assert answers[-1]["ok"], answers[-1]
        first = await services[0].runtime("t")
        assert (await first.execute(c.TakeUpItem(id="chair-3", item="3"), CHAIR))["ok"]
        second = await services[1].runtime("t")
        assert second.seq == first.seq
        yield first, second
    finally:
        for service in services:
            await service.close()
        for store in stores:
            await store.close()


async def test_a_retry_that_another_node_applied_first_gets_the_first_answer(two_nodes: tuple[Runtime, Runtime]) -> None:
    first, second = two_nodes
    applied = await first.execute(c.RequestFloor(id="r1"), COUNCIL[0])
    assert applied["ok"]
    assert second.seq < first.seq, "the second node must not have heard of it yet"
    # The retry and another delegation's request reach the second node together (one batch).
    retried, other = await asyncio.gather(
        second.execute(c.RequestFloor(id="r1"), COUNCIL[0]),
        second.execute(c.RequestFloor(id="r2"), COUNCIL[1]),
    )
    assert retried == applied
    assert other == {"ok": True, "seq": applied["seq"] + 1}
    queue = [r.delegation for r in second.state.queues["3"]]
    assert len(queue) == 2 and queue[0] == second.state.participants[COUNCIL[0]].delegation


async def test_a_command_decided_on_a_stale_state_is_decided_again(two_nodes: tuple[Runtime, Runtime]) -> None:
    first, second = two_nodes
    council = await first.execute(c.RequestFloor(id="r1"), COUNCIL[0])
    assert second.seq < first.seq
    observer = await second.execute(c.RequestFloor(id="r2"), OBSERVER_STATE)
    assert observer == {"ok": True, "seq": council["seq"] + 1}
    # Decided again after catching up: the same delegation may not ask twice, whichever node it asks.
    again = await second.execute(c.RequestFloor(id="r3"), COUNCIL[0])
    assert not again["ok"] and again["error"]["code"] == "already_requested", again


async def test_the_same_command_twice_in_one_batch_is_applied_once(two_nodes: tuple[Runtime, Runtime]) -> None:
    first, _ = two_nodes
    before = first.seq
    answers = await asyncio.gather(*(first.execute(c.RequestFloor(id="twice"), COUNCIL[0]) for _ in range(2)))
    assert answers[0] == answers[1] == {"ok": True, "seq": before + 1}
    assert first.seq == before + 1
