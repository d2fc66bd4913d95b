"""The floor through a real node: joins, priority order, grant -> live -> yield, outcomes."""

from __future__ import annotations

import time

import msgspec
from vcc_testkit.consultations import (
    CHAIR,
    COUNCIL,
    FRENCH_SPEAKER,
    INTERPRETER,
    OBSERVER,
    OBSERVER_STATE,
    SECRETARIAT,
    SECTOR,
    TECHNICAL,
)


def queue_of(state) -> list[str]:  # noqa: ANN001
    return [r.delegation for r in state.queues.get(state.current_item, [])]


async def test_every_role_joins_and_gets_the_state_for_its_audience(node, clients) -> None:
    for participant, role, audience in [
        (CHAIR, "chair", "public"),
        (COUNCIL[0], "delegate", "public"),
        (OBSERVER, "delegate", "public"),
        (INTERPRETER["fr"], "interpreter", "public"),
        (SECRETARIAT, "secretariat", "staff"),
        (TECHNICAL, "technical", "staff"),
    ]:
        client = await clients(participant)
        assert client.welcome["role"] == role and client.welcome["audience"] == audience
        runtime = await node.runtime()
        assert client.seq == runtime.seq and client.state is not None
        contact = client.state.participants["helpdesk"].contact
        assert contact == ("helpdesk@example.org" if audience == "staff" else None)


async def test_admin_token_joins_as_the_secretariat(node) -> None:
    from vcc.client import ConsultationClient

    client = ConsultationClient(node.url, node.admin_token())
    await client.connect()
    try:
        assert client.welcome["role"] == "secretariat" and client.welcome["participant"] == "@admin"
    finally:
        await client.close()


async def test_hands_from_every_class_come_out_in_priority_order_on_every_screen(node, clients) -> None:
    chair = await clients(CHAIR)
    assert (await chair.send("take_up_item", item="3"))["ok"]
    sector, observer, observer_state, council = [await clients(p) for p in (SECTOR, OBSERVER, OBSERVER_STATE, COUNCIL[0])]
    for client in (sector, observer, observer_state, council):
        assert (await client.send("request_floor"))["ok"]
    point_of_order = await clients(COUNCIL[1])
    assert (await point_of_order.send("request_floor", point_of_order=True))["ok"]
    # observer states and the observer share a rank: first come, first served
    expected = ["brazil", "argentina", "palestine", "chile", "orbital-relay-networks-ltd"]
    runtime = await node.runtime()
    for client in (chair, sector, observer, observer_state, council, point_of_order):
        state = await client.wait_for(lambda s: len(queue_of(s)) == 5, timeout=5)
        assert queue_of(state) == expected
    assert queue_of(runtime.state) == expected


async def test_grant_go_live_yield_records_time_to_floor(make_node) -> None:
    shift = [0]
    node = await make_node(clock=lambda: time.time_ns() // 1_000_000 + shift[0])
    chair, speaker = await node.client(CHAIR), await node.client(COUNCIL[0])
    try:
        assert (await chair.send("take_up_item", item="3"))["ok"]
        assert (await speaker.send("request_floor"))["ok"]
        assert (await chair.send("grant_floor"))["ok"]
        await speaker.wait_for(lambda s: s.grant is not None)
        shift[0] += 20_000  # the delegate takes 20 s to connect their audio
        assert (await speaker.send("go_live"))["ok"]
        state = await chair.wait_for(lambda s: s.speech is not None)
        time_to_floor = state.speech.time_to_floor_ms
        assert state.floor_language == "es" and 20_000 <= time_to_floor < 25_000
        assert (await speaker.send("yield_floor"))["ok"]
        state = await chair.wait_for(lambda s: len(s.speeches) == 1)
        assert state.speeches[0].reason == "yielded" and state.speeches[0].time_to_floor_ms == time_to_floor
    finally:
        await chair.close()
        await speaker.close()


async def test_council_member_objection_defers_and_an_observer_objection_is_refused(node, clients) -> None:
    chair, council, observer = await clients(CHAIR), await clients(COUNCIL[0]), await clients(OBSERVER_STATE)
    assert (await chair.send("propose_conclusion", item="3", text="The council takes note."))["ok"]
    refused = await observer.send("block_item", item="3", kind="objection")
    assert refused == {"ok": False, "error": {"code": "only_council_members_may_block", "message": refused["error"]["message"]}}
    assert (await council.send("block_item", item="3", kind="objection"))["ok"]
    state = await observer.wait_for(lambda s: s.items["3"].status == "deferred")
    assert state.items["3"].blocked_by == "argentina" and state.items["3"].block_kind == "objection"


async def test_a_french_listener_is_routed_to_the_floor_while_a_french_speaker_is_live(node, clients) -> None:
    from vcc.core.interpretation import route

    chair, speaker = await clients(CHAIR), await clients(FRENCH_SPEAKER)
    assert (await chair.send("take_up_item", item="3"))["ok"]
    assert (await speaker.send("request_floor"))["ok"]
    assert (await chair.send("grant_floor"))["ok"]
    await speaker.wait_for(lambda s: s.grant is not None)
    assert (await speaker.send("go_live"))["ok"]
    state = await chair.wait_for(lambda s: s.speech is not None)
    assert route(state, "fr").play == "floor"
    assert route(state, "en").play == "en"


async def test_the_state_every_client_folds_equals_the_servers(node, clients) -> None:
    chair, a, b = await clients(CHAIR), await clients(COUNCIL[0]), await clients(SECRETARIAT)
    await chair.send("take_up_item", item="5")
    await a.send("request_floor")
    await chair.send("grant_floor")
    await a.send("go_live")
    await a.send("yield_floor")
    runtime = await node.runtime()
    for client in (chair, a, b):
        await client.wait_for(lambda s, c=client: c.seq == runtime.seq)
    from vcc.core.views import snapshot

    assert msgspec.to_builtins(b.state, str_keys=True) == snapshot(runtime.state, "staff")
    assert msgspec.to_builtins(a.state, str_keys=True) == snapshot(runtime.state, "public")
