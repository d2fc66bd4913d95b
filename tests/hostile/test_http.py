"""Hostile input on the HTTP side (issue 11, findings 1, 7 and 9), against real nodes.

1. Nothing unauthenticated outlives its request: ids of no consultation answer
   404 and load nothing (no runtime, no Redis subscription); loaded
   consultations are unloaded when idle, bounded by an LRU, never while a
   connection uses them nor while a deadline of theirs is pending.
7. Admin scope: listing and creating consultations need the deployment admin
   token; the HTTP API checks join links against the roster.
9. Contracts: every error is the JSON error, 413 included; the OpenAPI document
   is complete; nginx and the app allow the same body; schemathesis finds nothing.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import hypothesis
import pytest
import redis.asyncio as aioredis
import schemathesis
from aiohttp.test_utils import TestServer
from schemathesis.specs.openapi.checks import positive_data_acceptance
from vcc.api.routes import MAX_REQUEST_BYTES, OPENAPI, SECRET, SERVICE
from vcc.app import GATEWAY, create_app
from vcc.auth.links import admin_token, deployment_admin_token
from vcc.auth.tokens import DEPLOYMENT_ROLE, Claims, sign, verify
from vcc.cli import main
from vcc.client import ConsultationClient
from vcc.config import Config
from vcc.documents import importers
from vcc.gateway.socket_api import Gateway
from vcc.service import Runtime, Service
from vcc_protocol import commands as c
from vcc_protocol.vocabulary import ADMIN_ACTOR
from vcc_testkit.consultations import live_commands, midday_zone
from vcc_testkit.process_node import ProcessNode
from vcc_testkit.redis_server import RedisServer

NGINX_CONF = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "vcc.conf"
SECRETARIAT = "council-secretariat-1"
DELEGATE = "argentina-delegate-1"


def quiet_commands(now_ms: int) -> list[c.Command]:
    """The live test consultation without its open sitting: nothing due, so it may be unloaded."""
    return [command for command in live_commands(now_ms) if not isinstance(command, c.OpenSitting)]


@dataclass
class HostileNode:
    server: TestServer
    service: Service
    secret: bytes
    gateway: Gateway

    @property
    def url(self) -> str:
        return str(self.server.make_url("")).rstrip("/")

    def token(self, participant: str, role: str = "delegate", consultation: str = "test") -> str:
        return sign(self.secret, Claims(participant, role, consultation, self.service.clock() + 3_600_000))

    def bearer(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def unloaded(self) -> Callable[[str], Awaitable[Runtime]]:
        """Start watching unloads; the returned coroutine function waits for one of a consultation."""
        seen: dict[str, asyncio.Future[Runtime]] = {}
        loop = asyncio.get_running_loop()

        def on_unload(runtime: Runtime) -> None:
            future = seen.setdefault(runtime.consultation, loop.create_future())
            if not future.done():
                future.set_result(runtime)

        self.service.on_unload(on_unload)

        async def wait(consultation: str, timeout: float = 10) -> Runtime:
            return await asyncio.wait_for(asyncio.shield(seen.setdefault(consultation, loop.create_future())), timeout)

        return wait


@pytest.fixture
async def hostile_node(tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[HostileNode]]]:
    """Start real nodes (aiohttp on a free port, the real store) holding the consultation ``test``."""
    started: list[TestServer] = []

    async def make(
        *,
        store: str | None = None,
        idle_seconds: float = 300.0,
        max_loaded: int = 100,
        clock: Callable[[], int] | None = None,
        setup: list[c.Command] | None = None,
    ) -> HostileNode:
        now = clock or (lambda: time.time_ns() // 1_000_000)
        config = Config(store=store or str(tmp_path / "store"), idle_seconds=idle_seconds, max_loaded=max_loaded)
        app = await create_app(config, clock=now)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        started.append(server)
        node = HostileNode(server, app[SERVICE], app[SECRET], app[GATEWAY])
        answers = await node.service.execute_all("test", setup if setup is not None else quiet_commands(now()), ADMIN_ACTOR)
        assert answers[-1]["ok"], answers[-1]
        return node

    yield make
    for server in started:
        await server.close()


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096


async def get_many(http: aiohttp.ClientSession, urls: list[str], **kwargs: Any) -> list[tuple[int, Any]]:
    async def one(url: str) -> tuple[int, Any]:
        async with http.get(url, **kwargs) as answer:
            return answer.status, await answer.json(content_type=None)

    results: list[tuple[int, Any]] = []
    for start in range(0, len(urls), 50):
        results += await asyncio.gather(*(one(url) for url in urls[start : start + 50]))
    return results


# --- 1. nothing unauthenticated outlives its request ------------------------------------


async def test_requests_for_unknown_consultations_answer_404_and_load_nothing(hostile_node) -> None:
    node = await hostile_node()
    loaded_before = set(node.service.loaded)
    async with aiohttp.ClientSession() as http:
        await get_many(http, [f"{node.url}/api/consultations/warm-{i}/plan" for i in range(200)])
        before = rss_bytes()
        names = [f"probe-{uuid.uuid4().hex}" for _ in range(3_000)] + ["%7Bbraced%7D", "a" * 2_000]
        answers = await get_many(http, [f"{node.url}/api/consultations/{name}/plan" for name in names])
        grown = rss_bytes() - before
        metrics = await (await http.get(f"{node.url}/metrics")).text()
        # A signed admin token of a consultation that does not exist loads nothing either.
        ghost = node.bearer(admin_token("ghost", node.secret, node.service.clock()))
        upload = await http.post(f"{node.url}/api/consultations/ghost/contributions", data={"item": "3"}, headers=ghost)
        assert upload.status == 404 and "ghost" not in node.service.loaded
    assert {status for status, _ in answers} == {404}
    assert {body["error"]["code"] for _, body in answers[:3_000]} == {"not_created"}
    assert set(node.service.loaded) <= loaded_before, "a runtime was loaded for an id the store does not hold"
    assert "vcc_runtimes_loaded" in metrics and "vcc_runtime_unloads_total" in metrics
    # Before the fix each unknown id kept a runtime (about 9 KB: 40,000 ids took 367 MB).
    assert grown < 8 * 1024 * 1024, f"RSS grew by {grown / 1e6:.1f} MB over 3,000 requests for unknown ids"


async def test_a_join_link_for_an_unknown_consultation_is_refused_without_loading(hostile_node) -> None:
    node = await hostile_node()
    client = ConsultationClient(node.url, node.token(DELEGATE, consultation="nowhere"), reconnection=False)
    with pytest.raises(Exception):  # noqa: B017 - socketio raises its ConnectionError with the refusal
        await client.connect(timeout=5)
    assert client.refused is not None and "does not hold" in client.refused["message"]
    assert "nowhere" not in node.service.loaded


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


async def test_on_redis_unknown_ids_subscribe_nothing_and_idle_ones_unsubscribe(hostile_node, redis_server) -> None:
    node = await hostile_node(store=redis_server.url, idle_seconds=0.5)
    unloaded = node.unloaded()
    redis = aioredis.from_url(redis_server.url)
    try:
        async with aiohttp.ClientSession() as http:
            answers = await get_many(http, [f"{node.url}/api/consultations/probe-{i}/plan" for i in range(500)])
            assert {status for status, _ in answers} == {404}
            channels = {name.decode() for name in await redis.pubsub_channels("vcc:{*")}
            assert not any("probe-" in name for name in channels), channels
            assert len(channels) <= 1, f"one subscription at most (the consultation test), not {len(channels)}"
            await unloaded("test")
            # The store unsubscribes in the background once the runtime has closed.
            await until(
                lambda: redis.pubsub_channels("vcc:{test}:live"),
                lambda found: not found,
                "the unloaded consultation's channel is unsubscribed",
            )
            # Asked again, it comes back.
            assert (await http.get(f"{node.url}/api/consultations/test/plan")).status == 200
            assert "test" in node.service.loaded
    finally:
        await redis.aclose()


async def test_an_idle_consultation_is_unloaded_and_reloaded_when_asked(hostile_node) -> None:
    node = await hostile_node(idle_seconds=0.3)
    unloaded = node.unloaded()
    async with aiohttp.ClientSession() as http:
        metrics = await (await http.get(f"{node.url}/metrics")).text()
        before = _metric(metrics, 'vcc_runtime_unloads_total{reason="idle"}')
        first = await unloaded("test")
        assert "test" not in node.service.loaded
        metrics = await (await http.get(f"{node.url}/metrics")).text()
        assert _metric(metrics, 'vcc_runtime_unloads_total{reason="idle"}') >= before + 1
        snapshot = await http.get(
            f"{node.url}/api/consultations/test/snapshot", headers=node.bearer(admin_token("test", node.secret, node.service.clock()))
        )
        assert snapshot.status == 200 and (await snapshot.json())["seq"] == first.seq
    assert node.service.loaded == ["test"] and (await node.service.runtime("test")) is not first


async def test_requests_that_wait_for_one_load_count_one_loaded_runtime(hostile_node) -> None:
    node = await hostile_node(idle_seconds=0.3)
    unloaded = node.unloaded()
    await unloaded("test")
    async with aiohttp.ClientSession() as http:
        before = _metric(await (await http.get(f"{node.url}/metrics")).text(), "vcc_runtimes_loaded")
        admin = node.bearer(admin_token("test", node.secret, node.service.clock()))
        answers = await get_many(http, [f"{node.url}/api/consultations/test/snapshot"] * 5, headers=admin)
        after = _metric(await (await http.get(f"{node.url}/metrics")).text(), "vcc_runtimes_loaded")
    assert {status for status, _ in answers} == {200}
    assert after == before + 1, f"five requests waiting for one load counted {after - before} loaded runtimes"


async def test_a_connected_consultation_stays_loaded_and_its_publisher_follows_a_reload(hostile_node) -> None:
    node = await hostile_node(idle_seconds=0.3)
    assert (await node.service.execute_all("other", [quiet_commands(node.service.clock())[0]], ADMIN_ACTOR))[-1]["ok"]
    unloaded = node.unloaded()
    chair = ConsultationClient(node.url, node.token("presiding-vice-chair", "chair"))
    await chair.connect()
    try:
        # "other" is used after "test": once it is unloaded, "test" has been idle longer.
        await node.service.runtime("other")
        await unloaded("other")
        assert "test" in node.service.loaded, "a consultation with a connection was unloaded"
    finally:
        await chair.close()
    gone = await unloaded("test")
    assert "test" not in node.gateway._publishers, "the unloaded runtime's publisher was kept"
    delegate = ConsultationClient(node.url, node.token(DELEGATE))
    chair = ConsultationClient(node.url, node.token("presiding-vice-chair", "chair"))
    await delegate.connect()
    await chair.connect()
    try:
        reloaded = await node.service.runtime("test")
        assert reloaded is not gone and node.gateway._publishers["test"].runtime is reloaded
        assert (await chair.send("open_sitting"))["ok"]
        await delegate.wait_for(lambda state: state.sitting is not None, timeout=5)
    finally:
        await delegate.close()
        await chair.close()


async def test_loaded_consultations_are_bounded_by_an_lru(hostile_node) -> None:
    node = await hostile_node(max_loaded=2)
    create = quiet_commands(node.service.clock())[0]
    for name in ("a", "b", "c", "d"):
        assert (await node.service.execute_all(name, [create], ADMIN_ACTOR))[-1]["ok"]
    assert len(node.service.loaded) == 2
    async with aiohttp.ClientSession() as http:
        before = _metric(await (await http.get(f"{node.url}/metrics")).text(), 'vcc_runtime_unloads_total{reason="lru"}')
        for name in ("a", "b", "c", "d", "test", "a"):
            assert (await http.get(f"{node.url}/api/consultations/{name}/plan")).status == 200
            assert len(node.service.loaded) <= 2
        after = _metric(await (await http.get(f"{node.url}/metrics")).text(), 'vcc_runtime_unloads_total{reason="lru"}')
    assert node.service.loaded == ["test", "a"] and after >= before + 6


async def test_an_open_sitting_stays_loaded_and_its_slot_end_is_ticked_on_time(hostile_node) -> None:
    """A deadline must not be lost to unloading: the sitting's slot end, 2.5 s away,
    closes the sitting although nobody is connected and the node unloads idle ones."""
    base = time.time_ns() // 1_000_000
    offset = [0]
    node = await hostile_node(idle_seconds=0.2, clock=lambda: time.time_ns() // 1_000_000 + offset[0], setup=quiet_commands(base))
    _, local = midday_zone(base)
    slot_end = base + int(((local + timedelta(hours=3)).replace(second=0, microsecond=0) - local).total_seconds() * 1000)
    offset[0] = slot_end - 2_500 - time.time_ns() // 1_000_000
    unloaded = node.unloaded()
    assert (await node.service.execute_all("test", [c.OpenSitting(id=c.new_id())], ADMIN_ACTOR))[-1]["ok"]
    assert (await node.service.execute_all("other", [quiet_commands(base)[0]], ADMIN_ACTOR))[-1]["ok"]
    await unloaded("other")
    runtime = await node.service.runtime("test")
    assert runtime.state.sitting is not None, "the sitting closed early"
    gone = await unloaded("test", timeout=15)
    assert gone.state.sitting is None, "unloaded before its slot end was ticked"
    closed_at = node.service.clock()
    assert closed_at - slot_end < 5_000
    assert (await node.service.existing("test")).state.sitting is None


# --- 7. admin scope ---------------------------------------------------------------------


async def test_only_the_deployment_admin_lists_and_creates_consultations(hostile_node) -> None:
    node = await hostile_node()
    agenda = importers.example("c21-vcc1-agenda.json")
    json_body = {"Content-Type": "application/json"}
    scoped = {
        "the consultation's admin token": admin_token("test", node.secret, node.service.clock()),
        "its secretariat's join link": node.token(SECRETARIAT, "secretariat"),
    }
    async with aiohttp.ClientSession() as http:
        for who, token in scoped.items():
            listed = await http.get(f"{node.url}/api/consultations", headers=node.bearer(token))
            assert listed.status == 403, f"{who} listed every consultation"
            assert "vcc admin-token" in (await listed.json())["error"]["message"]
            created = await http.post(f"{node.url}/api/consultations?id=other", data=agenda, headers={**json_body, **node.bearer(token)})
            assert created.status == 403, f"{who} created a consultation"
        assert "other" not in await node.service.consultations()
        operator = node.bearer(deployment_admin_token(node.secret, node.service.clock()))
        created = await http.post(f"{node.url}/api/consultations?id=other", data=agenda, headers={**json_body, **operator})
        assert created.status == 201 and (await created.json())["consultation"] == "other"
        assert (await (await http.get(f"{node.url}/api/consultations", headers=operator)).json()) == {"consultations": ["other", "test"]}
        # A consultation's admin token stays on its consultation; the operator's reaches all.
        other_snapshot = f"{node.url}/api/consultations/other/snapshot"
        assert (await http.get(other_snapshot, headers=node.bearer(scoped["the consultation's admin token"]))).status == 403
        assert (await http.get(other_snapshot, headers=operator)).status == 200
        bad_id = await http.post(f"{node.url}/api/consultations?id=%7Bx%7D", data=agenda, headers={**json_body, **operator})
        assert bad_id.status == 400 and (await bad_id.json())["error"]["code"] == "invalid_value"


async def test_the_http_api_checks_join_links_against_the_roster(hostile_node) -> None:
    node = await hostile_node()
    base = f"{node.url}/api/consultations/test"
    async with aiohttp.ClientSession() as http:
        nobody = await http.get(f"{base}/grouping/mine", headers=node.bearer(node.token("nobody-at-all")))
        assert nobody.status == 403 and (await nobody.json())["error"]["code"] == "unknown_participant"
        upload = await http.post(
            f"{base}/contributions", data={"item": "3", "title": "t"}, headers=node.bearer(node.token("nobody-at-all"))
        )
        assert upload.status == 403 and (await upload.json())["error"]["code"] == "unknown_participant"
        # A delegate's id in a token claiming the secretariat's role.
        posing = await http.get(f"{base}/grouping/tally", headers=node.bearer(node.token(DELEGATE, "secretariat")))
        assert posing.status == 403 and "registered as 'delegate'" in (await posing.json())["error"]["message"]
        posing = await http.get(f"{base}/links", headers=node.bearer(node.token("nobody-at-all", "secretariat")))
        assert posing.status == 403 and (await posing.json())["error"]["code"] == "unknown_participant"
        chair_role = await http.get(f"{base}/grouping/mine", headers=node.bearer(node.token(DELEGATE, "chair")))
        assert chair_role.status == 403 and (await chair_role.json())["error"]["code"] == "not_allowed"
        assert (await http.get(f"{base}/grouping/tally", headers=node.bearer(node.token(SECRETARIAT, "secretariat")))).status == 200
        assert (await http.get(f"{base}/grouping/mine", headers=node.bearer(node.token(DELEGATE)))).status == 200


def test_vcc_admin_token_prints_the_deployment_admin_token(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "store"
    assert main(["admin-token", "--store", str(store), "--days", "2"]) == 0
    token = capsys.readouterr().out.strip()
    now = time.time_ns() // 1_000_000
    claims = verify(bytes.fromhex((store / "secret").read_text()), token, now)
    assert claims.role == DEPLOYMENT_ROLE and claims.consultation == ""
    assert abs(claims.expires - (now + 2 * 24 * 3_600_000)) < 60_000


# --- 9. contracts -----------------------------------------------------------------------


async def test_oversized_and_unknown_requests_get_the_json_error(hostile_node) -> None:
    node = await hostile_node()
    admin = node.bearer(admin_token("test", node.secret, node.service.clock()))
    roster = "delegation,delegation_class,region,sector,voting_rights,participant,role,designated_speaker,language\n"
    async with aiohttp.ClientSession() as http:
        for size in (MAX_REQUEST_BYTES + 1024, 5 * 1024 * 1024):  # beyond the app's limit; beyond the roster's own
            body = roster + "x" * size
            answer = await http.post(f"{node.url}/api/consultations/test/roster", data=body, headers={**admin, "Content-Type": "text/csv"})
            assert answer.status == 413 and answer.content_type == "application/json", await answer.text()
            assert (await answer.json())["error"]["code"] == "payload_too_large"
        form = aiohttp.FormData({"item": "3"})
        form.add_field("file", b"%PDF-" + b"0" * MAX_REQUEST_BYTES, filename="big.pdf", content_type="application/pdf")
        answer = await http.post(f"{node.url}/api/consultations/test/contributions", data=form, headers=node.bearer(node.token(DELEGATE)))
        assert answer.status == 413 and (await answer.json())["error"]["code"] == "payload_too_large"
        for method, path, status in (("GET", "/api/nothing", 404), ("DELETE", "/api/consultations", 405)):
            answer = await http.request(method, f"{node.url}{path}")
            assert answer.status == status and answer.content_type == "application/json"
            assert set((await answer.json())["error"]) == {"code", "message"}
        assert set(answer.headers["Allow"].split(",")) == {"GET", "POST"}


async def test_a_malformed_multipart_form_gets_the_json_error(hostile_node) -> None:
    """schemathesis sent a form part whose name holds a control character: aiohttp refuses the
    part's header while the handler reads the form, which must answer 400, not fail."""
    node = await hostile_node()
    boundary = "b0undary"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="\u00a3\x08"\r\n\r\n{{}}\r\n--{boundary}--\r\n').encode()
    async with aiohttp.ClientSession() as http:
        answer = await http.post(
            f"{node.url}/api/consultations/test/contributions",
            data=body,
            headers={**node.bearer(node.token(DELEGATE)), "Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        error = (await answer.json())["error"]
    assert answer.status == 400 and error["code"] == "invalid_command" and "cannot be read" in error["message"]


def test_the_openapi_document_names_every_body_and_every_error() -> None:
    assert OPENAPI["components"]["schemas"]["Error"]["required"] == ["error"]
    for path, operations in OPENAPI["paths"].items():
        for method, op in operations.items():
            where = f"{method.upper()} {path}"
            responses = op["responses"]
            if op.get("security"):
                assert {"401", "403"} <= set(responses), where
            if "{consultation}" in path:
                assert "404" in responses, where
            # A POST that takes no body (starting a floor drill) names none.
            if method == "post" and path != "/api/practice":
                assert {"400", "413", "422"} <= set(responses), where
                for media in op["requestBody"]["content"].values():
                    schema = media["schema"]
                    assert schema.get("properties") or schema.get("type") == "string", f"{where}: the body has no schema"
            for status, response in responses.items():
                if status.startswith(("4", "5")) and path != "/readyz":
                    assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}, where
    form = OPENAPI["paths"]["/api/consultations/{consultation}/contributions"]["post"]["requestBody"]["content"]["multipart/form-data"][
        "schema"
    ]
    assert form["properties"]["file"]["format"] == "binary" and "item" in form["required"]


def test_nginx_allows_the_same_body_as_the_app() -> None:
    conf = NGINX_CONF.read_text()
    api = re.search(r"location /api/ \{(.*?)\n    \}", conf, re.S)
    assert api is not None, "deploy/nginx/vcc.conf has no location /api/"
    size = re.search(r"client_max_body_size (\d+)([km]?);", api.group(1))
    assert size is not None
    allowed = int(size.group(1)) * {"": 1, "k": 1024, "m": 1024 * 1024}[size.group(2)]
    assert allowed == MAX_REQUEST_BYTES, "deploy/nginx/vcc.conf and vcc.api.routes.MAX_REQUEST_BYTES disagree"
    assert "MAX_REQUEST_BYTES" in conf, "the nginx config names the constant it must equal"


async def until(probe: Callable[[], Awaitable[Any]], done: Callable[[Any], bool], what: str, timeout: float = 10) -> None:
    """Ask ``probe`` until ``done`` says its answer is the one awaited."""
    deadline = time.monotonic() + timeout
    while not done(await probe()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        await asyncio.sleep(0.02)


def _metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return 0.0


# --- schemathesis against a real node ---------------------------------------------------


@pytest.fixture
def fuzzed_node(tmp_path: Path) -> Iterator[tuple[ProcessNode, dict[str, dict[str, str]]]]:
    """``vcc serve`` in its own process with one consultation, and the credentials to try."""
    secret = uuid.uuid4().bytes * 2
    (tmp_path / "secret").write_text(secret.hex())
    node = ProcessNode(str(tmp_path / "store"), log=tmp_path / "node.log", extra=["--secret-file", str(tmp_path / "secret")])
    node.start()
    now = time.time_ns() // 1_000_000
    operator = {"Authorization": f"Bearer {deployment_admin_token(secret, now)}"}

    async def prepare() -> None:
        agenda = importers.example("c21-vcc1-agenda.json")
        roster = importers.example("roster-demo.csv")
        async with aiohttp.ClientSession(headers=operator) as http:
            assert (
                await http.post(f"{node.url}/api/consultations?id=fuzz", data=agenda, headers={"Content-Type": "application/json"})
            ).status == 201
            assert (
                await http.post(f"{node.url}/api/consultations/fuzz/roster", data=roster, headers={"Content-Type": "text/csv"})
            ).status == 200

    asyncio.run(prepare())
    expires = now + 3_600_000
    credentials = {
        "none": {},
        "deployment admin": operator,
        "consultation admin": {"Authorization": f"Bearer {admin_token('fuzz', secret, now)}"},
        "delegate": {"Authorization": f"Bearer {sign(secret, Claims(DELEGATE, 'delegate', 'fuzz', expires))}"},
        "forged": {"Authorization": f"Bearer {sign(b'not the secret', Claims('@admin', 'admin', 'fuzz', expires))}"},
    }
    try:
        yield node, credentials
    finally:
        node.stop()


def fuzz(strategy: Any, url: str, headers: dict[str, str]) -> None:
    """A few cases of one operation with one credential, each call checked by schemathesis's
    default checks but one: a schema cannot say that a consultation already exists or that a
    sector is full, so a valid-looking body the procedure refuses gets its documented 422."""

    @hypothesis.settings(
        max_examples=3,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[hypothesis.Phase.generate],
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    @hypothesis.given(case=strategy)
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(base_url=url, headers=headers, excluded_checks=[positive_data_acceptance])

    run()


def test_schemathesis_finds_no_failure_with_or_without_credentials(fuzzed_node) -> None:
    node, credentials = fuzzed_node
    schema = schemathesis.openapi.from_url(f"{node.url}/api/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    documented = {f"{method.upper()} {path}" for path, methods in OPENAPI["paths"].items() for method in methods}
    # schemathesis leaves out the document it was loaded from.
    assert {operation.label for operation in operations} == documented - {"GET /api/openapi.json"}
    started = time.monotonic()
    for operation in operations:
        # Generated ids, and the real consultation so that credentials reach the handlers.
        strategies = [operation.as_strategy()]
        documented_op = OPENAPI["paths"][operation.path][operation.method.lower()]
        if "requestBody" in documented_op or any(p["in"] != "path" for p in documented_op.get("parameters", [])):
            # Invalid data too: it must get a 4xx, never a 5xx. (A path parameter alone has no
            # invalid value to generate: an empty one names another route.)
            strategies.append(operation.as_strategy(generation_mode=schemathesis.GenerationMode.NEGATIVE))
        if "{consultation}" in operation.path:
            strategies.append(operation.as_strategy(path_parameters={"consultation": "fuzz"}))
        for strategy in strategies:
            for headers in credentials.values():
                fuzz(strategy, node.url, headers)
    assert time.monotonic() - started < 120


async def test_a_slot_end_ticked_while_the_store_is_down_is_retried_and_never_unloaded(hostile_node, tmp_path: Path) -> None:
    """The tick at the slot end fails while Redis is down; the runtime stays loaded,
    retries, and closes the sitting once Redis is back."""
    from vcc.ops.metrics import REGISTRY

    redis_server = RedisServer(tmp_path / "durable-redis", appendonly=True, appendfsync="always")
    redis_server.start()
    try:
        base = time.time_ns() // 1_000_000
        offset = [0]
        node = await hostile_node(
            store=redis_server.url, idle_seconds=0.2, clock=lambda: time.time_ns() // 1_000_000 + offset[0], setup=quiet_commands(base)
        )
        _, local = midday_zone(base)
        slot_end = base + int(((local + timedelta(hours=3)).replace(second=0, microsecond=0) - local).total_seconds() * 1000)
        offset[0] = slot_end - 1_000 - time.time_ns() // 1_000_000
        unloaded = node.unloaded()
        assert (await node.service.execute_all("test", [c.OpenSitting(id=c.new_id())], ADMIN_ACTOR))[-1]["ok"]

        async def failed_ticks() -> float:
            return REGISTRY.get_sample_value("vcc_commands_total", {"type": "tick", "outcome": "unavailable"}) or 0

        before = await failed_ticks()
        redis_server.stop()
        await until(failed_ticks, lambda n: n > before, "the slot end's tick failed", timeout=20)
        assert "test" in node.service.loaded, "unloaded while its tick was failing"
        redis_server.start()
        gone = await unloaded("test", timeout=30)
        assert gone.state.sitting is None, "unloaded before the retried tick closed the sitting"
    finally:
        redis_server.stop()
