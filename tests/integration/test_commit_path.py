"""The one commit path across nodes: two runtimes of one consultation on one log,
each with its own store connection, as two nodes are. The second does not hear
of the first's appends until the store refuses its own, so its state is stale
when it decides, and the store is what keeps the log right."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from vcc.ahead import Ahead
from vcc.core import ConsultationState, fold
from vcc.service import Runtime, Service
from vcc.store import open_store
from vcc.store.base import StoreUnavailable
from vcc_protocol import commands as c
from vcc_protocol import events as e
from vcc_protocol.vocabulary import ADMIN_ACTOR
from vcc_testkit.consultations import CHAIR, COUNCIL, OBSERVER, OBSERVER_STATE, SECTOR, live_commands


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


async def test_a_command_refused_on_a_stale_state_is_decided_again(two_nodes: tuple[Runtime, Runtime]) -> None:
    """A refusal appends nothing, so the store cannot say the state was stale: the
    runtime asks it. The chair on the second node grants the floor the moment a
    delegate's request is acknowledged on the first, before the second has heard of it."""
    first, second = two_nodes
    council = await first.execute(c.RequestFloor(id="r1"), COUNCIL[0])
    assert second.seq < first.seq
    granted = await second.execute(c.GrantFloor(id="g1"), CHAIR)
    assert granted == {"ok": True, "seq": council["seq"] + 1}, granted
    assert second.state.grant is not None and second.state.grant.delegation == first.state.participants[COUNCIL[0]].delegation
    # A refusal on a state that is current stays a refusal, without a second look.
    again = await second.execute(c.GrantFloor(id="g2"), CHAIR)
    assert not again["ok"], again


async def test_the_same_command_twice_in_one_batch_is_applied_once(two_nodes: tuple[Runtime, Runtime]) -> None:
    first, _ = two_nodes
    before = first.seq
    answers = await asyncio.gather(*(first.execute(c.RequestFloor(id="twice"), COUNCIL[0]) for _ in range(2)))
    assert answers[0] == answers[1] == {"ok": True, "seq": before + 1}
    assert first.seq == before + 1


# --- the ahead state: what a batch is decided on -------------------------------------

DELEGATES = [*COUNCIL, OBSERVER_STATE, OBSERVER, SECTOR]


def mutable_ids(value: Any, found: set[int]) -> set[int]:
    """The ids of every mutable container and struct reachable from ``value``."""
    if isinstance(value, msgspec.Struct):
        if not type(value).__struct_config__.frozen:
            found.add(id(value))
        for name in value.__struct_fields__:
            mutable_ids(getattr(value, name), found)
    elif isinstance(value, (dict, list, set)):
        found.add(id(value))
        for item in value.values() if isinstance(value, dict) else value:
            mutable_ids(item, found)
    return found


def assert_in_step(runtime: Runtime) -> None:
    """The ahead state holds what the live state holds, and none of its objects."""
    ahead = runtime._ahead
    assert ahead.state is not None and ahead.seq == runtime.seq
    assert msgspec.to_builtins(ahead.state) == msgspec.to_builtins(runtime.state)
    assert not mutable_ids(ahead.state, set()) & mutable_ids(runtime.state, set())


async def test_batches_are_decided_on_one_ahead_state_kept_in_step(two_nodes: tuple[Runtime, Runtime]) -> None:
    first, _ = two_nodes
    before = first.seq
    requests = [first.execute(c.RequestFloor(id=f"r-{who}"), who) for who in DELEGATES]
    assert await asyncio.gather(*requests) == [{"ok": True, "seq": before + n} for n in range(1, len(DELEGATES) + 1)]
    assert_in_step(first)
    # A batch of one goes on the live state; the ahead state follows it.
    assert (await first.execute(c.TakeUpItem(id="chair-4", item="4"), CHAIR))["ok"]
    assert_in_step(first)
    later = [first.execute(c.RequestFloor(id=f"r4-{who}"), who) for who in DELEGATES]
    assert all(answer["ok"] for answer in await asyncio.gather(*later))
    assert_in_step(first)
    assert first._ahead.copies == 1, "made once, then kept in step"
    replayed = fold(await first.history())
    assert msgspec.to_builtins(replayed) == msgspec.to_builtins(first.state)
    assert [r.delegation for r in first.state.queues["3"]] == [r.delegation for r in replayed.queues["3"]]


async def test_a_batch_whose_append_fails_leaves_nothing_ahead(two_nodes: tuple[Runtime, Runtime]) -> None:
    first, second = two_nodes
    for who in COUNCIL[:2]:
        await first.execute(c.RequestFloor(id=f"r-{who}"), who)
    assert second.seq == first.seq - 2
    # Two requests decided ahead on a stale state, two events as the log holds past it:
    # the store refuses the append, and the batch is decided again on the log's state.
    answers = await asyncio.gather(*(second.execute(c.RequestFloor(id=f"r-{who}"), who) for who in (OBSERVER_STATE, OBSERVER)))
    assert all(answer["ok"] for answer in answers), answers
    assert second._ahead.copies == 2, "dropped with the refused append, made again"
    assert_in_step(second)
    await first.catch_up()
    assert msgspec.to_builtins(second.state) == msgspec.to_builtins(first.state)


def test_the_ahead_state_is_dropped_when_an_append_fails_or_skips_an_event() -> None:
    live = ConsultationState()
    ahead = Ahead()
    state = ahead.at(live, 0)
    assert state is not live and ahead.at(live, 0) is state
    with pytest.raises(StoreUnavailable), ahead.appending():
        raise StoreUnavailable("disk full")
    assert ahead.state is None
    ahead.at(live, 0)
    ahead.follow(2, e.SpeakersListClosed(item="1", at=0, actor="chair"))
    assert ahead.state is None, "an event missed: it cannot be in step"
    assert ahead.at(live, 0) is not state and ahead.copies == 3
