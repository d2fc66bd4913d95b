"""Group commit: commands that arrive together are decided in order and made
durable in one write, each with its own answer, and none is lost or doubled."""

from __future__ import annotations

import asyncio
from pathlib import Path

from vcc.core.floor import PRIORITY
from vcc.ops import metrics
from vcc.service import Service
from vcc.store import open_store
from vcc_protocol import commands as c
from vcc_protocol.vocabulary import ADMIN_ACTOR
from vcc_testkit.consultations import CHAIR, live_commands


async def test_a_burst_of_requests_is_committed_in_few_writes_in_priority_order(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "store"))
    await store.open()
    service = Service(store)
    try:
        answers = await service.execute_all("t", [*live_commands(service.clock()), c.TakeUpItem(id=c.new_id(), item="3")], ADMIN_ACTOR)
        assert answers[-2]["ok"] and answers[-1]["error"]["code"] == "not_allowed"
        runtime = await service.runtime("t")
        assert (await runtime.execute(c.TakeUpItem(id=c.new_id(), item="3"), CHAIR))["ok"]
        speakers = [p.id for p in runtime.state.participants.values() if p.designated_speaker]
        appends_before = metrics.APPENDS._value.get()
        burst = [runtime.execute(c.RequestFloor(id=f"r{n}"), pid) for n, pid in enumerate(speakers)]
        burst.append(runtime.execute(c.RequestFloor(id="r0"), speakers[0]))  # a retry inside the burst
        answers = await asyncio.gather(*burst)
        assert all(a["ok"] for a in answers), [a for a in answers if not a["ok"]][:3]
        seqs = [a["seq"] for a in answers[:-1]]
        assert sorted(seqs) == list(range(min(seqs), max(seqs) + 1)), "one event each, no gap, none doubled"
        assert answers[-1] == answers[0]
        appends = metrics.APPENDS._value.get() - appends_before
        assert appends < len(speakers) / 2, f"{appends} durable writes for {len(speakers)} commands"
        queue = runtime.state.queues["3"]
        ranks = [PRIORITY[runtime.state.delegations[r.delegation].cls] for r in queue]
        assert len(queue) == len(speakers) and ranks == sorted(ranks)
        assert answers[0]["seq"] == (await store.find_command("t", f"{speakers[0]}:r0"))[1]
    finally:
        await service.close()
        await store.close()
