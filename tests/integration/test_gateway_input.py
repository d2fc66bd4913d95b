"""Bad input never changes anything, never crashes the server, never delays anyone else;
every command x every role is allowed or refused exactly as docs/protocol.md says."""

from __future__ import annotations

import asyncio
import time

import pytest
import socketio
from vcc.auth.tokens import SCREEN_ROLE, Claims, sign
from vcc.core.actors import PERMISSIONS
from vcc_protocol.commands import COMMAND_TYPES
from vcc_protocol.vocabulary import SCREEN_ACTOR
from vcc_testkit.consultations import (
    CAPTIONER,
    CHAIR,
    COUNCIL,
    INTERPRETER,
    SECRETARIAT,
    TECHNICAL,
)


async def raw_client(node, token: str | None):  # noqa: ANN001, ANN201
    sio = socketio.AsyncClient(serializer="msgpack", reconnection=False)
    await sio.connect(node.url, auth={"token": token} if token is not None else None, transports=["websocket"], wait_timeout=5)
    return sio


@pytest.mark.parametrize(
    ("make_token", "reason"),
    [
        (lambda node: None, "No join token"),
        (lambda node: node.token(COUNCIL[0])[:-6] + "AAAAAA", "not issued by this server"),
        (lambda node: sign(b"another secret" * 3, Claims(COUNCIL[0], "delegate", "test", 2**62)), "not issued by this server"),
        (lambda node: node.token(COUNCIL[0], expires_in_ms=-1000), "expired"),
        (lambda node: "garbage", "damaged"),
        (lambda node: sign(node.secret, Claims("nobody", "delegate", "test", 2**62)), "not registered"),
    ],
)
async def test_a_missing_forged_or_expired_token_is_refused_with_a_reason(node, make_token, reason) -> None:
    sio = socketio.AsyncClient(serializer="msgpack", reconnection=False)
    said: dict = {}
    sio.on("connect_error", lambda data: said.update(data))
    token = make_token(node)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await sio.connect(node.url, auth={"token": token} if token is not None else None, transports=["websocket"], wait_timeout=5)
    assert said["data"]["code"] == "unauthorized" and reason in said["message"]


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ("not a map", "invalid_command"),
        ({"type": "launch_missiles", "id": "1"}, "unknown_command"),
        ({"id": "1"}, "unknown_command"),
        ({"type": "take_up_item", "id": "1", "item": "three!"}, "invalid_command"),
        ({"type": "take_up_item", "id": "1", "item": -5}, "invalid_command"),
        ({"type": "request_floor", "id": "1", "point_of_order": True, "extra": 1}, "invalid_command"),
        ({"type": "propose_conclusion", "id": "1", "item": "3", "text": "x" * 100_000}, "payload_too_large"),
        ({"type": "move_floor_request", "id": "1", "delegation": "argentina", "position": 1, "reason": "r" * 201}, "invalid_command"),
    ],
)
async def test_malformed_commands_get_their_error_code_and_change_nothing(node, payload, code) -> None:
    sio = await raw_client(node, node.token(CHAIR))
    runtime = await node.runtime()
    before = runtime.seq
    try:
        answer = await sio.call("command", payload, timeout=5)
    finally:
        await sio.disconnect()
    assert answer["ok"] is False and answer["error"]["code"] == code, answer
    assert runtime.seq == before


async def test_a_flood_is_rate_limited_and_others_are_still_served_promptly(node) -> None:
    flooder = await raw_client(node, node.token(COUNCIL[0]))
    other = await raw_client(node, node.token(COUNCIL[1]))
    try:
        answers = await asyncio.gather(
            *(flooder.call("command", {"type": "withdraw_floor_request", "id": f"f{i}"}, timeout=10) for i in range(200))
        )
        codes = {a["error"]["code"] for a in answers}
        assert "rate_limited" in codes
        started = time.perf_counter()
        answer = await other.call("ping", {"t": 1}, timeout=5)
        assert answer["t"] == 1 and time.perf_counter() - started < 1.0
    finally:
        await flooder.disconnect()
        await other.disconnect()


async def test_an_oversized_message_closes_only_that_connection(node) -> None:
    big = await raw_client(node, node.token(COUNCIL[0]))
    other = await raw_client(node, node.token(COUNCIL[1]))
    closed = asyncio.Event()
    big.on("disconnect", closed.set)
    try:
        await big.emit("command", {"type": "request_floor", "id": "x", "blob": b"\0" * 600_000})
        await asyncio.wait_for(closed.wait(), 5)
        assert other.connected and (await other.call("ping", {"t": 2}, timeout=5))["t"] == 2
    finally:
        await big.disconnect()
        await other.disconnect()


