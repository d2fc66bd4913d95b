"""Janus as vcc starts it: the generated configuration, its secrets, and the supervision."""

from __future__ import annotations

import asyncio
import os
import signal
import stat
from pathlib import Path

import aiohttp
import pytest
from vcc.media.janus_client import JanusError, JanusSession, SessionLost
from vcc.media.janus_server import JanusProcess, JanusSecrets


def listening(port: int) -> set[str]:
    """The local addresses a TCP port listens on, from /proc/net/tcp{,6}."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hexport = local.split(":")
            if state == "0A" and int(hexport, 16) == port:
                found.add(address)
    return found


async def test_apis_on_loopback_only_with_only_the_needed_plugins_and_transports(janus: JanusProcess) -> None:
    endpoint = janus.endpoint
    assert endpoint is not None and endpoint.admin_url is not None
    for url in (endpoint.url, endpoint.admin_url):
        port = int(url.split(":")[2].split("/")[0])
        assert listening(port) == {"0100007F"}, f"{url} must listen on 127.0.0.1 only"
    async with aiohttp.ClientSession() as http:
        info = await (await http.get(f"{endpoint.url}/info")).json(content_type=None)
    assert set(info["plugins"]) == {"janus.plugin.audiobridge", "janus.plugin.streaming", "janus.plugin.echotest"}
    assert set(info["transports"]) == {"janus.transport.http"}
    assert info["events"] == {} and info["loggers"] == {}
    assert info["api_secret"] is True


async def test_no_demo_rooms_and_nothing_without_the_secrets(janus: JanusProcess) -> None:
    endpoint = janus.endpoint
    assert endpoint is not None
    async with aiohttp.ClientSession() as http:
        refused = await (await http.post(endpoint.url, json={"janus": "create", "transaction": "t"})).json(content_type=None)
        assert refused["janus"] == "error" and refused["error"]["code"] == 403
        session = await JanusSession.create(http, endpoint.url, endpoint.secrets.api_secret)
        try:
            audiobridge = await session.attach("janus.plugin.audiobridge")
            streaming = await session.attach("janus.plugin.streaming")
            assert (await session.request(audiobridge, {"request": "list"}))["list"] == []
            assert (await session.request(streaming, {"request": "list"}))["list"] == []
            with pytest.raises(JanusError):
                await session.request(audiobridge, {"request": "create", "room": "x", "admin_key": "janusoverlord"})
            made = await session.request(audiobridge, {"request": "create", "room": "x", "admin_key": endpoint.secrets.admin_key})
            assert made["audiobridge"] == "created"
            with pytest.raises(JanusError):  # lock_rtp_forward: forwarding needs the admin key too
                await session.request(audiobridge, {"request": "rtp_forward", "room": "x", "host": "127.0.0.1", "port": 9, "codec": "opus"})
        finally:
            await session.close()


def test_secrets_are_made_once_per_installation_and_kept_private(tmp_path: Path) -> None:
    first = JanusSecrets.load_or_create(tmp_path / "a" / "secrets.json")
    assert JanusSecrets.load_or_create(tmp_path / "a" / "secrets.json") == first
    other = JanusSecrets.load_or_create(tmp_path / "b" / "secrets.json")
    assert set(first.__dict__.values()).isdisjoint(other.__dict__.values())
    assert len(set(first.__dict__.values())) == 4 and "janusoverlord" not in first.__dict__.values()
    assert stat.S_IMODE((tmp_path / "a" / "secrets.json").stat().st_mode) == 0o600


async def test_the_configuration_files_are_private(janus: JanusProcess) -> None:
    for path in (janus.folder / "conf").glob("*.jcfg"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


async def test_a_killed_janus_is_started_again_on_the_same_address(janus: JanusProcess) -> None:
    endpoint = janus.endpoint
    assert endpoint is not None and janus.pid is not None
    async with aiohttp.ClientSession() as http:
        session = await JanusSession.create(http, endpoint.url, endpoint.secrets.api_secret)
        old = janus.pid
        os.kill(old, signal.SIGKILL)
        await asyncio.wait_for(session.lost.wait(), 10)
        with pytest.raises(SessionLost):
            await session.attach("janus.plugin.audiobridge")
        again = None
        while again is None:
            try:
                again = await JanusSession.create(http, endpoint.url, endpoint.secrets.api_secret)
            except SessionLost:
                await asyncio.sleep(0.05)
        assert janus.pid != old and janus.restarts == 1
        await again.close()
        await session.close()
