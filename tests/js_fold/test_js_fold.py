"""The browser keeps its own state by folding the events it receives, and takes
the derived views (the queue's places and waits, the routing, the forecast, ...)
from the server with each batch: client_web/src/core/fold.js is the only
transcription of the core in the browser. Here it runs under node on event logs
made by the Python core, and what the browser then holds (state and views) must
equal the server's snapshot and views at every step."""

from __future__ import annotations

import json
import re
from typing import Any

import msgspec
import pytest
from vcc.core.views import ViewsFeed, snapshot, wire_views
from vcc_protocol.events import EVENTS_BY_NAME
from vcc_protocol.state import ConsultationState
from vcc_protocol.views import Views, ViewsUpdate
from vcc_protocol.vocabulary import LANGUAGES

from .logs import Log, random_log, scripted_log
from .node import run_harness


def plain(data: Any) -> Any:
    """Through JSON, as the harness sees it (tuples become lists, keys strings)."""
    return json.loads(json.dumps(data))


def replay(log: Log, redacted: bool, every: int = 1) -> None:
    """Send the log to the JS fold in batches (one per ``every`` checkpoints) with the
    views updates the publisher would send, comparing after each batch."""
    from vcc.core import apply
    from vcc_protocol.events import redact

    checkpoints = log.checkpoints[::every] + ([log.checkpoints[-1]] if (len(log.checkpoints) - 1) % every else [])
    state = ConsultationState()
    feed = ViewsFeed()
    applied = 0
    audience = "public" if redacted else "staff"
    batches, expected = [], []
    for upto, now in checkpoints:
        batch = log.events[applied:upto]
        for event in batch:
            apply(state, redact(event) if redacted else event)
        applied = upto
        update = feed.update(state, now, {type(event) for event in batch})
        msgspec.convert(update, ViewsUpdate)  # what the publisher sends is a valid update
        batches.append({"upto": upto, "views": update})
        expected.append({"state": plain(snapshot(state, audience)), "views": plain(wire_views(state, now))})
    answers = run_harness({"mode": "log", "events": log.wire_events(redacted), "batches": plain(batches)})
    changed: set[str] = set()
    tails = 0
    for index, ((upto, _), got, want, batch) in enumerate(zip(checkpoints, answers, expected, batches, strict=True)):
        assert got["state"] == want["state"], (
            f"the JS fold differs after event {upto} ({log.events[upto - 1]!r}): {diff(got['state'], want['state'])}"
        )
        assert got["views"] == want["views"], (
            f"the views the browser holds differ from the server's after event {upto}: {diff(got['views'], want['views'])}"
        )
        if index:
            changed |= {"queue" if name == "queue_tail" else name for name in batch["views"]} - {"version", "at"}
            tails += "queue_tail" in batch["views"]
    # Not vacuous: after the first (whole) update, every view changes in the log but the limits (constant)
    # and the slots (set when the consultation is created, in the first batch).
    if every == 1:
        varying = set(Views.__struct_fields__) - {"version", "at", "limits", "slots"}
        assert changed == varying, f"never changed: {varying - changed}"
        assert tails, "not vacuous: the browser applied a queue's end"


def diff(got: dict[str, Any], want: dict[str, Any]) -> str:
    keys = sorted(set(got) | set(want))
    return "; ".join(f"{k}: js={got.get(k)!r} core={want.get(k)!r}" for k in keys if got.get(k) != want.get(k))[:2000]


def test_a_views_update_may_carry_every_view() -> None:
    # ... or, instead of the queue view, its changed end.
    assert set(ViewsUpdate.__struct_fields__) == set(Views.__struct_fields__) | {"queue_tail"}


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


def placeholders(message: str | dict[str, str]) -> set[str]:
    forms = message.values() if isinstance(message, dict) else [message]
    return {name for form in forms for name in re.findall(r"\{(\w+)\}", form)}


def test_every_language_of_the_interface_has_every_message_with_its_placeholders() -> None:
    locales = run_harness({"mode": "locales"})
    assert set(locales) == set(LANGUAGES)
    english = locales["en"]
    for language, table in locales.items():
        assert set(table) == set(english), (
            f"{language}: missing {sorted(set(english) - set(table))}, extra {sorted(set(table) - set(english))}"
        )
        for key, message in table.items():
            unknown = placeholders(message) - placeholders(english[key])
            assert not unknown, f"{language}.{key} uses {unknown}, which the code never fills"
            if isinstance(message, dict):
                assert "other" in message, f"{language}.{key}: a plural message needs its 'other' form"
