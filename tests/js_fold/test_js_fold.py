"""The browser keeps its own state by folding the events it receives: that fold,
the routing, "you are #N, about M minutes" and the forecast are JS mirrors of
the core (client_web/src/core/). Here they run under node on event logs made
by the Python core, and must agree with it at every step."""

from __future__ import annotations

import json
import random
import re
from typing import Any

import msgspec
import pytest
from vcc.core.floor import queue_position
from vcc.core.forecast import forecast
from vcc.core.interpretation import route
from vcc.core.state import ConsultationState, Speech
from vcc.core.views import snapshot
from vcc_protocol.events import EVENTS_BY_NAME
from vcc_protocol.vocabulary import LANGUAGES

from .logs import Log, random_log, scripted_log
from .node import run_harness

CHANNELS = ["floor", *LANGUAGES]


def plain(data: Any) -> Any:
    """Through JSON, as the harness sees it (tuples become lists, keys strings)."""
    return json.loads(json.dumps(data))


def expected_at(log_state: ConsultationState, now: int, delegations: list[str], audience: str) -> dict[str, Any]:
    state = log_state
    return {
        "state": plain(snapshot(state, audience)),
        "positions": {d: (list(p) if (p := queue_position(state, d, now)) else None) for d in delegations},
        "point_of_order_positions": {d: (list(p) if (p := queue_position(state, d, now, point_of_order=True)) else None) for d in delegations},
        "routes": {ch: plain(route(state, ch).__dict__) for ch in CHANNELS} if state.created else None,
        "forecast": plain(msgspec.to_builtins(forecast(state, now).__dict__)) if state.created else None,
    }


def replay(log: Log, redacted: bool, every: int = 1) -> None:
    """Fold the log in JS and in Python, comparing at each checkpoint (every ``every``-th)."""
    from vcc.core import apply
    from vcc_protocol.events import redact

    checkpoints = log.checkpoints[::every] + ([log.checkpoints[-1]] if (len(log.checkpoints) - 1) % every else [])
    delegations = sorted({e.delegation for e in log.events if type(e).__name__ == "FloorRequested"}) + ["nobody-asked"]
    answers = run_harness({
        "mode": "log",
        "events": log.wire_events(redacted),
        "checkpoints": [{"upto": upto, "now": now, "delegations": delegations} for upto, now in checkpoints],
    })
    state = ConsultationState()
    applied = 0
    audience = "public" if redacted else "staff"
    for (upto, now), got in zip(checkpoints, answers, strict=True):
        for event in log.events[applied:upto]:
            apply(state, redact(event) if redacted else event)
        applied = upto
        want = expected_at(state, now, delegations, audience)
        assert got["state"] == want["state"], f"the JS fold differs after event {upto} ({log.events[upto - 1]!r}): {diff(got['state'], want['state'])}"
        assert got["positions"] == want["positions"], f"queue_position differs after event {upto}"
        assert got["point_of_order_positions"] == want["point_of_order_positions"], f"queue_position of a point of order differs after event {upto}"
        assert got["routes"] == want["routes"], f"route() differs after event {upto}"
        assert_forecast_equal(got["forecast"], want["forecast"], upto)


def assert_forecast_equal(got: Any, want: Any, upto: int) -> None:
    if want is None:
        assert got is None
        return
    assert got["fits_today"] == want["fits_today"] and got["will_not_fit"] == want["will_not_fit"], f"forecast differs after event {upto}"
    assert got["days_left"] == want["days_left"]
    for name in ("overflow_minutes", "minutes_left_today"):
        # Python rounds overflow_minutes to 0.1 with round(); JS with Math.round: at most one step apart.
        assert got[name] == pytest.approx(want[name], abs=0.11), f"forecast {name} differs after event {upto}"
    assert [f["item"] for f in got["items"]] == [f["item"] for f in want["items"]]
    for g, w in zip(got["items"], want["items"], strict=True):
        assert g["expected"] == w["expected"], f"forecast of item {w['item']} differs after event {upto}"
        for name in ("allocated_minutes", "elapsed_minutes", "remaining_minutes"):
            assert g[name] == pytest.approx(w[name], abs=1e-9)


