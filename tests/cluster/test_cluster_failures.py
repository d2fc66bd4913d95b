"""Failures of a real cluster: a node killed mid-burst, Redis killed and
restarted, Redis stopped, Redis hung. Acknowledged means durable; nothing is
applied twice; the service heals without restarting a node."""

from __future__ import annotations

import asyncio
import signal
import time
import urllib.error
import urllib.request
from collections import Counter

import pytest
import redis
from vcc_protocol.events import (
    ConnectionTestRecorded,
    FloorRequested,
    FloorRequestWithdrawn,
)
from vcc_testkit.consultations import CHAIR, COUNCIL
from vcc_testkit.waiting import until

from tests.cluster.cluster import (
    assert_saw_the_log,
    metric,
    queue_of,
    send_with_id,
    server_state,
    speakers,
    token,
)

pytestmark = pytest.mark.redis


def ready(node_url: str) -> int:
    """The HTTP status of the node's readiness check."""
    try:
        with urllib.request.urlopen(f"{node_url}/readyz", timeout=5) as answer:
            return answer.status
    except urllib.error.HTTPError as refused:
        return refused.code


async def test_a_killed_nodes_clients_move_to_other_nodes_and_no_command_is_lost_or_applied_twice(own_cluster, nginx, clients) -> None:
    cluster = own_cluster(3)
    proxy = nginx([node.port for node in cluster.nodes])
    consultation = "kill"
    secret = await cluster.prepare(consultation)
    delegates = speakers((await server_state(cluster, consultation)).state, {"council_member": 9, "observer_state": 3})
    # Each client's cookie picks its node through nginx's consistent hash.
    chair = await clients(proxy.url, token(secret, consultation, CHAIR), cookies={"vcc_node": CHAIR})
    hands = [await clients(proxy.url, token(secret, consultation, p), cookies={"vcc_node": p}) for p in delegates]
    everyone = [chair, *hands]
    spread = [metric(node.url, "vcc_connections") for node in cluster.nodes]
    assert sum(spread) == len(everyone) and sum(1 for n in spread if n) >= 2, spread
    victim = cluster.nodes[spread.index(max(spread))]
    assert (await chair.send("take_up_item", item="3"))["ok"]

    answered: list[str] = []

    async def raise_and_lower(client, name: str) -> None:
        for n in range(5):
            for kind in ("request_floor", "withdraw_floor_request"):
                answer = await send_with_id(client, f"{name}-{n}-{kind}", kind)
                assert answer["ok"], (name, n, kind, answer)
                answered.append(name)
                await asyncio.sleep(0.05)

    async def kill_in_the_middle() -> None:
        await until(lambda: len(answered) >= 30, 30, "the burst is under way")
        victim.kill()

    await asyncio.gather(kill_in_the_middle(), *(raise_and_lower(hand, p) for hand, p in zip(hands, delegates, strict=True)))

    # A client of the killed node that had nothing left to send reconnects on its own schedule.
    await until(lambda: sum(1 for client in everyone if client.connects > 1) >= max(spread), 10, "the killed node's clients reconnected")
    moved = [client for client in everyone if client.connects > 1]
    assert len(moved) == max(spread), "exactly the killed node's clients reconnected"
    log = await cluster.log(consultation)
    done = Counter((event.actor, type(event)) for _, event in log)
    for participant in delegates:
        assert done[participant, FloorRequested] == 5 and done[participant, FloorRequestWithdrawn] == 5, participant
    await until(lambda: all(client.seq == len(log) for client in everyone), 10, "every client caught up")
    for client in everyone:
        assert_saw_the_log(client, log)
        assert queue_of(client.state) == []
    assert sum(metric(node.url, "vcc_connections") for node in cluster.nodes if node is not victim) == len(everyone)


async def test_a_node_stopped_for_an_upgrade_hands_its_clients_over_at_once(own_cluster, nginx, clients) -> None:
    cluster = own_cluster(2)
    proxy = nginx([node.port for node in cluster.nodes])
    consultation = "upgrade"
    secret = await cluster.prepare(consultation)
    delegates = speakers((await server_state(cluster, consultation)).state, {"council_member": 12})
    everyone = [
        await clients(
            proxy.url, token(secret, consultation, p), cookies={"vcc_node": p}, transports=["polling"] if i % 2 else ["websocket"]
        )
        for i, p in enumerate(delegates)
    ]
    spread = [metric(node.url, "vcc_connections") for node in cluster.nodes]
    assert min(spread) > 0, spread
    leaving = cluster.nodes[spread.index(max(spread))]

    leaving.process.send_signal(signal.SIGTERM)  # what systemd sends on `systemctl restart vcc@PORT`
    # Within 4 s: a node that left its connections open would keep them
    # unserved for its whole shutdown (about 6 s) before they could move.
    await until(lambda: sum(client.connects > 1 for client in everyone) == max(spread), 4, "the leaving node's clients reconnected")
    answers = await asyncio.gather(*(client.send("record_attendance") for client in everyone))
    assert all(answer["ok"] for answer in answers), answers
    log = await cluster.log(consultation)
    await until(lambda: all(client.seq == len(log) for client in everyone), 5, "every client has the whole log")
    for client in everyone:
        assert_saw_the_log(client, log)
    await asyncio.to_thread(leaving.stop)


