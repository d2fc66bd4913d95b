"""The socket gateway under hostile input (issue 11, findings 3, 4, 5, 6, 8 and the
command id of 9): what one client sends costs the server, its log and the other
clients no more than a fixed bound. Every attack runs against a real node over
real sockets."""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import msgpack
import msgspec
import pytest
import socketio
from aiohttp.test_utils import TestServer
from vcc.api.routes import SECRET, SERVICE
from vcc.app import GATEWAY, create_app
from vcc.config import Config
from vcc.gateway import refusals
from vcc.gateway.limits import MAX_COMMAND_BYTES, MAX_MESSAGE_BYTES, RATE_BURST, SYNC_BURST
from vcc.gateway.refusals import RefusalLog
from vcc.ops import metrics
from vcc_protocol.messages import MAX_BROWSER_CHARS, PRESENCE_MAX_CONNECTIONS, Connection
from vcc_protocol.vocabulary import ADMIN_ACTOR
from vcc_testkit.consultations import CHAIR, COUNCIL, SECRETARIAT, TECHNICAL, live_commands
from vcc_testkit.node import Node
from vcc_testkit.waiting import until

#: The largest ``presence`` message allowed: PRESENCE_MAX_CONNECTIONS connections of the
#: largest entry the protocol lets through, with room for the envelope.
PRESENCE_BOUND = 64 * 1024
#: Log bytes allowed for any number of refused frames from one connection within a test.
LOG_BOUND = 8 * 1024


@pytest.fixture
async def gateway_node(tmp_path: Path) -> AsyncIterator[Node]:
    """A real node on a free port holding the live test consultation."""
    app = await create_app(Config(store=str(tmp_path / "store")))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    node = Node(server, app[SERVICE], app[SECRET], app[GATEWAY])
    answers = await node.service.execute_all("test", live_commands(node.service.clock()), ADMIN_ACTOR)
    assert answers[-1]["ok"], answers[-1]
    yield node
    await server.close()


@pytest.fixture
async def raw_clients(gateway_node: Node) -> AsyncIterator[Callable[..., Awaitable[socketio.AsyncClient]]]:
    """socket.io clients that send whatever the test says, closed at the end."""
    made: list[socketio.AsyncClient] = []

    async def connect(participant: str) -> socketio.AsyncClient:
        sio = socketio.AsyncClient(serializer="msgpack", reconnection=False)
        await sio.connect(gateway_node.url, auth={"token": gateway_node.token(participant)}, transports=["websocket"], wait_timeout=5)
        made.append(sio)
        return sio

    yield connect
    for sio in made:
        await sio.disconnect()


def connections_gauge() -> float:
    return metrics.REGISTRY.get_sample_value("vcc_connections") or 0.0


def refused_count(code: str) -> float:
    return metrics.REGISTRY.get_sample_value("vcc_refused_total", {"code": code}) or 0.0


