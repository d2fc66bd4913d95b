"""The Publisher: a runtime's batches become ``events`` messages, sent at once
when the node is quiet and grouped while a costly send has just taken the
event loop. A real Runtime on a real store; the fan-out is a recorder whose
every send takes a set time, as a broadcast to thousands of connections does."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from vcc.core.views import wire_views
from vcc.gateway.publisher import Publisher
from vcc.service import Runtime, Service
from vcc.store import open_store
from vcc_protocol import commands as c
from vcc_protocol.views import Views
from vcc_protocol.vocabulary import ADMIN_ACTOR
from vcc_testkit.consultations import CHAIR, live_commands
from vcc_testkit.waiting import until


class TimedFanout:
    """Records what is sent; each send blocks the loop for ``cost`` seconds, and its
    last slice is written ``slices_for`` seconds later (``done``)."""

    def __init__(self) -> None:
        self.cost = 0.0
        self.slices_for = 0.0
        self.sent: list[tuple[str, str, dict[str, Any]]] = []
        self.first: list[list[str]] = []
        #: ("send" or "done", group), in turn.
        self.log: list[tuple[str, str]] = []
        #: Connections in each group.
        self.connected = 1

    def members(self, group: str) -> int:
        return self.connected

    def send(self, group: str, event: str, data: dict[str, Any], first: Any = (), done: Any = None) -> int:
        time.sleep(self.cost)
        self.sent.append((group, event, data))
        self.first.append(list(first))
        self.log.append(("send", group))
        if done is not None:
            if self.slices_for:
                asyncio.get_running_loop().call_later(self.slices_for, self._done, group, done, self.cost + self.slices_for)
            else:
                self._done(group, done, self.cost)
        return 1

    def _done(self, group: str, done: Any, took: float) -> None:
        self.log.append(("done", group))
        done(took)

    def public(self) -> list[dict[str, Any]]:
        return [data for group, _, data in self.sent if group.endswith("/public")]


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    store = open_store(str(tmp_path / "store"))
    await store.open()
    service = Service(store)
    try:
        answers = await service.execute_all("t", live_commands(service.clock()), ADMIN_ACTOR)
        assert answers[-1]["ok"], answers[-1]
        yield await service.runtime("t")
    finally:
        await service.close()
        await store.close()


async def sent(fanout: TimedFanout, messages: int) -> None:
    while len(fanout.sent) < messages:
        await asyncio.sleep(0.001)


async def take_up(runtime: Runtime, item: int) -> int:
    answer = await runtime.execute(c.TakeUpItem(id=c.new_id(), item=item), CHAIR)
    assert answer["ok"], answer
    return answer["seq"]


async def test_a_change_on_a_quiet_node_is_sent_at_once_to_both_audiences(runtime: Runtime) -> None:
    fanout = TimedFanout()
    Publisher(runtime, fanout)  # type: ignore[arg-type]
    seq = await take_up(runtime, runtime.state.agenda[0])
    await asyncio.sleep(0)
    assert [(group, event) for group, event, _ in fanout.sent] == [("t/public", "events"), ("t/staff", "events")]
    assert {(d["first"], d["last"]) for _, _, d in fanout.sent} == {(seq, seq)}


async def test_changes_during_the_pause_after_a_costly_send_go_out_together(runtime: Runtime) -> None:
    fanout = TimedFanout()
    Publisher(runtime, fanout)  # type: ignore[arg-type]
    first, second, third = runtime.state.agenda[:3]
    fanout.cost = 0.15  # per audience: the send takes 0.3 s, so does the pause after it
    start = await take_up(runtime, first)
    await asyncio.sleep(0)
    assert len(fanout.public()) == 1
    await take_up(runtime, second)
    end = await take_up(runtime, third)
    fanout.cost = 0.0
    await until(lambda: fanout.public()[-1]["last"] == end, 5, f"the batch up to seq {end} is sent")
    messages = fanout.public()
    # Two messages up to the last seq: neither change went out alone during the pause.
    assert len(messages) == 2, [(m["first"], m["last"]) for m in messages]
    assert (messages[0]["first"], messages[0]["last"]) == (start, start)
    grouped = messages[1]
    assert (grouped["first"], grouped["last"]) == (start + 1, end)
    assert [e["item"] for e in grouped["events"] if e["type"] == "item_taken_up"] == [second, third]
    assert len(grouped["events"]) == end - start, "every event of the two changes, in order"


async def test_no_send_starts_while_the_slices_of_the_one_before_are_written(runtime: Runtime) -> None:
    fanout = TimedFanout()
    Publisher(runtime, fanout)  # type: ignore[arg-type]
    first, second, third = runtime.state.agenda[:3]
    fanout.slices_for = 0.3
    start = await take_up(runtime, first)
    await asyncio.sleep(0)
    assert fanout.log == [("send", "t/public"), ("send", "t/staff")]
    await take_up(runtime, second)
    end = await take_up(runtime, third)
    fanout.slices_for = 0.0
    await until(lambda: fanout.public()[-1]["last"] == end, 5, f"the batch up to seq {end} is sent")
    assert fanout.log == [("send", "t/public"), ("send", "t/staff"), ("done", "t/public"), ("done", "t/staff")] + [
        ("send", "t/public"),
        ("done", "t/public"),
        ("send", "t/staff"),
        ("done", "t/staff"),
    ], "the two changes made while the first send's slices were written wait for its last one"
    assert [(m["first"], m["last"]) for m in fanout.public()] == [(start, start), (start + 1, end)]


async def test_a_batch_is_written_first_to_the_delegation_and_participant_it_names(runtime: Runtime) -> None:
    fanout = TimedFanout()
    publisher = Publisher(runtime, fanout)  # type: ignore[arg-type]
    await take_up(runtime, runtime.state.agenda[0])
    speaker = next(p for p in runtime.state.participants.values() if p.designated_speaker)
    answer = await runtime.execute(c.RequestFloor(id=c.new_id()), speaker.id)
    assert answer["ok"], answer
    publisher.flush()  # sent by now, or held back after the costly send before it: either way, sent
    assert fanout.first[-1] == fanout.first[-2] == [f"t/participant:{speaker.id}", f"t/delegation:{speaker.delegation}"]


async def test_no_views_are_computed_for_a_consultation_nobody_is_connected_to(runtime: Runtime) -> None:
    fanout = TimedFanout()
    publisher = Publisher(runtime, fanout)  # type: ignore[arg-type]
    fanout.connected = 0
    await take_up(runtime, runtime.state.agenda[0])
    publisher.flush()
    assert fanout.public()[-1]["views"] == {}
    assert publisher.views.sent is None, "nothing kept for the next update to be compared with"
    fanout.connected = 1
    await take_up(runtime, runtime.state.agenda[1])
    publisher.flush()
    views = fanout.public()[-1]["views"]
    assert set(views) == set(Views.__struct_fields__), "the first views after nobody was connected are all of them"
    assert publisher.views.full(runtime.state, runtime.clock()) == wire_views(runtime.state, views["at"])
