"""The event-store contract: every backend passes these tests unchanged.

Fixtures (``store``, ``peer``, ``make_store``) come from ``conftest.py`` and
run each test once per backend.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable

import pytest
from vcc.store import (
    ConcurrencyConflict,
    DuplicateCommand,
    EventStore,
    StreamHead,
    Subscription,
)


def ev(stream: str, seq: int) -> bytes:
    """A recognisable event: which stream and which seq it was meant for."""
    return f"{stream}#{seq}".encode() + bytes(range(256))[:40]


async def append_retrying(store: EventStore, stream: str, count: int) -> int:
    """Append ``count`` events the way the service does: read head, append, retry on conflict."""
    expected = (await store.head(stream)).seq
    while True:
        try:
            return await store.append(stream, expected, [ev(stream, expected + i) for i in range(1, count + 1)])
        except ConcurrencyConflict as conflict:
            expected = conflict.actual.seq


async def collect(sub: Subscription, until_seq: int, timeout: float = 10.0) -> list[tuple[int, bytes]]:
    got: list[tuple[int, bytes]] = []

    async def run() -> None:
        async for seq, event in sub:
            got.append((seq, event))
            if seq >= until_seq:
                return

    await asyncio.wait_for(run(), timeout)
    return got


# -- heads, appends, reads -------------------------------------------------


async def test_missing_stream_is_empty(store: EventStore) -> None:
    assert await store.head("c1") == StreamHead("", 0)
    assert await store.read("c1", 0) == []
    assert await store.load_snapshot("c1") is None
    assert await store.find_command("c1", "cmd-1") is None
    assert await store.streams() == []


async def test_append_then_read(store: EventStore) -> None:
    assert await store.append("c1", 0, [ev("c1", 1), ev("c1", 2)]) == 2
    assert await store.append("c1", 2, [ev("c1", 3)]) == 3
    everything = [(seq, ev("c1", seq)) for seq in (1, 2, 3)]
    assert await store.read("c1", 0) == everything
    assert await store.read("c1", 1) == everything[1:]
    assert await store.read("c1", 3) == []
    assert (await store.head("c1")).seq == 3


async def test_read_with_limit(store: EventStore) -> None:
    await store.append("c1", 0, [ev("c1", seq) for seq in range(1, 11)])
    assert [seq for seq, _ in await store.read("c1", 0, limit=3)] == [1, 2, 3]
    assert [seq for seq, _ in await store.read("c1", 8, limit=5)] == [9, 10]
    assert [seq for seq, _ in await store.read("c1", 4, limit=1)] == [5]


async def test_streams_are_independent_and_listed(store: EventStore) -> None:
    await store.append("b", 0, [ev("b", 1)])
    await store.append("a", 0, [ev("a", 1), ev("a", 2)])
    assert await store.streams() == ["a", "b"]
    assert await store.read("b", 0) == [(1, ev("b", 1))]
    assert (await store.head("a")).seq == 2


async def test_events_survive_reopening(store: EventStore, make_store: Callable[[], EventStore]) -> None:
    await store.append("c1", 0, [ev("c1", 1), ev("c1", 2)])
    head = await store.head("c1")
    async with make_store() as reopened:
        assert await reopened.head("c1") == head
        assert await reopened.read("c1", 0) == [(1, ev("c1", 1)), (2, ev("c1", 2))]


async def test_bad_arguments_are_refused_and_store_nothing(store: EventStore) -> None:
    with pytest.raises(ValueError):
        await store.append("c1", 0, [])
    with pytest.raises(ValueError):
        await store.append("c1", -1, [b"x"])
    with pytest.raises(ValueError):
        await store.append("c{1}", 0, [b"x"])
    with pytest.raises(ValueError):
        await store.append("c1", 0, [b"x"], command_id="")
    with pytest.raises(TypeError):
        await store.append("c1", 0, ["not bytes"])  # type: ignore[list-item]
    with pytest.raises(ValueError):
        await store.read("c1", 0, limit=0)
    assert await store.head("c1") == StreamHead("", 0)


# -- optimistic concurrency -------------------------------------------------


async def test_stale_expected_seq_conflicts_with_actual_head(store: EventStore) -> None:
    await store.append("c1", 0, [ev("c1", 1), ev("c1", 2)])
    head = await store.head("c1")
    for stale in (0, 1, 3, 7):
        with pytest.raises(ConcurrencyConflict) as caught:
            await store.append("c1", stale, [b"never stored"])
        assert caught.value.actual == head
        assert caught.value.expected_seq == stale
    assert await store.read("c1", 0) == [(1, ev("c1", 1)), (2, ev("c1", 2))]


async def test_same_expected_seq_exactly_one_wins(store: EventStore, peer: EventStore) -> None:
    await store.append("c1", 0, [ev("c1", 1)])
    writers = [store, peer] * 10
    results = await asyncio.gather(
        *(w.append("c1", 1, [f"writer {i}".encode()]) for i, w in enumerate(writers)),
        return_exceptions=True,
    )
    winners = [i for i, r in enumerate(results) if r == 2]
    assert len(winners) == 1
    losers = [r for r in results if isinstance(r, ConcurrencyConflict)]
    assert len(losers) == len(writers) - 1
    assert all(loser.actual.seq == 2 for loser in losers)
    assert await store.read("c1", 1) == [(2, f"writer {winners[0]}".encode())]


async def test_concurrent_writers_build_one_contiguous_log(store: EventStore, peer: EventStore) -> None:
    rng = random.Random(7)
    plan = [(w, rng.randint(1, 3)) for w in [store, peer] * 15]
    await asyncio.gather(*(append_retrying(w, "c1", n) for w, n in plan))
    log = await store.read("c1", 0)
    total = sum(n for _, n in plan)
    assert [seq for seq, _ in log] == list(range(1, total + 1))
    # Every event sits at the seq its writer decided it for: no lost updates.
    assert all(event == ev("c1", seq) for seq, event in log)


# -- idempotent commands ----------------------------------------------------


async def test_duplicate_command_is_refused_and_stores_nothing(store: EventStore) -> None:
    assert await store.append("c1", 0, [ev("c1", 1), ev("c1", 2)], command_id="cmd-1") == 2
    assert await store.append("c1", 2, [ev("c1", 3)], command_id="cmd-2") == 3
    # A retry with a fresh expected_seq, and one with the stale one it first used.
    for expected in (3, 0):
        with pytest.raises(DuplicateCommand) as caught:
            await store.append("c1", expected, [b"retry"], command_id="cmd-1")
        assert (caught.value.first_seq, caught.value.last_seq) == (1, 2)
    assert (await store.head("c1")).seq == 3
    assert [seq for seq, _ in await store.read("c1", 0)] == [1, 2, 3]


async def test_find_command(store: EventStore) -> None:
    await store.append("c1", 0, [ev("c1", 1)])
    await store.append("c1", 1, [ev("c1", 2), ev("c1", 3)], command_id="cmd-1")
    assert await store.find_command("c1", "cmd-1") == (2, 3)
    assert await store.find_command("c1", "cmd-unknown") is None
    # Command ids are per stream.
    assert await store.find_command("c2", "cmd-1") is None
    assert await store.append("c2", 0, [ev("c2", 1)], command_id="cmd-1") == 1


async def test_conflicting_command_is_not_recorded(store: EventStore) -> None:
    await store.append("c1", 0, [ev("c1", 1)])
    with pytest.raises(ConcurrencyConflict):
        await store.append("c1", 0, [b"x"], command_id="cmd-1")
    assert await store.find_command("c1", "cmd-1") is None
    assert await store.append("c1", 1, [ev("c1", 2)], command_id="cmd-1") == 2


# -- epochs and snapshots -----------------------------------------------------


async def test_epoch_is_minted_once_and_stays(store: EventStore, make_store: Callable[[], EventStore]) -> None:
    await store.append("c1", 0, [ev("c1", 1)])
    epoch = (await store.head("c1")).epoch
    assert epoch != ""
    await store.append("c1", 1, [ev("c1", 2)])
    assert await store.head("c1") == StreamHead(epoch, 2)
    await store.append("c2", 0, [ev("c2", 1)])
    assert (await store.head("c2")).epoch not in ("", epoch)
    with pytest.raises(ConcurrencyConflict) as caught:
        await store.append("c1", 0, [b"x"])
    assert caught.value.actual.epoch == epoch
    async with make_store() as reopened:
        assert (await reopened.head("c1")).epoch == epoch


async def test_snapshots_keep_the_newest(store: EventStore) -> None:
    await store.append("c1", 0, [ev("c1", seq) for seq in range(1, 6)])
    await store.save_snapshot("c1", 2, b"state@2")
    assert await store.load_snapshot("c1") == (2, b"state@2")
    await store.save_snapshot("c1", 5, b"state@5")
    await store.save_snapshot("c1", 3, b"late, older")
    assert await store.load_snapshot("c1") == (5, b"state@5")
    with pytest.raises(ValueError):
        await store.save_snapshot("c1", 6, b"of events that do not exist")
    assert await store.load_snapshot("c1") == (5, b"state@5")
    assert await store.load_snapshot("c2") is None


# -- subscriptions ------------------------------------------------------------


async def test_subscription_delivers_peer_appends_in_order(store: EventStore, peer: EventStore) -> None:
    await store.append("c1", 0, [ev("c1", 1)])
    sub = store.subscribe("c1")
    assert await sub.ready() == 1
    rng = random.Random(3)
    plan = [(w, rng.randint(1, 3)) for w in [peer, store] * 10]
    await asyncio.gather(*(append_retrying(w, "c1", n) for w, n in plan))
    total = 1 + sum(n for _, n in plan)
    got = await collect(sub, total)
    assert got == await store.read("c1", 1)
    assert [seq for seq, _ in got] == list(range(2, total + 1))
    await sub.close()


async def test_subscription_from_after_seq_replays_then_follows(store: EventStore, peer: EventStore) -> None:
    await store.append("c1", 0, [ev("c1", seq) for seq in range(1, 6)])
    sub = store.subscribe("c1", after_seq=2)
    # Appended before the subscription is even ready: must still arrive, once.
    await peer.append("c1", 5, [ev("c1", 6)])
    await sub.ready()
    await peer.append("c1", 6, [ev("c1", 7), ev("c1", 8)])
    got = await collect(sub, 8)
    assert got == [(seq, ev("c1", seq)) for seq in range(3, 9)]
    await sub.close()


async def test_subscription_sees_only_its_stream(store: EventStore, peer: EventStore) -> None:
    sub = store.subscribe("c1")
    await sub.ready()
    await peer.append("c2", 0, [ev("c2", 1)])
    await peer.append("c1", 0, [ev("c1", 1)])
    assert await collect(sub, 1) == [(1, ev("c1", 1))]
    await sub.close()


async def test_closing_ends_the_iteration(store: EventStore) -> None:
    sub = store.subscribe("c1")
    await sub.ready()
    await store.append("c1", 0, [ev("c1", 1)])
    assert await asyncio.wait_for(anext(sub), 5) == (1, ev("c1", 1))
    waiting = asyncio.create_task(anext(sub, None))
    await asyncio.sleep(0)  # one turn of the loop: the consumer now waits for the next event
    await sub.close()
    assert await asyncio.wait_for(waiting, 5) is None


async def test_closing_the_store_ends_subscriptions(make_store: Callable[[], EventStore]) -> None:
    store = make_store()
    await store.open()
    sub = store.subscribe("c1")
    await sub.ready()
    consumer = asyncio.create_task(anext(sub, None))
    await asyncio.sleep(0)  # one turn of the loop: the consumer now waits for the next event
    await store.close()
    assert await asyncio.wait_for(consumer, 5) is None


async def test_subscription_repairs_lost_repeated_and_early_notifications(
    store: EventStore,
) -> None:
    """Notifications are hints; whatever they do, the log decides what is yielded."""
    await store.append("c1", 0, [ev("c1", seq) for seq in range(1, 4)])
    sub = store.subscribe("c1", after_seq=3)
    await sub.ready()
    await store.append("c1", 3, [ev("c1", seq) for seq in range(4, 11)])
    # Replayed noise on top of the store's own notification: an old repeat,
    # a jump ahead (as if 4..7 were lost), an overlapping repeat.
    sub.push(2, [b"stale", b"stale"])
    sub.push(8, [ev("c1", 8), ev("c1", 9)])
    sub.push(4, [ev("c1", 4), ev("c1", 5)])
    got = await collect(sub, 10)
    assert got == [(seq, ev("c1", seq)) for seq in range(4, 11)]
    await sub.close()


async def test_subscription_inbox_is_bounded_and_lossless(store: EventStore) -> None:
    sub = store.subscribe("c1")
    await sub.ready()
    # A consumer that does not read while 3 * max_pending notifications arrive.
    sub._max_pending = 20
    expected = 0
    for _ in range(60):
        expected = await store.append("c1", expected, [ev("c1", expected + 1)])
    assert len(sub._inbox) <= 20
    got = await collect(sub, 60)
    assert [seq for seq, _ in got] == list(range(1, 61))
    await sub.close()


async def test_several_commands_appended_together_are_each_recorded_and_deduplicated(store: EventStore) -> None:
    last = await store.append("group", 0, [b"a1", b"b1", b"b2", b"t1", b"c1"], commands=[("a", 1), ("b", 2), ("", 1), ("c", 1)])
    assert last == 5
    assert await store.find_command("group", "a") == (1, 1)
    assert await store.find_command("group", "b") == (2, 3)
    assert await store.find_command("group", "c") == (5, 5)
    with pytest.raises(DuplicateCommand) as again:
        await store.append("group", 5, [b"x", b"b1"], commands=[("x", 1), ("b", 1)])
    assert (again.value.command_id, again.value.first_seq, again.value.last_seq) == ("b", 2, 3)
    assert (await store.head("group")).seq == 5 and await store.find_command("group", "x") is None
    with pytest.raises(ValueError):
        await store.append("group", 5, [b"x"], commands=[("x", 2)])


# -- the store's own settings -----------------------------------------------


async def test_settings_are_kept_replaced_and_seen_by_every_opener(
    make_store: Callable[[], EventStore], store: EventStore, peer: EventStore
) -> None:
    assert await store.get_meta("public_url") is None
    await store.set_meta("public_url", "http://127.0.0.1:8765")
    await store.set_meta("public_url", "https://vcc.example.org")
    await store.set_meta("other", "kept apart")
    assert await peer.get_meta("public_url") == "https://vcc.example.org"
    await store.close()
    async with make_store() as reopened:
        assert await reopened.get_meta("public_url") == "https://vcc.example.org"
        assert await reopened.get_meta("other") == "kept apart"
        assert await reopened.streams() == []  # a setting is not a stream
