"""What only the embedded store has: files, crash safety, in-process fan-out."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from vcc.store import StoreUnavailable, open_store
from vcc.store.redis import RedisStore
from vcc.store.sqlite import DEFAULT_FILENAME, SqliteStore, database_path

HERE = Path(__file__).resolve().parent


def test_database_path_rules(tmp_path: Path) -> None:
    assert database_path(tmp_path) == tmp_path / DEFAULT_FILENAME
    assert database_path(tmp_path / "new-dir") == tmp_path / "new-dir" / DEFAULT_FILENAME
    assert database_path(tmp_path / "c21.sqlite") == tmp_path / "c21.sqlite"
    existing = tmp_path / "events-file"
    existing.write_bytes(b"")
    assert database_path(existing) == existing


def test_open_store_picks_the_backend(tmp_path: Path) -> None:
    assert isinstance(open_store("redis://127.0.0.1:6379/0"), RedisStore)
    sqlite = open_store(str(tmp_path / "data"))
    assert isinstance(sqlite, SqliteStore)
    assert sqlite.path == tmp_path / "data" / DEFAULT_FILENAME


async def test_creates_the_directory_and_uses_wal(tmp_path: Path) -> None:
    async with SqliteStore(tmp_path / "a" / "b") as store:
        await store.append("c1", 0, [b"x"])
    assert (tmp_path / "a" / "b" / DEFAULT_FILENAME).is_file()


async def test_unwritable_location_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    store = SqliteStore(blocker / "sub" / "db.sqlite")
    with pytest.raises(StoreUnavailable, match="cannot open the event store"):
        await store.open()


async def test_calls_before_open_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="open"):
        await SqliteStore(tmp_path).head("c1")


async def test_appends_by_another_instance_reach_subscribers_as_a_gap(tmp_path: Path) -> None:
    """A second writer on the same file notifies no one here: the next
    notification shows a gap, which the subscription reads from the file."""
    async with SqliteStore(tmp_path) as store, SqliteStore(tmp_path) as other:
        sub = store.subscribe("c1")
        await sub.ready()
        await other.append("c1", 0, [b"1", b"2"])
        await store.append("c1", 2, [b"3"])
        got = [await asyncio.wait_for(anext(sub), 5) for _ in range(3)]
        assert got == [(1, b"1"), (2, b"2"), (3, b"3")]
        await sub.close()


async def test_subscribe_without_ready_misses_nothing_appended_after(tmp_path: Path) -> None:
    async with SqliteStore(tmp_path) as store:
        await store.append("c1", 0, [b"before"])
        sub = store.subscribe("c1")
        await store.append("c1", 1, [b"after"])
        assert await asyncio.wait_for(anext(sub), 5) == (2, b"after")
        await sub.close()


async def test_group_commit_serves_many_concurrent_appenders(tmp_path: Path) -> None:
    async with SqliteStore(tmp_path) as store:
        results = await asyncio.gather(*(store.append(f"s{i}", 0, [b"a", b"b"], command_id=f"c{i}") for i in range(500)))
        assert results == [2] * 500
        assert len(await store.streams()) == 500
    async with SqliteStore(tmp_path) as reopened:
        assert await reopened.find_command("s499", "c499") == (1, 2)


def test_acknowledged_appends_survive_sigkill(tmp_path: Path) -> None:
    """Kill a process that is appending from 8 tasks; everything it saw acknowledged is stored.

    This is a process crash; a power cut additionally relies on the disk
    honouring fsync (synchronous=FULL issues it at every commit).
    """
    # The child imports vcc exactly as this process does, installed or not.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    acknowledged: dict[str, int] = {}
    with subprocess.Popen(
        [sys.executable, str(HERE / "sqlite_appender.py"), str(tmp_path), "8"],
        stdout=subprocess.PIPE,
        env=env,
    ) as child:
        assert child.stdout is not None
        try:
            for line in child.stdout:
                stream, seq = line.decode().split()
                acknowledged[stream] = int(seq)
                if sum(acknowledged.values()) >= 3000:
                    break
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()
    assert child.returncode == -signal.SIGKILL
    assert len(acknowledged) == 8

    async def check() -> None:
        async with SqliteStore(tmp_path) as store:
            for stream, last_acked in acknowledged.items():
                log = await store.read(stream, 0)
                assert [seq for seq, _ in log] == list(range(1, len(log) + 1))
                assert len(log) >= last_acked
                assert all(data.startswith(f"{stream}#{seq}".encode()) for seq, data in log)
                assert (await store.head(stream)).seq == len(log)

    asyncio.run(check())
