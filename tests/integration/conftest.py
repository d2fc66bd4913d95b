"""A real node on a free port, real socket.io clients, the embedded store in a temp dir."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from vcc.app import GATEWAY, create_app
from vcc.client import ConsultationClient
from vcc.config import Config
from vcc.gateway.socket_api import Gateway
from vcc.http_api import SECRET, SERVICE
from vcc.links import deployment_admin_token
from vcc.service import Service
from vcc.tokens import Claims, sign
from vcc_protocol.vocabulary import ADMIN_ACTOR

from tests.support.consultations import live_commands

CONSULTATION = "test"


@dataclass
class Node:
    server: TestServer
    service: Service
    secret: bytes
    gateway: Gateway

    @property
    def url(self) -> str:
        return str(self.server.make_url("")).rstrip("/")

    def token(self, participant: str, role: str = "delegate", expires_in_ms: int = 3_600_000) -> str:
        return sign(self.secret, Claims(participant, role, CONSULTATION, self.service.clock() + expires_in_ms))

    def admin_token(self) -> str:
        return self.token("@admin", "admin")

    def deployment_token(self) -> str:
        return deployment_admin_token(self.secret, self.service.clock())

    async def client(self, participant: str, **kwargs: object) -> ConsultationClient:
        client = ConsultationClient(self.url, self.token(participant), **kwargs)  # type: ignore[arg-type]
        await client.connect()
        return client

    async def runtime(self):  # noqa: ANN201 - a vcc.service.Runtime
        return await self.service.runtime(CONSULTATION)


NodeFactory = Callable[..., Awaitable[Node]]


@pytest.fixture
async def make_node(tmp_path: Path) -> AsyncIterator[NodeFactory]:
    """Start nodes (optionally with a shifted clock) holding the live test consultation."""
    started: list[TestServer] = []

    async def make(*, clock: Callable[[], int] | None = None, commands: list | None = None, tail_ms: int = 4_000) -> Node:
        now_clock = clock or (lambda: time.time_ns() // 1_000_000)
        app = await create_app(Config(store=str(tmp_path / "store")), clock=now_clock)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        started.append(server)
        node = Node(server, app[SERVICE], app[SECRET], app[GATEWAY])
        setup = commands if commands is not None else live_commands(now_clock(), tail_ms=tail_ms)
        answers = await node.service.execute_all(CONSULTATION, setup, ADMIN_ACTOR)
        assert answers[-1]["ok"], answers[-1]
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
