"""A real node on a free port, real socket.io clients, the embedded store in a temp dir."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from vcc.client import ConsultationClient
from vcc_protocol.commands import Command
from vcc_testkit.node import Node, start_node

NodeFactory = Callable[..., Awaitable[Node]]


@pytest.fixture
async def make_node(tmp_path: Path) -> AsyncIterator[NodeFactory]:
    """Start nodes (optionally with a shifted clock) holding the live test consultation."""
    started: list[TestServer] = []

    async def make(*, clock: Callable[[], int] | None = None, commands: list[Command] | None = None, tail_ms: int = 4_000) -> Node:
        node = await start_node(tmp_path / "store", clock=clock, commands=commands, tail_ms=tail_ms)
        started.append(node.server)
        return node

    yield make
    for server in started:
        await server.close()


@pytest.fixture
async def node(make_node: NodeFactory) -> Node:
    return await make_node()


@pytest.fixture
async def clients(node: Node) -> AsyncIterator[Callable[..., Awaitable[ConsultationClient]]]:
    """Connect clients that are closed at the end of the test."""
    made: list[ConsultationClient] = []

    async def connect(participant: str, **kwargs: object) -> ConsultationClient:
        client = await node.client(participant, **kwargs)
        made.append(client)
        return client

    yield connect
    for client in made:
        await client.close()
