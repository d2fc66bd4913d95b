"""What only the Redis store has: AOF durability, outages, many processes.

Each test gets a redis-server of its own (``durable_redis``: AOF with
``appendfsync always``) so it can kill and restart it.
"""

from __future__ import annotations

import asyncio
import time

import pytest
import redis
from vcc.store import StoreUnavailable
from vcc.store.redis import RedisStore
from vcc_testkit.redis_server import RedisServer
from vcc_testkit.waiting import until

pytestmark = pytest.mark.redis


async def keep_appending(store: RedisStore, stream: str, acknowledged: list[int]) -> None:
    """Append single events until the store fails; record every acknowledged seq."""
    seq = (await store.head(stream)).seq
    while True:
        try:
            seq = await store.append(stream, seq, [f"{stream}#{seq + 1}".encode()])
        except StoreUnavailable:
            return
        acknowledged.append(seq)


async def test_acknowledged_appends_survive_sigkill_of_redis(durable_redis: RedisServer) -> None:
    async with RedisStore(durable_redis.url) as store:
        acked: dict[str, list[int]] = {f"c{i}": [] for i in range(4)}
        writers = [asyncio.create_task(keep_appending(store, s, a)) for s, a in acked.items()]
        while sum(map(len, acked.values())) < 400:
            await asyncio.sleep(0.01)
        epoch = (await store.head("c0")).epoch
        durable_redis.kill()  # mid-append: some calls are in flight
        await asyncio.wait_for(asyncio.gather(*writers), 10)
        durable_redis.start()
        for stream, seqs in acked.items():
            log = await store.read(stream, 0)
            assert [seq for seq, _ in log] == list(range(1, len(log) + 1))
            assert len(log) >= seqs[-1]
            assert all(data == f"{stream}#{seq}".encode() for seq, data in log)
            assert (await store.head(stream)).seq == len(log)
        assert (await store.head("c0")).epoch == epoch


async def test_outage_fails_fast_and_heals_by_itself(durable_redis: RedisServer) -> None:
    async with RedisStore(durable_redis.url) as store, RedisStore(durable_redis.url) as idle:
        assert await store.append("c1", 0, [b"1"]) == 1
        assert await idle.head("c1") == (await store.head("c1"))
        durable_redis.kill()
        for operation in (
            lambda: store.append("c1", 1, [b"2"]),
            lambda: store.read("c1", 0),
            lambda: store.head("c1"),
        ):
            started = time.monotonic()
            with pytest.raises(StoreUnavailable, match="redis-server"):
                await operation()
            assert time.monotonic() - started < 3
        durable_redis.start()
        # Same store object, no restart: the pool reconnects on its own.
        assert await store.append("c1", 1, [b"2"]) == 2
        assert await store.read("c1", 0) == [(1, b"1"), (2, b"2")]
        # A store that sat idle through the outage: its pooled connection is
        # dead, and its very first call must notice and reconnect.
        assert (await idle.head("c1")).seq == 2


def answers_at_once(url: str) -> bool:
    """Whether the server answers a PING within 50 ms."""
    with redis.Redis.from_url(url, socket_timeout=0.05) as probe:
        try:
            return bool(probe.ping())
        except redis.TimeoutError:
            return False


async def test_a_hung_redis_times_out_instead_of_hanging(durable_redis: RedisServer) -> None:
    async with RedisStore(durable_redis.url) as store:
        await store.append("c1", 0, [b"1"])
        with redis.Redis.from_url(durable_redis.url) as admin:
            # DEBUG SLEEP blocks the server like a stalled disk or a long script.
            sleeper = asyncio.create_task(asyncio.to_thread(admin.execute_command, "DEBUG", "SLEEP", 2.5))
            await until(lambda: not answers_at_once(durable_redis.url), 2, "redis-server is held by DEBUG SLEEP")
            started = time.monotonic()
            with pytest.raises(StoreUnavailable):
                await store.append("c1", 1, [b"2"])
            assert time.monotonic() - started < 3
            await sleeper
        # The stalled append may or may not have been applied: the contract
        # says "unknown", and the seq check keeps the log consistent.
        head = (await store.head("c1")).seq
        assert head in (1, 2)
        assert await store.append("c1", head, [b"3"]) == head + 1


async def test_opening_without_redis_says_what_to_do(durable_redis: RedisServer) -> None:
    durable_redis.kill()
    with pytest.raises(StoreUnavailable, match="check that redis-server is running"):
        await RedisStore(durable_redis.url).open()


async def test_subscriber_catches_up_after_a_redis_restart(durable_redis: RedisServer) -> None:
    async with RedisStore(durable_redis.url) as node_a, RedisStore(durable_redis.url) as node_b:
        await node_b.append("c1", 0, [b"1"])
        sub = node_a.subscribe("c1")
        await sub.ready()
        await node_b.append("c1", 1, [b"2"])
        assert await asyncio.wait_for(anext(sub), 5) == (2, b"2")

        durable_redis.kill()
        durable_redis.start()
        # Appended right after the restart, before node A's pub/sub has
        # reconnected: these publications never reach it, the log does.
        seq = 2
        for event in (b"3", b"4", b"5"):
            while True:
                try:
                    seq = await node_b.append("c1", seq, [event])
                    break
                except StoreUnavailable:
                    await asyncio.sleep(0.05)
        got = [await asyncio.wait_for(anext(sub), 10) for _ in range(3)]
        assert got == [(3, b"3"), (4, b"4"), (5, b"5")]
        # And live delivery works again afterwards.
        await node_b.append("c1", 5, [b"6"])
        assert await asyncio.wait_for(anext(sub), 10) == (6, b"6")
        await sub.close()


async def test_two_nodes_race_through_the_script(durable_redis: RedisServer) -> None:
    """The check-and-append is one Lua script: no interleaving between nodes."""
    nodes = [RedisStore(durable_redis.url) for _ in range(3)]
    for node in nodes:
        await node.open()
    try:
        results = await asyncio.gather(
            *(node.append("c1", 0, [b"first"], command_id=f"n{i}") for i, node in enumerate(nodes)),
            return_exceptions=True,
        )
        assert sorted(type(r).__name__ for r in results) == [
            "ConcurrencyConflict", "ConcurrencyConflict", "int"
        ]  # fmt: skip
        winner = next(i for i, r in enumerate(results) if r == 1)
        for i, node in enumerate(nodes):
            expected = (1, 1) if i == winner else None
            assert await node.find_command("c1", f"n{i}") == expected
    finally:
        for node in nodes:
            await node.close()


async def test_keys_share_one_cluster_hash_tag(durable_redis: RedisServer) -> None:
    async with RedisStore(durable_redis.url) as store:
        await store.append("c1", 0, [b"1"], command_id="k")
        await store.save_snapshot("c1", 1, b"s")
    with redis.Redis.from_url(durable_redis.url) as admin:
        keys = sorted(k.decode() for k in admin.keys("vcc:*"))
        tagged = [f"vcc:{{c1}}:{name}" for name in ("cmd", "log", "meta", "snap")]
        assert keys == ["vcc:streams", *tagged]
        assert [entry_id for entry_id, _ in admin.xrange("vcc:{c1}:log")] == [b"1-1"]