async def test_acknowledged_events_survive_a_redis_crash_with_aof_always(own_cluster, clients) -> None:
    cluster = own_cluster(2)
    with redis.Redis.from_url(cluster.url) as admin:
        assert admin.config_get("appendfsync") == {"appendfsync": "always"}, "deploy/redis/redis.conf is in effect"
    consultation = "crash"
    secret = await cluster.prepare(consultation)
    first, second = (node.url for node in cluster.nodes)
    writers = [
        await clients(url, token(secret, consultation, p))
        for url, p in ((first, COUNCIL[0]), (second, COUNCIL[1]), (first, COUNCIL[2]), (second, CHAIR))
    ]
    watchers = [await clients(url, token(secret, consultation, COUNCIL[0])) for url in (first, second)]
    epoch = watchers[0].epoch
    acknowledged: list[str] = []

    async def write(client, name: str) -> None:
        for n in range(20):
            mark = f"{name}-{n}"
            answer = await send_with_id(
                client,
                mark,
                "record_connection_test",
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
            assert answer["ok"], answer
            acknowledged.append(mark)
            await asyncio.sleep(0.03)

    async def crash() -> None:
        await until(lambda: len(acknowledged) >= 25, 30, "writes are under way")
        cluster.redis.kill()  # SIGKILL: no shutdown, no last fsync
        await asyncio.sleep(0.5)
        await asyncio.to_thread(cluster.redis.start)

    await asyncio.gather(crash(), *(write(w, f"w{i}") for i, w in enumerate(writers)))

    log = await cluster.log(consultation)
    assert [seq for seq, _ in log] == list(range(1, len(log) + 1))
    recorded = [event.browser for _, event in log if isinstance(event, ConnectionTestRecorded)]
    assert sorted(recorded) == sorted(acknowledged) and len(recorded) == 80, "every acknowledged command once, nothing else"
    everyone = [*writers, *watchers]
    await until(lambda: all(client.seq == len(log) for client in everyone), 10, "every client caught up")
    for client in everyone:
        assert client.epoch == epoch
        assert_saw_the_log(client, log)


async def test_with_redis_stopped_commands_fail_fast_and_the_service_resumes_by_itself(own_cluster, clients) -> None:
    cluster = own_cluster(2)
    consultation = "outage"
    secret = await cluster.prepare(consultation)
    first, second = (node.url for node in cluster.nodes)
    chair = await clients(first, token(secret, consultation, CHAIR))
    delegate = await clients(second, token(secret, consultation, COUNCIL[0]))
    assert (await chair.send("take_up_item", item="3"))["ok"]
    await delegate.wait_for(lambda s: s.current_item == "3")
    before = await cluster.log(consultation)

    cluster.redis.stop()
    for client in (delegate, chair):
        started = time.monotonic()
        answer = await client.send("request_floor" if client is delegate else "close_speakers_list")
        assert time.monotonic() - started < 3
        assert answer["error"]["code"] == "unavailable" and "Redis" in answer["error"]["message"], answer
    assert ready(first) == ready(second) == 503
    # What the nodes hold in memory is still served: a newcomer gets the state.
    late = await clients(first, token(secret, consultation, COUNCIL[1]))
    assert late.seq == len(before) and late.state.current_item == "3"

    await asyncio.to_thread(cluster.redis.start)
    # No node restarts: the first retry after Redis is back goes through, and
    # the other node's clients get the event through the re-established channel.
    assert (await send_with_id(delegate, "after-outage", "request_floor", timeout=15))["ok"]
    for client in (chair, delegate, late):
        await client.wait_for(lambda s: queue_of(s) == ["argentina"], timeout=10)
    assert ready(first) == ready(second) == 200
    log = await cluster.log(consultation)
    assert log[: len(before)] == before and len(log) == len(before) + 1
    for client in (chair, delegate, late):
        assert_saw_the_log(client, log)


async def test_a_hung_redis_fails_commands_within_3_s_and_their_retry_is_applied_once(own_cluster, clients) -> None:
    cluster = own_cluster(2)
    consultation = "hung"
    secret = await cluster.prepare(consultation)
    first, second = (node.url for node in cluster.nodes)
    chair = await clients(first, token(secret, consultation, CHAIR))
    here = await clients(first, token(secret, consultation, COUNCIL[0]))
    there = await clients(second, token(secret, consultation, COUNCIL[0]))
    assert (await chair.send("take_up_item", item="3"))["ok"]
    await here.wait_for(lambda s: s.current_item == "3")

    cluster.freeze_redis()
    try:
        started = time.monotonic()
        answer = await here.sio.call("command", {"type": "request_floor", "id": "hand-while-hung"}, timeout=10)
        waited = time.monotonic() - started
    finally:
        cluster.thaw_redis()
    assert answer["error"]["code"] == "unavailable" and waited < 3, (answer, waited)
    # The append may still have been applied once Redis woke up: the client
    # cannot know, so it sends the same command again, on whatever node.
    assert (await send_with_id(there, "hand-while-hung", "request_floor"))["ok"]
    log = await cluster.log(consultation)
    assert sum(isinstance(event, FloorRequested) for _, event in log) == 1
    await until(lambda: all(client.seq == len(log) for client in (chair, here, there)), 10, "every client caught up")
