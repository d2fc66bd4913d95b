"""Clients on two nodes behind a real nginx running deploy/nginx/vcc.conf:
websockets, long-polling (sticky), and a polling session upgraded to a
websocket, all seeing one order of events."""

from __future__ import annotations

import asyncio
import re
import urllib.error
import urllib.request

import pytest
from vcc_testkit.consultations import CHAIR
from vcc_testkit.waiting import until

from tests.cluster.cluster import (
    Client,
    assert_saw_the_log,
    metric,
    queue_of,
    server_state,
    speakers,
    token,
)

pytestmark = pytest.mark.redis

TRANSPORTS = {"websocket": ["websocket"], "polling": ["polling"], "upgrade": ["polling", "websocket"]}


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status
    except urllib.error.HTTPError as refused:
        return refused.code


async def test_clients_on_two_nodes_behind_nginx_over_websocket_and_long_polling(own_cluster, nginx, clients) -> None:
    cluster = own_cluster(2)
    proxy = nginx([node.port for node in cluster.nodes])
    consultation = "proxied"
    secret = await cluster.prepare(consultation)
    roster = (await server_state(cluster, consultation)).state
    candidates = iter(speakers(roster, {"council_member": 30, "observer_state": 10}))
    # No cookie: nginx falls back on the client's address.
    chair = await clients(proxy.url, token(secret, consultation, CHAIR))

    # One client per node and kind of transport: the cookie decides the node,
    # which is found out from the nodes' own connection counts.
    placed: dict[tuple[int, str], Client] = {}
    for participant in candidates:
        missing = [(n, kind) for n in range(2) for kind in TRANSPORTS if (n, kind) not in placed]
        if not missing:
            break
        kind = missing[0][1]
        before = [metric(node.url, "vcc_connections") for node in cluster.nodes]
        client = await clients(
            proxy.url, token(secret, consultation, participant), transports=TRANSPORTS[kind], cookies={"vcc_node": participant}
        )
        after = [metric(node.url, "vcc_connections") for node in cluster.nodes]
        node = next(n for n in range(2) if after[n] > before[n])
        placed.setdefault((node, kind), client)
    assert len(placed) == 6, f"the cookies spread the clients over both nodes: {sorted(placed)}"
    await until(
        lambda: all(client.sio.transport() == TRANSPORTS[kind][-1] for (_, kind), client in placed.items()),
        10,
        "websockets open through nginx, polling sessions upgraded to websockets on their node",
    )

    hands = list(placed.values())
    everyone = [chair, *hands]
    assert (await chair.send("take_up_item", item="3"))["ok"]
    answers = await asyncio.gather(*(hand.send("request_floor") for hand in hands))
    assert all(answer["ok"] for answer in answers), answers
    # Long-polling keeps asking the same node for a while (a long-poll lasts
    # up to the 10 s ping interval; here the events end each one early).
    await asyncio.sleep(1.0)
    for hand in hands:
        assert (await hand.send("withdraw_floor_request"))["ok"]
    assert (await hands[0].send("request_floor"))["ok"]

    log = await cluster.log(consultation)
    await until(lambda: all(client.seq == len(log) for client in everyone), 10, "every client has the whole log")
    final = (await server_state(cluster, consultation)).state
    for client in everyone:
        assert client.connects == 1, "no session was lost: every request of a session reached its node"
        assert_saw_the_log(client, log)
        assert queue_of(client.state) == queue_of(final) == [final.participants[hands[0].welcome["participant"]].delegation]

    access = (proxy.directory / "access.log").read_text()
    polls = re.findall(r'"(?:GET|POST) /socket\.io/\?[^"]*transport=polling[^"]*" (\d{3})', access)
    assert len(polls) > 20 and set(polls) == {"200"}, "long-polling requests went through, none refused"
    # Per-node endpoints stay off the public address; the API goes through.
    assert status(f"{proxy.url}/metrics") == 404
    assert status(f"{proxy.url}/api/openapi.json") == 200