class LogBytes(logging.Handler):
    """Every record that reaches the root logger at INFO or above, formatted as a log
    file would hold it, but the access log."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        self.size = 0
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == "aiohttp.access":
            return  # one line per HTTP request by design, whatever it carries
        self.size += len(self.format(record).encode()) + 1
        self.records.append(record)


@pytest.fixture
def log_bytes() -> Iterator[LogBytes]:
    handler = LogBytes()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield handler
    root.removeHandler(handler)
    root.setLevel(level)


# --- 3. presence amplification -------------------------------------------------------------


async def test_a_hundred_hostile_connections_with_huge_reports_leave_presence_bounded(gateway_node: Node, raw_clients) -> None:
    dashboard = await raw_clients(TECHNICAL)
    sizes: list[int] = []
    table: dict[int, dict[str, Any]] = {}

    def on_presence(message: dict[str, Any]) -> None:
        sizes.append(len(msgpack.packb(["presence", message])))
        if message["reset"]:
            table.clear()
        table.update((entry["conn"], entry) for entry in message["set"])
        for number in message["left"]:
            table.pop(number, None)

    dashboard.on("presence", on_presence)
    huge = "x" * 250_000
    hostile = [await raw_clients(COUNCIL[0]) for _ in range(100)]
    answers = await asyncio.gather(*(sio.call("report", {"browser": huge}, timeout=20) for sio in hostile))
    assert {a["error"]["code"] for a in answers} == {"invalid_command"}
    # The largest report the protocol lets through, from every one of them.
    widest = {
        "rtt_ms": 599_999.5,
        "jitter_ms": 599_999.5,
        "clock_offset_ms": -86_399_999.5,
        "browser": "B" * MAX_BROWSER_CHARS,
        "microphone": "unknown",
        "camera": "missing",
        "input_level": 0.123456789,
    }
    answers = await asyncio.gather(*(sio.call("report", widest, timeout=20) for sio in hostile))
    assert all(a["ok"] for a in answers), answers
    await until(
        lambda: sum(e["participant"] == COUNCIL[0] and e.get("browser") == widest["browser"] for e in table.values()) == 100, timeout=30
    )
    assert dashboard.connected, "the technical team's dashboard was dropped as a slow consumer"
    assert len(table) == 101 and max(sizes) <= PRESENCE_BOUND, (len(table), max(sizes))
    # The bound is what the protocol allows, not what this test happened to send.
    widest_entry = Connection(
        conn=2**31, participant="p" * 80, role="interpreter", transport="websocket", connected_at=time.time(), **widest
    )
    assert PRESENCE_MAX_CONNECTIONS * len(msgspec.msgpack.encode(widest_entry)) + 100 <= PRESENCE_BOUND
    # Leaving is a delta too: 100 connections gone make small messages, not a new full list.
    sizes.clear()
    await asyncio.gather(*(sio.disconnect() for sio in hostile))
    await until(lambda: len(table) == 1)
    assert max(sizes) < 2_000, sizes


async def test_reports_are_rate_limited_per_connection(gateway_node: Node, raw_clients) -> None:
    sio = await raw_clients(COUNCIL[1])
    answers = [await sio.call("report", {"rtt_ms": i}, timeout=5) for i in range(30)]
    refused = [a for a in answers if not a["ok"]]
    assert refused and {a["error"]["code"] for a in refused} == {"rate_limited"}
    assert sum(a["ok"] for a in answers) < 10


# --- 4. log amplification -----------------------------------------------------------------


async def raw_engineio(node: Node, compress: int = 0) -> aiohttp.ClientWebSocketResponse:
    """A bare engine.io websocket, opened and not yet joined to the socket.io namespace;
    ``compress=15`` offers permessage-deflate, and then compresses what it sends, as browsers do."""
    session = aiohttp.ClientSession()
    ws = await session.ws_connect(f"{node.url}/socket.io/?EIO=4&transport=websocket", compress=compress)
    ws.__dict__["_vcc_session"] = session
    opening = await ws.receive_str()
    assert opening.startswith("0{"), opening
    return ws


async def close_raw(ws: aiohttp.ClientWebSocketResponse) -> None:
    await ws.close()
    await ws.__dict__["_vcc_session"].close()


def msgpack_packet(kind: int, data: Any = None, ack: int | None = None) -> bytes:
    packet: dict[str, Any] = {"type": kind, "nsp": "/", "data": data}
    if ack is not None:
        packet["id"] = ack
    return msgpack.packb(packet)


async def join(ws: aiohttp.ClientWebSocketResponse, token: str) -> dict[str, Any]:
    """Send a socket.io CONNECT and return the server's answer to it (skipping the messages sent before)."""
    await ws.send_bytes(msgpack_packet(0, {"token": token}))
    while True:
        message = await asyncio.wait_for(ws.receive(), 60)
        if message.type == aiohttp.WSMsgType.BINARY:
            decoded = msgpack.unpackb(message.data)
            if decoded["type"] in (0, 4):
                return decoded


MALFORMED: list[bytes | str] = [
    b"\xc1",  # a byte msgpack never uses
    msgpack.packb([1, 2, 3]),  # msgpack, but not a packet
    msgpack.packb({"type": 2}),  # a packet without a namespace
    msgpack.packb({"type": 5, "nsp": "/", "data": ["command", {}]}),  # a binary event, which the msgpack parser never sends
    msgpack.packb({"type": 2, "nsp": "/", "data": "not a list"}),
    "4not msgpack",  # an engine.io text message
    "x",  # not an engine.io packet at all
    "",
    "b!!!",  # not base64
]