def diff(got: dict[str, Any], want: dict[str, Any]) -> str:
    keys = sorted(set(got) | set(want))
    return "; ".join(f"{k}: js={got.get(k)!r} core={want.get(k)!r}" for k in keys if got.get(k) != want.get(k))[:2000]


def test_the_scripted_log_covers_every_event_type() -> None:
    seen = {msgspec.to_builtins(e)["type"] for e in scripted_log().events}
    assert seen == set(EVENTS_BY_NAME), f"not covered: {sorted(set(EVENTS_BY_NAME) - seen)}"


@pytest.mark.parametrize("redacted", [False, True], ids=["staff", "public"])
def test_js_fold_matches_the_core_on_the_scripted_log(redacted: bool) -> None:
    replay(scripted_log(), redacted)


@pytest.mark.parametrize("seed", range(6))
def test_js_fold_matches_the_core_on_random_logs(seed: int) -> None:
    log = random_log(seed)
    assert len(log.events) > 150, "a vacuous random log: the core refused almost everything"
    replay(log, redacted=seed % 2 == 1, every=3)


def test_route_matches_the_core_on_every_channel_and_random_booth_graphs() -> None:
    rng = random.Random(7)
    log = scripted_log()
    states = []
    for _ in range(400):
        state = msgspec.convert(msgspec.to_builtins(log.state), ConsultationState)
        state.floor_language = rng.choice([None, *LANGUAGES])
        state.speech = None
        if rng.random() < 0.7:
            state.speech = Speech(participant="x", delegation="argentina", item="3", language=state.floor_language or "en", started_at=0, time_to_floor_ms=0, limit_ms=1)
        for booth in state.booths.values():
            booth.source = rng.choice(["floor", "floor", *LANGUAGES])
            booth.mic_open = rng.random() < 0.7
            booth.handover_requested_by = "b" if rng.random() < 0.2 else None
        states.append(state)
    answers = run_harness({"mode": "routes", "states": [plain(snapshot(s, "public")) for s in states]})
    for state, got in zip(states, answers, strict=True):
        for channel in CHANNELS:
            assert got[channel] == plain(route(state, channel).__dict__), f"route({channel}) differs for sources {[b.source for b in state.booths.values()]}, floor {state.floor_language}"


def placeholders(message: str | dict[str, str]) -> set[str]:
    forms = message.values() if isinstance(message, dict) else [message]
    return {name for form in forms for name in re.findall(r"\{(\w+)\}", form)}


def test_every_language_of_the_interface_has_every_message_with_its_placeholders() -> None:
    locales = run_harness({"mode": "locales"})
    assert set(locales) == set(LANGUAGES)
    english = locales["en"]
    for language, table in locales.items():
        assert set(table) == set(english), f"{language}: missing {sorted(set(english) - set(table))}, extra {sorted(set(table) - set(english))}"
        for key, message in table.items():
            unknown = placeholders(message) - placeholders(english[key])
            assert not unknown, f"{language}.{key} uses {unknown}, which the code never fills"
            if isinstance(message, dict):
                assert "other" in message, f"{language}.{key}: a plural message needs its 'other' form"


def test_the_pages_of_a_text_contribution_are_counted_as_the_core_counts_them() -> None:
    """The form says "about N pages" before sending: the same count as contributions.text_pages,
    at the page boundaries and with characters outside the BMP (one character in Python, two UTF-16 units in JS)."""
    from vcc.core.contributions import CHARACTERS_PER_PAGE, text_pages

    rng = random.Random(11)
    alphabet = ["a", " ", "é", "中", "ب", "😀"]
    texts = [["", "", "", ""]]
    for length in (CHARACTERS_PER_PAGE - 1, CHARACTERS_PER_PAGE, CHARACTERS_PER_PAGE + 1, 2 * CHARACTERS_PER_PAGE, 2 * CHARACTERS_PER_PAGE + 1):
        texts.append(["Title", "C21/8", "x" * (length - 10), "y" * 5])
        texts.append(["", "", "😀" * length, ""])
    for _ in range(30):
        texts.append(["".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 4000))) for _ in range(4)])
    got = run_harness({"mode": "pages", "texts": texts})
    assert got == [text_pages(*parts) for parts in texts]
