"""Fixtures for the event-store suite: real SQLite files and real redis-servers.

``store`` is parametrized over both backends, so every test that uses it is
part of the one contract both must pass.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
import redis
from vcc.store import EventStore
from vcc.store.redis import RedisStore
from vcc.store.sqlite import SqliteStore
from vcc_testkit.redis_server import RedisServer


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One private server for the whole session (AOF on, fsync every second: fast)."""
    with RedisServer(tmp_path_factory.mktemp("redis"), appendonly=True) as server:
        yield server


@pytest.fixture
def durable_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A server of this test's own, fsync before every reply, free to kill and restart."""
    with RedisServer(tmp_path / "redis", appendonly=True, appendfsync="always") as server:
        yield server


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def make_store(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], EventStore]:
    """Factory of unopened stores that all see the same, initially empty, data."""
    if backend == "sqlite":
        return lambda: SqliteStore(tmp_path / "store")
    server: RedisServer = request.getfixturevalue("redis_server")
    with redis.Redis.from_url(server.url) as client:
        client.flushdb()
    return lambda: RedisStore(server.url)


@pytest.fixture
async def store(make_store: Callable[[], EventStore]) -> AsyncIterator[EventStore]:
    async with make_store() as opened:
        yield opened


@pytest.fixture
async def peer(backend: str, store: EventStore, make_store: Callable[[], EventStore]) -> AsyncIterator[EventStore]:
    """Another writer whose appends ``store``'s subscribers must see.

    Redis: a second ``RedisStore`` (another node). SQLite notifies in-process
    only, so its peer is ``store`` itself.
    """
    if backend == "sqlite":
        yield store
        return
    async with make_store() as other:
        yield other