async def test_ten_thousand_malformed_frames_write_a_bounded_log_without_tracebacks(gateway_node: Node, log_bytes: LogBytes) -> None:
    before = sum(refused_count(code) for code in ("malformed_frame", "invalid_event"))
    ws = await raw_engineio(gateway_node)
    try:
        for i in range(10_000):
            frame = MALFORMED[i % len(MALFORMED)]
            await (ws.send_bytes(frame) if isinstance(frame, bytes) else ws.send_str(frame))
        # Frames are handled in order: once the join is answered, all the garbage was seen.
        answer = await join(ws, gateway_node.token(COUNCIL[0]))
        assert answer["type"] == 0, answer
    finally:
        await close_raw(ws)
    assert sum(refused_count(code) for code in ("malformed_frame", "invalid_event")) - before >= 10_000 * 8 / 9
    assert not [r for r in log_bytes.records if r.exc_info], "a refused frame logged a traceback"
    assert log_bytes.size <= LOG_BOUND, f"{log_bytes.size} bytes of log for 10,000 malformed frames"
    lines = [r.getMessage() for r in log_bytes.records if r.name == refusals.log.name]
    assert lines and all(line.startswith("refused ") for line in lines), lines


async def test_malformed_long_polling_payloads_write_a_bounded_log_without_tracebacks(gateway_node: Node, log_bytes: LogBytes) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{gateway_node.url}/socket.io/?EIO=4&transport=polling") as opened:
            sid = msgspec.json.decode((await opened.text())[1:])["sid"]
        for i in range(300):
            async with http.post(
                f"{gateway_node.url}/socket.io/?EIO=4&transport=polling&sid={sid}", data=("b!!!", "x", "4\x1ex")[i % 3]
            ) as posted:
                assert posted.status < 500
    assert not [r for r in log_bytes.records if r.exc_info], "a refused payload logged a traceback"
    assert log_bytes.size <= LOG_BOUND, f"{log_bytes.size} bytes of log for 300 malformed payloads"


async def test_a_request_for_a_session_that_just_closed_is_refused_without_a_traceback(gateway_node: Node, log_bytes: LogBytes) -> None:
    """engineio finds the session, then fetches it and raises when it has closed in between."""
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{gateway_node.url}/socket.io/?EIO=4&transport=polling") as opened:
            sid = msgspec.json.decode((await opened.text())[1:])["sid"]
        session = f"{gateway_node.url}/socket.io/?EIO=4&transport=polling&sid={sid}"
        async with http.post(session, data="1") as closed:  # engine.io CLOSE: the session is closed, not yet forgotten
            assert closed.status == 200
        async with http.post(session, data="40") as late:
            assert late.status == 400, late.status
    assert not [r for r in log_bytes.records if r.exc_info]
    assert refused_count("bad_request") >= 1


def test_the_refusal_log_says_how_much_it_left_out() -> None:
    now = [1000.0]
    refused = RefusalLog(clock=lambda: now[0])
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    refusals.log.addHandler(handler)
    try:
        for _ in range(1_000):
            refused.refuse("malformed_frame", "x" * 10_000, connection="c1", address="10.0.0.1")
        now[0] += 1 / refusals.PER_CONNECTION[0]  # one more token for the connection
        refused.refuse("malformed_frame", "y", connection="c1", address="10.0.0.1")
    finally:
        refusals.log.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    burst = int(refusals.PER_CONNECTION[1])
    assert len(lines) == burst + 1
    assert all(len(line) < 400 for line in lines)
    assert f"{1_000 - burst} refusals not logged since the last line; {1_000 - burst} from this address since its last line" in lines[-1]


def test_a_refusal_line_quotes_no_line_breaks_of_the_sender() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    refusals.log.addHandler(handler)
    try:
        RefusalLog().refuse("invalid_command", "unknown field `a\nWARNING forged line\x1b[2J`", connection="c", address="10.0.0.2")
    finally:
        refusals.log.removeHandler(handler)
    assert stream.getvalue().count("\n") == 1 and "\x1b" not in stream.getvalue()


# --- 5. reserved events and a fixed identity ---------------------------------------------------


