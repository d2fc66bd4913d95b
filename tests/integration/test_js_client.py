"""The official JavaScript socket.io-client with socket.io-msgpack-parser, under Node, against a real node."""

from __future__ import annotations

import asyncio

from vcc_testkit.consultations import CHAIR, COUNCIL
from vcc_testkit.node_js import run_script


async def test_the_stock_js_client_joins_raises_a_hand_and_receives_the_batch(node, clients) -> None:
    chair = await clients(CHAIR)
    assert (await chair.send("take_up_item", item="3"))["ok"]
    seen = await asyncio.to_thread(run_script, "delegate.mjs", node.url, node.token(COUNCIL[0]))
    assert "error" not in seen, seen
    runtime = await node.runtime()
    assert seen["welcome"]["role"] == "delegate" and seen["welcome"]["participant"] == COUNCIL[0]
    assert seen["ack"]["ok"] is True
    batch = next(b for b in seen["batches"] if "floor_requested" in b["types"])
    assert batch["first"] == seen["snapshotSeq"] + 1 and batch["last"] == seen["ack"]["seq"]
    state = await chair.wait_for(lambda s: s.queues["3"] != [])
    assert [r.delegation for r in state.queues["3"]] == ["argentina"]
    assert runtime.seq == seen["ack"]["seq"]


async def test_the_stock_js_client_is_told_why_its_token_is_refused(node) -> None:
    seen = await asyncio.to_thread(run_script, "delegate.mjs", node.url, "forged.token")
    assert seen["error"].startswith("refused: This join link is damaged") and '"code":"unauthorized"' in seen["error"]
