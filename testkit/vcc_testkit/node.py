"""A real node in this process: ``create_app`` on a free port, the embedded store
in a directory of the caller's, holding the live test consultation."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestServer
from vcc.api.routes import SECRET, SERVICE
from vcc.app import GATEWAY, create_app
from vcc.auth.links import deployment_admin_token
from vcc.auth.tokens import Claims, sign
from vcc.client import ConsultationClient
from vcc.config import Config
from vcc.gateway.socket_api import Gateway
from vcc.service import Runtime, Service
from vcc_protocol import commands as c
from vcc_protocol.vocabulary import ADMIN_ACTOR

from .consultations import live_commands

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

    async def client(self, participant: str, **kwargs: Any) -> ConsultationClient:
        client = ConsultationClient(self.url, self.token(participant), **kwargs)
        await client.connect()
        return client

    async def runtime(self) -> Runtime:
        return await self.service.runtime(CONSULTATION)


async def start_node(
    store: Path, *, clock: Callable[[], int] | None = None, commands: list[c.Command] | None = None, tail_ms: int = 4_000, **config: Any
) -> Node:
    """Start a node on 127.0.0.1 holding ``commands`` (by default the live test
    consultation, its sitting open now); the caller closes ``node.server``.
    :param config: more of the node's ``Config`` (``media="managed"``: its own Janus)."""
    now_clock = clock or (lambda: time.time_ns() // 1_000_000)
    app = await create_app(Config(store=str(store), **config), clock=now_clock)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    node = Node(server, app[SERVICE], app[SECRET], app[GATEWAY])
    setup = commands if commands is not None else live_commands(now_clock(), tail_ms=tail_ms)
    answers = await node.service.execute_all(CONSULTATION, setup, ADMIN_ACTOR)
    assert answers[-1]["ok"], answers[-1]
    return node