async def test_client_sent_connect_and_disconnect_events_do_not_run_the_servers_handlers(gateway_node: Node, raw_clients) -> None:
    before = connections_gauge()
    sio = await raw_clients(COUNCIL[0])
    assert connections_gauge() == before + 1
    for _ in range(50):
        answer = await sio.call("connect", ({}, {"token": gateway_node.token(COUNCIL[1])}), timeout=5)
        assert answer["error"]["code"] == "reserved_event"
    answer = await sio.call("disconnect", "client namespace disconnect", timeout=5)
    assert answer["error"]["code"] == "reserved_event"
    assert connections_gauge() == before + 1
    # The connection is still the one it was: its commands are still answered as its own.
    assert (await sio.call("command", {"type": "request_help", "id": "after-reserved", "message": "still me"}, timeout=5))["ok"]
    await sio.disconnect()
    await until(lambda: connections_gauge() == before)
    assert not gateway_node.gateway.sessions


async def test_a_second_token_mid_stream_does_not_change_who_the_connection_is(gateway_node: Node, raw_clients) -> None:
    sio = await raw_clients(COUNCIL[0])
    chair = gateway_node.token(CHAIR)
    answer = await sio.call("connect", ({}, {"token": chair}), timeout=5)
    assert answer["error"]["code"] == "reserved_event"
    answer = await sio.call("command", {"type": "take_up_item", "id": "as-chair", "item": "3"}, timeout=5)
    assert answer["error"]["code"] == "not_allowed", answer
    # A second socket.io CONNECT on the same engine.io session is refused too.
    ws = await raw_engineio(gateway_node)
    try:
        assert (await join(ws, gateway_node.token(COUNCIL[0])))["type"] == 0
        assert (await join(ws, chair))["type"] == 4
    finally:
        await close_raw(ws)
    assert {s.actor for s in gateway_node.gateway.sessions.values()} == {COUNCIL[0]}


# --- 6. every message it can parse gets an answer -----------------------------------------------


@pytest.mark.parametrize(
    ("event", "data", "code"),
    [
        ("command", {"type": ["request_floor"], "id": "1"}, "unknown_command"),
        ("command", {"type": {"request_floor": 1}, "id": "1"}, "unknown_command"),
        ("command", {"type": None, "id": "1"}, "unknown_command"),
        ("command", None, "invalid_command"),
        ("launch_missiles", {"now": True}, "unknown_event"),
        ("command", ({"type": "request_floor", "id": "1"}, "a second argument"), "invalid_event"),
        ("disconnecting", None, "reserved_event"),
    ],
)
async def test_a_message_it_can_parse_gets_an_error_ack(gateway_node: Node, raw_clients, event: str, data: Any, code: str) -> None:
    sio = await raw_clients(CHAIR)
    runtime = await gateway_node.runtime()
    before = runtime.seq
    answer = await sio.call(event, data, timeout=5)
    assert answer["ok"] is False and answer["error"]["code"] == code, answer
    assert answer["error"]["message"]
    assert runtime.seq == before


async def test_an_event_with_no_name_gets_an_error_ack(gateway_node: Node) -> None:
    ws = await raw_engineio(gateway_node)
    try:
        assert (await join(ws, gateway_node.token(COUNCIL[0])))["type"] == 0
        for data in ([], [42, {}], [["command"], {}]):
            await ws.send_bytes(msgpack_packet(2, data, ack=7))
            while True:
                message = msgpack.unpackb((await asyncio.wait_for(ws.receive(), 5)).data)
                if message["type"] == 3:
                    break
            assert message["id"] == 7 and message["data"][0]["error"]["code"] == "invalid_event"
    finally:
        await close_raw(ws)


# --- 8. sync under the rate limit ----------------------------------------------------------------


async def test_a_sync_flood_is_rate_limited(gateway_node: Node, raw_clients) -> None:
    sio = await raw_clients(COUNCIL[2])
    snapshots = 0

    def on_snapshot(_: dict[str, Any]) -> None:
        nonlocal snapshots
        snapshots += 1

    sio.on("snapshot", on_snapshot)
    started = time.monotonic()
    answers = await asyncio.gather(*(sio.call("sync", {}, timeout=10) for _ in range(300)))
    elapsed = time.monotonic() - started
    limited = [a for a in answers if a is not None and a["error"]["code"] == "rate_limited"]
    # The burst, and one a second for as long as the flood lasted.
    assert len(answers) - len(limited) <= SYNC_BURST + elapsed + 1
    assert len(limited) >= 300 - SYNC_BURST - elapsed - 1
    assert snapshots <= SYNC_BURST + elapsed + 1
    # Another client is still served at once.
    other = await raw_clients(COUNCIL[1])
    assert (await other.call("ping", {"t": 1}, timeout=2))["t"] == 1


