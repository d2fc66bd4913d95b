"""Two ``vcc serve --redis`` nodes sharing one Janus: one media adapter per
consultation, chosen by a lease in Redis; a client of either node gets its media
(the other node forwards to the holder); when the holder is killed, the other
node takes the lease, rebuilds the media and tells its browsers to connect again."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiohttp
import redis.asyncio
from vcc.media.cluster import LEASE_MS, RENEW_S, lease_key
from vcc.media.janus_server import JanusProcess
from vcc_testkit.consultations import COUNCIL
from vcc_testkit.process_node import ProcessNode
from vcc_testkit.waiting import until

from tests.cluster.cluster import Client, Cluster, token

CONSULTATION = "media-cluster"


async def janus_sessions(janus: JanusProcess) -> list[int]:
    """The sessions Janus holds (Admin API ``list_sessions``): one per media adapter."""
    assert janus.endpoint is not None and janus.endpoint.admin_url is not None
    body = {"janus": "list_sessions", "transaction": "sessions", "admin_secret": janus.endpoint.secrets.admin_secret}
    async with aiohttp.ClientSession() as http, http.post(janus.endpoint.admin_url, json=body) as reply:
        return list((await reply.json(content_type=None))["sessions"])


async def listen(client: Client, timeout: float = 10.0) -> dict[str, Any]:
    """A listening offer, asked again while the media adapter is still building (a page
    waits for ``media_reset`` instead)."""
    deadline = time.monotonic() + timeout
    while True:
        answer = dict(await client.sio.call("media", {"op": "listen", "channel": "en"}, timeout=10))
        if answer["ok"] or answer["error"]["code"] != "media_unavailable" or time.monotonic() > deadline:
            return answer
        await asyncio.sleep(0.1)


async def test_one_media_adapter_per_consultation_and_failover_to_the_other_node(tmp_path: Path) -> None:
    # The nodes run in tmp_path: with Redis, their Janus secrets are var/janus/secrets.json there, the shared Janus's.
    janus = JanusProcess(tmp_path / "var" / "janus")
    await janus.start()
    assert janus.endpoint is not None
    cluster = Cluster(tmp_path, 0)
    cluster.redis.start()
    nodes = [ProcessNode(cluster.url, log=tmp_path / f"node{i}.log", media=["--janus", janus.endpoint.url], cwd=tmp_path) for i in range(2)]
    clients: list[Client] = []
    store = redis.asyncio.Redis.from_url(cluster.url, decode_responses=True)
    try:
        secret = await cluster.prepare(CONSULTATION)
        for node in nodes:
            node.start()
        resets = [0, 0]
        for i, (node, who) in enumerate(zip(nodes, (COUNCIL[1], COUNCIL[2]), strict=True)):
            client = Client(node.url, token(secret, CONSULTATION, who))
            client.sio.on("media_reset", lambda _data, i=i: resets.__setitem__(i, resets[i] + 1))
            await client.connect()
            clients.append(client)
        # Both nodes serve the consultation; one holds its lease and runs its media adapter.
        holder_id = ""
        deadline = time.monotonic() + 15
        while not (holder_id := await store.get(lease_key(CONSULTATION)) or ""):
            assert time.monotonic() < deadline, "no node took the media lease"
            await asyncio.sleep(0.05)
        pids = [node.process.pid for node in nodes if node.process is not None]
        holder = next(i for i, pid in enumerate(pids) if f"-{pid}-" in holder_id)
        other = 1 - holder
        # A client of either node gets its channel: the other node forwards to the holder.
        for client in clients:
            offered = await listen(client)
            assert offered["ok"] and offered["sdp"].startswith("v=0"), offered
        assert len(await janus_sessions(janus)) == 1, "one media adapter, one Janus session"

        before = resets[other]
        killed_at = time.monotonic()
        nodes[holder].kill()
        # The lease lapses (10 s) and the other node takes it at its next renewal (3 s at most).
        await until(
            lambda: resets[other] > before, LEASE_MS / 1000 + RENEW_S + 10, "the surviving node's client told to connect its media again"
        )
        took_over = time.monotonic() - killed_at
        print(f"holder killed -> the other node holds the lease, rebuilt, browsers told: {took_over:.1f} s")
        new_holder = await store.get(lease_key(CONSULTATION)) or ""
        assert f"-{pids[other]}-" in new_holder, new_holder
        offered = await listen(clients[other])
        assert offered["ok"] and offered["sdp"].startswith("v=0"), offered
        assert took_over < LEASE_MS / 1000 + RENEW_S + 5
    finally:
        for client in clients:
            await client.close()
        await store.aclose()
        for node in nodes:
            node.stop()
        cluster.redis.stop()
        await janus.stop()