MINIMAL: dict[str, dict] = {
    "create_consultation": {"code": "X", "title": "X", "days": ["2030-01-01"]},
    "add_delegation": {"delegation": "newland", "name": "Newland", "cls": "observer_state"},
    "set_voting_rights": {"delegation": "argentina", "voting_rights": True},
    "add_participant": {"participant": "newbie", "name": "New", "role": "technical"},
    "add_item": {"item": "999", "number": 999, "code": "X 1", "title": "X"},
    "set_item_minutes": {"item": "3", "minutes": 20},
    "set_speaking_limit": {"cls": "council_member", "seconds": 120},
    "take_up_item": {"item": "3"},
    "move_floor_request": {"delegation": "argentina", "position": 1, "reason": "r"},
    "grant_floor": {},
    "set_booth_mic": {"live": True},
    "set_booth_source": {"source": "en"},
    "propose_conclusion": {"item": "3", "text": "t"},
    "record_consensus": {"item": "3"},
    "block_item": {"item": "3", "kind": "objection"},
    "propose_package": {"items": ["1"]},
    "pull_from_package": {"item": "1"},
    "point_to_correspondence": {"item": "3"},
    "open_ballot": {"item": "3", "deadline": "2099-01-01T12:00"},
    "cast_vote": {"item": "3", "answer": "yes"},
    "record_vote_by_letter": {"item": "3", "delegation": "argentina", "answer": "yes", "reference": "Note 1"},
    "record_connection_test": {
        "transport": "websocket",
        "websocket_ok": True,
        "rtt_ms": 1,
        "jitter_ms": 1,
        "clock_offset_ms": 0,
        "microphone": "granted",
        "camera": "granted",
        "input_level": 0.1,
        "browser": "test",
    },
    "request_help": {"message": "help"},
    "open_grouping": {"deadline": "2099-01-01T12:00"},
    "answer_grouping": {"item": "3", "answer": "agree"},
    "propose_item": {"title": "A new item"},
    "submit_contribution": {"contribution": "c1", "item": "3", "title": "t", "comments": "c"},
    "resolve_help": {"participant": "argentina-delegate-1"},
    "post_caption": {"text": "The chair opens the sitting."},
    "correct_caption": {"line": 1, "text": "The chair opened the sitting."},
    "set_webcast": {"public": True},
    "observe_booth_silent": {"booth": "en"},
    "observe_both_talking": {"booth": "en", "talking": True},
    "observe_speaker_heard": {"participant": "argentina-delegate-1"},
}


async def test_authorization_matrix_every_command_by_every_role(node) -> None:
    roles = {
        "delegate": COUNCIL[0],
        "chair": CHAIR,
        "secretariat": SECRETARIAT,
        "interpreter": INTERPRETER["en"],
        "technical": TECHNICAL,
        "captioner": CAPTIONER,
    }
    connections = {role: await raw_client(node, node.token(pid)) for role, pid in roles.items()}
    # the public screen's own link: in no set of the table, so refused every command
    connections["screen"] = await raw_client(node, node.token(SCREEN_ACTOR, SCREEN_ROLE))
    try:
        for kind in COMMAND_TYPES:
            tag = kind.__struct_config__.tag
            for role, sio in connections.items():
                answer = await sio.call("command", {"type": tag, "id": f"m-{tag}-{role}", **MINIMAL.get(tag, {})}, timeout=5)
                refused = not answer["ok"] and answer["error"]["code"] == "not_allowed"
                allowed_by_table = role in PERMISSIONS[kind]
                if not allowed_by_table:
                    assert refused, f"{role} may not send {tag}, but got {answer}"
                elif refused:
                    # A role the table allows may still be refused by a finer rule of the same area
                    # (e.g. a delegate who is not a council member); never by the table.
                    assert "Only the" not in answer["error"]["message"], f"{role} should pass the table for {tag}: {answer}"
                await asyncio.sleep(0.06)  # stay under the per-connection rate limit
    finally:
        for sio in connections.values():
            await sio.disconnect()


async def test_only_the_same_origin_may_connect_unless_allowed(node) -> None:
    from vcc_testkit.consultations import CHAIR as chair

    stranger = socketio.AsyncClient(serializer="msgpack", reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await stranger.connect(
            node.url, auth={"token": node.token(chair)}, headers={"Origin": "http://evil.example"}, transports=["websocket"], wait_timeout=5
        )
    same = socketio.AsyncClient(serializer="msgpack", reconnection=False)
    await same.connect(node.url, auth={"token": node.token(chair)}, headers={"Origin": node.url}, transports=["websocket"], wait_timeout=5)
    assert same.connected
    await same.disconnect()