# --- 9. commands require an id ------------------------------------------------------------------


@pytest.mark.parametrize("command_id", [None, "", "x" * 81, 42])
async def test_a_command_without_a_valid_id_is_refused(gateway_node: Node, raw_clients, command_id: Any) -> None:
    sio = await raw_clients(COUNCIL[0])
    runtime = await gateway_node.runtime()
    before = runtime.seq
    command: dict[str, Any] = {"type": "request_floor"}
    if command_id is not None:
        command["id"] = command_id
    answer = await sio.call("command", command, timeout=5)
    assert answer["ok"] is False and answer["error"]["code"] == "invalid_command", answer
    assert "id" in answer["error"]["message"]
    assert runtime.seq == before


# --- bounds on what a participant sends that others receive --------------------------------------

LONG = 20_000
SHORT = 200


@pytest.mark.parametrize(
    ("who", "command"),
    [
        (SECRETARIAT, {"type": "add_participant", "participant": "p", "name": "n" * (SHORT + 1), "role": "technical"}),
        (SECRETARIAT, {"type": "add_delegation", "delegation": "d", "name": "n" * (SHORT + 1), "cls": "observer"}),
        (SECRETARIAT, {"type": "add_item", "number": 900, "code": "X", "title": "t" * (LONG + 1)}),
        (SECRETARIAT, {"type": "add_item", "number": 900, "code": "X", "title": "t", "documents": ["C21/1"] * 21}),
        (CHAIR, {"type": "move_floor_request", "delegation": "argentina", "position": 1, "reason": "r" * (SHORT + 1)}),
        (CHAIR, {"type": "propose_conclusion", "item": "3", "text": "c" * (LONG + 1)}),
        (CHAIR, {"type": "propose_package", "items": [3] * 201}),
        (SECRETARIAT, {"type": "close_grouping", "final": {str(n): 1 for n in range(1, 1002)}}),
        (COUNCIL[0], {"type": "request_help", "message": "h" * (SHORT + 1)}),
        (COUNCIL[0], {"type": "propose_item", "title": "t" * (LONG + 1)}),
        (COUNCIL[0], {"type": "submit_contribution", "contribution": "c", "item": "3", "title": "t", "comments": "c" * (LONG + 1)}),
        (COUNCIL[0], {"type": "submit_contribution", "contribution": "c", "item": "3", "title": "t", "co_submitters": ["brazil"] * 51}),
        (
            COUNCIL[0],
            {
                "type": "record_connection_test",
                "transport": "websocket",
                "websocket_ok": True,
                "rtt_ms": 1,
                "jitter_ms": 1,
                "clock_offset_ms": 0,
                "microphone": "ok",
                "camera": "ok",
                "input_level": 0.1,
                "browser": "b" * (SHORT + 1),
            },
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else f"{v['type']}-{max((k for k in v if k != 'type'), key=lambda k: len(str(v[k])))}",
)
async def test_a_command_over_a_bound_is_refused(gateway_node: Node, raw_clients, who: str, command: dict[str, Any]) -> None:
    sio = await raw_clients(who)
    runtime = await gateway_node.runtime()
    before = runtime.seq
    answer = await sio.call("command", {"id": "over-the-bound", **command}, timeout=5)
    assert answer["ok"] is False and answer["error"]["code"] == "invalid_command", answer
    assert runtime.seq == before


@pytest.mark.parametrize(
    "report",
    [
        {"browser": "b" * (MAX_BROWSER_CHARS + 1)},
        {"microphone": "a microphone that says anything"},
        {"camera": 3},
        {"rtt_ms": -1},
        {"input_level": 1.5},
        {"clock_offset_ms": 10**12},
        {"nickname": "a field nobody asked for"},
        "not a map",
    ],
)
async def test_a_report_over_a_bound_is_refused_and_reaches_nobody(gateway_node: Node, raw_clients, report: Any) -> None:
    sio = await raw_clients(COUNCIL[0])
    answer = await sio.call("report", report, timeout=5)
    assert answer["ok"] is False and answer["error"]["code"] == "invalid_command", answer
    session = next(s for s in gateway_node.gateway.sessions.values() if s.actor == COUNCIL[0])
    assert session.report == type(session.report)()


@pytest.mark.parametrize(
    ("notice", "code"),
    [
        ({"participant": COUNCIL[0], "text": "t" * 1001}, "invalid_command"),
        ({"participant": COUNCIL[0], "text": "   "}, "invalid_command"),
        ({"participant": "p" * 81, "text": "hello"}, "invalid_command"),
        ({"participant": COUNCIL[0], "text": "hello", "from": "the chair"}, "invalid_command"),
        ({"participant": "nobody", "text": "hello"}, "unknown_participant"),
    ],
)
async def test_a_notice_over_a_bound_is_refused(gateway_node: Node, raw_clients, notice: dict[str, Any], code: str) -> None:
    technical = await raw_clients(TECHNICAL)
    answer = await technical.call("notify_participant", notice, timeout=5)
    assert answer["ok"] is False and answer["error"]["code"] == code, answer


@pytest.mark.parametrize("transport", ["websocket", "polling"])
async def test_commands_keep_their_bounds_on_either_path(gateway_node: Node, transport: str) -> None:
    """Over a websocket the command path answers a command as it is read; over
    long-polling socket.io dispatches it. Both apply the same checks."""
    sio = socketio.AsyncClient(serializer="msgpack", reconnection=False)
    await sio.connect(gateway_node.url, auth={"token": gateway_node.token(CHAIR)}, transports=[transport], wait_timeout=5)
    path = gateway_node.gateway.command_path
    before = path.answered
    try:
        huge = await sio.call("command", {"type": "request_floor", "id": "big", "pad": "x" * MAX_COMMAND_BYTES}, timeout=10)
        assert huge["error"]["code"] == "payload_too_large", huge
        sent = int(RATE_BURST) + 20
        codes = [(await sio.call("command", {"type": "no_such_command", "id": str(n)}, timeout=10))["error"]["code"] for n in range(sent)]
        assert set(codes) == {"unknown_command", "rate_limited"} and codes[0] == "unknown_command", codes
        assert path.answered - before == (sent + 1 if transport == "websocket" else 0)
    finally:
        await sio.disconnect()


# --- compressed input (permessage-deflate) ------------------------------------------------------


async def ack_of(ws: aiohttp.ClientWebSocketResponse, ack: int) -> Any:
    """The answer to the packet sent with ack id ``ack`` (skipping what the server sends meanwhile)."""
    while True:
        message = await asyncio.wait_for(ws.receive(), 5)
        assert message.type == aiohttp.WSMsgType.BINARY, message
        packet = msgpack.unpackb(message.data)
        if packet["type"] == 3 and packet["id"] == ack:
            return packet["data"][0]


async def test_a_compressed_message_is_read_and_one_that_inflates_past_the_bound_closes_its_connection(gateway_node: Node) -> None:
    """Browsers compress what they send once deflate is negotiated: such a command is
    answered like any other. One that would inflate past ``MAX_MESSAGE_BYTES`` (16 MiB of
    it fits in some 16 KB on the wire) is never inflated past the bound: its connection
    is closed as too big, and the other connections carry on."""
    ws = await raw_engineio(gateway_node, compress=15)
    bystander = await raw_engineio(gateway_node)
    try:
        assert ws.compress == 15, "the server took up the offer"
        assert (await join(ws, gateway_node.token(COUNCIL[0])))["type"] == 0
        assert (await join(bystander, gateway_node.token(COUNCIL[1])))["type"] == 0
        await ws.send_bytes(msgpack_packet(2, ["command", {"type": "no_such_command", "id": "z1"}], ack=1))
        assert (await ack_of(ws, 1))["error"]["code"] == "unknown_command"

        pad = "x" * (64 * MAX_MESSAGE_BYTES)
        await ws.send_bytes(msgpack_packet(2, ["command", {"type": "request_floor", "id": "z2", "pad": pad}], ack=2))
        while (message := await asyncio.wait_for(ws.receive(), 5)).type == aiohttp.WSMsgType.BINARY:
            assert msgpack.unpackb(message.data).get("id") != 2, "the bomb was answered"
        assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED), message
        assert ws.close_code == aiohttp.WSCloseCode.MESSAGE_TOO_BIG

        await bystander.send_bytes(msgpack_packet(2, ["command", {"type": "no_such_command", "id": "b1"}], ack=5))
        assert (await ack_of(bystander, 5))["error"]["code"] == "unknown_command"
    finally:
        await close_raw(ws)
        await close_raw(bystander)
