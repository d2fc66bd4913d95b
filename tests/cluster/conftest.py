"""Fixtures for the cluster tests: real nodes, real Redis, real nginx; nothing mocked.

A missing redis-server or nginx raises (see ``find_redis_server``,
``find_nginx``): these tests never skip.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from vcc_testkit.nginx import Nginx

from tests.cluster.cluster import Client, Cluster


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Three nodes and Redis shared by a module's tests; each test uses its own consultation."""
    shared = Cluster(tmp_path_factory.mktemp("cluster"), size=3)
    shared.start()
    yield shared
    shared.stop()


@pytest.fixture
def own_cluster(tmp_path: Path) -> Iterator[Callable[[int], Cluster]]:
    """Start a cluster of this test's own, free to break."""
    started: list[Cluster] = []

    def make(size: int) -> Cluster:
        made = Cluster(tmp_path / f"cluster{len(started)}", size)
        started.append(made)
        made.start()
        return made

    yield make
    for made in started:
        made.stop()


@pytest.fixture
def nginx() -> Iterator[Callable[[list[int]], Nginx]]:
    """Start nginx with deploy/nginx/vcc.conf in front of the given node ports."""
    started: list[Nginx] = []

    def make(ports: list[int]) -> Nginx:
        proxy = Nginx(ports)
        started.append(proxy)
        proxy.start()
        return proxy

    yield make
    for proxy in started:
        proxy.stop()


@pytest.fixture
async def clients() -> AsyncIterator[Callable[..., Awaitable[Client]]]:
    """Connect clients (waiting until each is in sync); all are closed at the end."""
    made: list[Client] = []

    async def connect(url: str, token: str, **options: Any) -> Client:
        client = Client(url, token, **options)
        made.append(client)
        await client.connect()
        return client

    yield connect
    for client in made:
        if client.sio.transport() == "polling":
            # A polite goodbye would wait for the pending long-poll, which the
            # server ends only at its next ping (10 s): drop it instead.
            await client.sio.eio.disconnect(abort=True)
        else:
            await client.close()
