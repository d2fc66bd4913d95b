"""Several real ``vcc serve --redis`` nodes on a real private Redis, and the
clients and checks the cluster tests share.

Redis runs with ``deploy/redis/redis.conf`` as it is (AOF, ``appendfsync
always``), only its address and folder changed. Every node is a separate
process; consultations are prepared in Redis from the test process, as
``vcc import`` would, before the nodes serve them.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import socketio
from vcc.auth.tokens import Claims, sign
from vcc.client import ConsultationClient
from vcc.config import Config
from vcc.service import TRANSIENT, Service
from vcc.store.redis import RedisStore
from vcc_protocol.events import Event, decode_event, redact
from vcc_protocol.vocabulary import ADMIN_ACTOR
from vcc_testkit.consultations import live_commands
from vcc_testkit.process_node import ProcessNode
from vcc_testkit.redis_server import RedisServer

DEPLOY_REDIS_CONF = Path(__file__).resolve().parents[2] / "deploy" / "redis" / "redis.conf"
HOUR_MS = 3_600_000


class Cluster:
    """A private Redis and ``size`` nodes, each with its log file in ``directory``."""

    def __init__(self, directory: Path, size: int) -> None:
        self.directory = directory
        self.redis = RedisServer(directory / "redis", config=DEPLOY_REDIS_CONF)
        self.nodes = [ProcessNode(self.redis.url, log=directory / f"node{i}.log") for i in range(size)]

    @property
    def url(self) -> str:
        return self.redis.url

    def start(self) -> None:
        self.redis.start()
        self._each_node(ProcessNode.start)

    def stop(self) -> None:
        self._each_node(ProcessNode.stop)
        self.redis.stop()

    def _each_node(self, action: Callable[[ProcessNode], None]) -> None:
        # In parallel: a node takes a second or more to start (imports) and to stop.
        if self.nodes:
            with ThreadPoolExecutor(len(self.nodes)) as pool:
                list(pool.map(action, self.nodes))

    def freeze_redis(self) -> None:
        """Stop the redis-server process where it stands (SIGSTOP): it holds its
        connections open and answers nothing, like a hung server."""
        assert self.redis.pid is not None
        os.kill(self.redis.pid, signal.SIGSTOP)

    def thaw_redis(self) -> None:
        assert self.redis.pid is not None
        os.kill(self.redis.pid, signal.SIGCONT)

    async def prepare(self, consultation: str, **options: Any) -> bytes:
        """Create the live test consultation in Redis; return the shared join-token secret."""
        async with RedisStore(self.url) as store:
            service = Service(store)
            answers = await service.execute_all(consultation, live_commands(service.clock(), **options), ADMIN_ACTOR)
            assert answers[-1]["ok"], answers[-1]
            await service.close()
        # The key every node reads (vcc:secret), created here if no node has yet.
        return await Config(store=self.url).secret()

    async def log(self, consultation: str) -> list[tuple[int, Event]]:
        """The consultation's whole log, read from Redis."""
        async with RedisStore(self.url) as store:
            return [(seq, decode_event(data)) for seq, data in await store.read(consultation, 0)]


def token(secret: bytes, consultation: str, participant: str, role: str = "delegate") -> str:
    return sign(secret, Claims(participant, role, consultation, time.time_ns() // 1_000_000 + HOUR_MS))


def metric(node_url: str, name: str, **labels: str) -> float:
    """The sum of a node's Prometheus samples of ``name`` whose labels include ``labels``."""
    with urllib.request.urlopen(f"{node_url}/metrics", timeout=5) as answer:
        text = answer.read().decode()
    total = 0.0
    for sample, label_text, value in re.findall(r"^(\w+)(?:\{(.*)\})? (\S+)$", text, re.MULTILINE):
        found = dict(re.findall(r'(\w+)="([^"]*)"', label_text))
        if sample == name and all(found.get(k) == v for k, v in labels.items()):
            total += float(value)
    return total


def assert_saw_the_log(client: ConsultationClient, log: list[tuple[int, Event]]) -> None:
    """The client's (seq, event) list is the log's, from its first event to the
    end, without a gap or a repeat, redacted for its audience."""
    assert client.events, "the client received events"
    first = client.events[0][0]
    public = client.welcome["audience"] != "staff"
    assert client.events == [(seq, redact(e) if public else e) for seq, e in log if seq >= first]


class Client(ConsultationClient):
    """A ``ConsultationClient`` that also counts its (re)connections and keeps the notices it gets."""

    def __init__(self, url: str, token: str, **options: Any) -> None:
        super().__init__(url, token, **options)
        self.connects = 0
        self.notices: list[dict[str, Any]] = []
        self.sio.on("connect", self._counted)
        self.sio.on("notice", self.notices.append)

    async def _counted(self) -> None:
        self.connects += 1


async def send_with_id(client: ConsultationClient, command_id: str, kind: str, *, timeout: float = 30, **fields: Any) -> dict[str, Any]:
    """Send one command and retry it with the same id, as a careful client
    does, until it gets a final answer: after a lost connection (the answer
    may have been lost with it) and after a transient error (``unavailable``)."""
    message = {"type": kind, "id": command_id, **fields}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if client.sio.connected:
            try:
                answer = await client.sio.call("command", message, timeout=2)
            except (socketio.exceptions.TimeoutError, socketio.exceptions.BadNamespaceError, socketio.exceptions.DisconnectedError):
                answer = None
            if answer is not None and (answer["ok"] or answer["error"]["code"] not in TRANSIENT):
                return answer
        await asyncio.sleep(0.1)
    raise TimeoutError(f"no final answer to {kind} {command_id} within {timeout} s")


def queue_of(state: Any) -> list[str]:
    return [r.delegation for r in state.queues.get(state.current_item, [])]


#: The priority classes of the floor, by rank (points of order aside): domain.md.
RANK = {"council_member": 0, "observer_state": 1, "observer": 1, "sector_member": 2}


def expected_queue(log: list[tuple[int, Event]], state: Any) -> list[str]:
    """The queue the rules require: by class, then by the order the requests entered the log."""
    requested = [e.delegation for _, e in log if type(e).__name__ == "FloorRequested" and e.item == state.current_item]
    return sorted(requested, key=lambda d: RANK[state.delegations[d].cls])


def speakers(state: Any, classes: dict[str, int]) -> list[str]:
    """Designated speakers: ``classes`` maps a delegation class to how many, in roster order."""
    chosen: list[str] = []
    for cls, count in classes.items():
        delegations = [d.id for d in state.delegations.values() if d.cls == cls][:count]
        for delegation in delegations:
            chosen.append(next(p.id for p in state.participants.values() if p.delegation == delegation and p.designated_speaker))
    return chosen


async def server_state(cluster: Cluster, consultation: str) -> Any:
    """The consultation folded from Redis by a fresh service (not one of the nodes)."""
    async with RedisStore(cluster.url) as store:
        service = Service(store)
        runtime = await service.runtime(consultation)
        await service.close()
        return runtime
