"""Views: a delegate sees itself and its place in the queue; contact data and
diagnostics reach only the staff audience (secretariat, technical team)."""

import json

import msgspec
import pytest
from corekit import MINUTE, Consultation, member, ms, speaker
from vcc.core import apply, fold
from vcc.core.views import ViewsFeed, audience, snapshot, views, wire_views
from vcc_protocol import commands as c
from vcc_protocol.events import Event, redact
from vcc_protocol.state import ConsultationState
from vcc_protocol.views import Views

from tests.js_fold.logs import random_log

CONNECTION_TEST = c.RecordConnectionTest(
    id=c.new_id(),
    transport="polling",
    websocket_ok=False,
    rtt_ms=310.5,
    jitter_ms=45.0,
    clock_offset_ms=1200.0,
    microphone="ok",
    camera="blocked",
    input_level=0.2,
    browser="Edge 91 behind proxy.corp.example",
)


@pytest.fixture
def busy(sitting: Consultation) -> Consultation:
    for delegation in ("at", "ch", "r1"):
        sitting.hand(member(delegation))
    sitting.run(CONNECTION_TEST, speaker("py"))
    sitting.run(c.RequestHelp(id=c.new_id(), message="Firewall blocks the audio, call +41 79 000 00 00"), speaker("py"))
    return sitting


@pytest.mark.parametrize(
    ("role", "expected"),
    [("secretariat", "staff"), ("technical", "staff"), ("chair", "public"), ("delegate", "public"), ("interpreter", "public")],
)
def test_audiences(role: str, expected: str) -> None:
    assert audience(role) == expected


def places(busy: Consultation) -> list[tuple[str, bool, int, int]]:
    """(delegation, point of order, place, wait in whole minutes) for each entry of the queue view."""
    queue = views(busy.state, busy.now).queue
    requests = busy.state.queues[busy.state.current_item]  # type: ignore[index]
    assert len(queue.places) == len(queue.wait_s) == len(requests)
    return [
        (r.delegation, r.point_of_order, place, round(wait * 1000 / MINUTE))
        for r, place, wait in zip(requests, queue.places, queue.wait_s, strict=True)
    ]


def test_each_queue_entry_has_its_place_and_expected_wait(busy: Consultation) -> None:
    # "You are #2, about 3 minutes": Switzerland speaks first, for up to 3 minutes.
    assert places(busy) == [("ch", False, 1, 0), ("at", False, 2, 3), ("r1", False, 3, 5)]


def test_a_point_of_order_is_an_entry_of_its_own_and_goes_first(busy: Consultation) -> None:
    busy.hand(member("at"), point_of_order=True)
    assert places(busy) == [("at", True, 1, 0), ("ch", False, 2, 2), ("at", False, 3, 5), ("r1", False, 4, 7)]


def test_the_wait_counts_the_running_speech_and_the_grant(busy: Consultation) -> None:
    busy.grant()
    assert places(busy) == [("at", False, 1, 3), ("r1", False, 2, 5)]
    busy.go_live(speaker("ch"))
    busy.later(60)
    assert places(busy) == [("at", False, 1, 2), ("r1", False, 2, 4)]
    # The speech's end, not what is left of it: the view does not change as the seconds pass.
    assert views(busy.state, busy.now).clock.speech_ends_at == busy.now + 2 * MINUTE


def test_without_a_current_item_there_is_no_queue_and_nobody_may_ask(busy: Consultation) -> None:
    fresh = Consultation()
    v = views(fresh.state, fresh.now)
    assert v.queue.places == [] and v.request_blocker == "no_item"
    assert not any(allowed.request_floor for allowed in v.allowed.values())


def test_who_may_do_what_follows_the_delegation_class(busy: Consultation) -> None:
    allowed = views(busy.state, busy.now).allowed
    assert {cls for cls, a in allowed.items() if a.point_of_order} == {"council_member", "observer_state"}
    assert {cls for cls, a in allowed.items() if a.block} == {"council_member"}
    assert all(a.request_floor for a in allowed.values())
    busy.run(c.CloseSpeakersList(id=c.new_id()), "chair")
    v = views(busy.state, busy.now)
    assert v.request_blocker == "list_closed" and not any(a.request_floor for a in v.allowed.values())


def test_the_routing_of_the_floor_language_plays_the_floor(busy: Consultation) -> None:
    busy.state.floor_language = "fr"
    routes = views(busy.state, busy.now).routes
    assert list(routes) == ["floor", "ar", "zh", "en", "fr", "ru", "es"]
    assert (routes["fr"].play, routes["fr"].kind) == ("floor", "own_language")
    assert (routes["en"].play, routes["en"].kind) == ("en", "interpreted")


def test_time_to_floor_figures(busy: Consultation) -> None:
    busy.grant()
    busy.later(2)
    busy.go_live(speaker("ch"))
    ttf = views(busy.state, busy.now).time_to_floor
    assert ttf.count == 0, "a speech counts once it has ended"
    busy.later(30)
    busy.run(c.YieldFloor(id=c.new_id()), speaker("ch"))
    ttf = views(busy.state, busy.now).time_to_floor
    assert (ttf.count, ttf.median_ms, ttf.p90_ms, ttf.under_goal) == (1, 2000, 2000, 1)
    assert [b.count for b in ttf.histogram] == [0, 0, 1, 0, 0, 0, 0]


def test_contact_data_and_diagnostics_only_for_staff(busy: Consultation) -> None:
    public = snapshot(busy.state, "public")
    staff = snapshot(busy.state, "staff")
    assert staff["participants"][speaker("ch")]["contact"] == "ch1@example.org"
    assert staff["connection_tests"][speaker("py")]["browser"] == "Edge 91 behind proxy.corp.example"
    assert staff["help_requests"][speaker("py")]["message"].startswith("Firewall")
    assert all(p["contact"] is None for p in public["participants"].values())
    test = public["connection_tests"][speaker("py")]
    assert test["websocket_ok"] is False and test["rtt_ms"] is None and test["transport"] is None and test["browser"] is None
    assert public["help_requests"][speaker("py")]["message"] is None
    text = json.dumps(public)
    for secret in ("example.org", "+41", "proxy.corp", "Firewall", "310.5", "polling"):
        assert secret not in text


def test_public_snapshot_is_the_fold_of_redacted_events(busy: Consultation) -> None:
    # What a public room receives (redacted events) folds to the public snapshot.
    def plain(state: object) -> object:
        return msgspec.to_builtins(state, str_keys=True)

    assert plain(fold(redact(ev) for ev in busy.events)) == snapshot(busy.state, "public")
    assert plain(fold(busy.events)) == snapshot(busy.state, "staff")


def test_views_carry_the_forecast(busy: Consultation) -> None:
    v = views(busy.state, busy.now)
    assert (v.forecast.minutes_left_today, v.forecast.will_not_fit, v.expected["today"][0]) == (180, 0, "3")
    busy.later(13 * 60)
    # Item 3 runs late: 13 minutes in with a queue of 7 minutes of its 15 minutes allocated.
    assert views(busy.state, busy.now).forecast.minutes_left_today == 180 - 13


def test_the_feed_sends_only_the_views_that_changed(busy: Consultation) -> None:
    feed = ViewsFeed()
    first = feed.update(busy.state, busy.now)
    assert set(first) == set(Views.__struct_fields__)
    assert set(feed.update(busy.state, busy.now)) == {"version", "at"}, "nothing changed"
    busy.hand(member("py"))
    update = feed.update(busy.state, busy.now)
    # Two requests were ahead: the queue goes as its end, from the third entry.
    assert update["queue_tail"] == {"start": 2, "places": [3, 4], "wait_s": [360, 480]}
    assert "queue" not in update and "routes" not in update and "grouping" not in update
    assert feed.full(busy.state, busy.now) == wire_views(busy.state, busy.now)


def test_views_are_plain_wire_data_with_no_sentences(busy: Consultation) -> None:
    encoded = msgspec.json.encode(views(busy.state, busy.now))
    assert msgspec.json.decode(encoded, type=Views) == views(busy.state, busy.now)
    assert b"Warning" not in encoded and b"relay of" not in encoded


def test_grouping_answers_and_contribution_contacts_only_for_staff() -> None:
    cons = Consultation(start=ms("2021-05-03", "10:00"))
    cons.run(c.OpenGrouping(id=c.new_id(), deadline="2021-05-10T23:59"), "sec")
    cons.run(c.AnswerGrouping(id=c.new_id(), item="3", answer="other_group"), speaker("ch"))
    cons.run(
        c.SubmitContribution(
            id=c.new_id(), contribution="ch-3", item="3", title="Comments", comments="We support it.", co_submitters=["at"]
        ),
        member("ch"),
    )
    staff, public = snapshot(cons.state, "staff"), snapshot(cons.state, "public")
    assert staff["grouping"]["answers"] == {"ch": {"3": "other_group"}}
    assert public["grouping"]["answers"] == {"ch": {"3": None}}  # that Switzerland answered, not what
    assert staff["contributions"]["ch-3"]["contacts"] == {
        "ch": ["ch1@example.org", "ch2@example.org"],
        "at": ["at1@example.org", "at2@example.org"],
    }
    assert public["contributions"]["ch-3"]["contacts"] is None
    assert public["contributions"]["ch-3"]["submitters"] == ["ch", "at"]
    assert msgspec.to_builtins(fold(redact(ev) for ev in cons.events), str_keys=True) == public


@pytest.mark.parametrize("audience_name", ["public", "staff"])
def test_the_snapshot_is_the_typed_state_of_the_protocol(busy: Consultation, audience_name: str) -> None:
    # The redacted fields are optional in the protocol's ConsultationState: a public snapshot is one too.
    data = snapshot(busy.state, audience_name)
    typed = msgspec.convert(data, ConsultationState)
    assert msgspec.to_builtins(typed, str_keys=True) == data


@pytest.mark.rule("views._booths")
def test_while_someone_speaks_every_booth_but_the_floor_languages_must_be_live(sitting: Consultation) -> None:
    sitting.hand(speaker("at"))
    sitting.grant("at")
    sitting.go_live(speaker("at"))
    floor_language = sitting.state.floor_language
    assert floor_language is not None
    other = next(language for language in sitting.state.booths if language != floor_language)
    sitting.booth_live(other)

    alarms = {row.language: row.alarms for row in views(sitting.state, sitting.now).booths}

    assert "silent" not in alarms[floor_language], "the floor language's booth has nothing to interpret"
    assert "silent" not in alarms[other]
    assert all("silent" in alarms[language] for language in alarms if language not in (floor_language, other))

    sitting.yield_floor(speaker("at"))
    assert not any("silent" in row.alarms for row in views(sitting.state, sitting.now).booths), "nobody speaks: no booth is due"


def _follow(feed: ViewsFeed, held: dict[str, object], cons: Consultation, now: int, batch: list[Event]) -> set[str]:
    """Apply the feed's update after ``batch`` at ``now`` to ``held`` as a client does; it must
    then hold the full recomputation. Returns the names of the views sent."""
    update = feed.update(cons.state, now, {type(event) for event in batch})
    held.update(update)
    assert held == wire_views(cons.state, now)
    return set(update) - {"version", "at"}


def test_what_the_time_alone_changes_goes_with_the_next_batch_whatever_its_events(busy: Consultation) -> None:
    # The feed recomputes the views a batch's kinds of events can change, and those that change
    # with the time: a caption or a connection test during a speech still moves the waits on.
    busy.grant("at")
    busy.go_live(speaker("at"))
    feed, held = ViewsFeed(), {}
    held.update(feed.update(busy.state, busy.now))
    assert "queue" in _follow(feed, held, busy, busy.now + 5_000, [])

    cons = Consultation(start=ms("2021-05-03", "10:00"))
    cons.run(c.OpenGrouping(id=c.new_id(), deadline="2021-05-10T23:59"), "sec")
    feed, held = ViewsFeed(), {}
    held.update(feed.update(cons.state, cons.now))
    assert cons.state.grouping is not None and cons.state.contributions_deadline is not None
    assert {"grouping", "allowed"} <= _follow(feed, held, cons, cons.state.grouping.deadline + 1, [])
    assert "allowed" in _follow(feed, held, cons, cons.state.contributions_deadline + 1, [])


#: A wait with no event, after each batch: what only the time changes must be recomputed too.
IDLE_MS = 7_001


@pytest.mark.parametrize("seed", range(6))
def test_the_feed_sends_exactly_the_views_a_full_recomputation_finds_changed(seed: int) -> None:
    # The feed recomputes only what a batch's kinds of events and the time can change, compares
    # structs and converts only what changed; a client that applies its updates in turn must hold
    # every view as recomputed in full, and no unchanged view is resent.
    log = random_log(seed)
    state = ConsultationState()
    feed = ViewsFeed()
    held: dict[str, object] = {}
    previous: dict[str, object] | None = None
    applied = 0
    tails = 0

    def check(now: int, batch: list[Event], upto: int) -> None:
        nonlocal previous, tails
        update = feed.update(state, now, {type(event) for event in batch})
        tail = update.pop("queue_tail", None)
        held.update(update)
        if tail is not None:
            tails += 1
            queue = held["queue"]
            assert isinstance(queue, dict)
            held["queue"] = {
                "places": queue["places"][: tail["start"]] + tail["places"],
                "wait_s": queue["wait_s"][: tail["start"]] + tail["wait_s"],
                "spoken": queue["spoken"],
            }
        full = wire_views(state, now)
        after = f"{log.events[upto - 1]!r}" + (f" and {now - checkpoint} ms" if batch == [] else "")
        assert held == full, f"after event {upto} ({after}): the client's views differ from a full recomputation"
        if previous is not None:
            sent = set(update) | ({"queue"} if tail is not None else set())
            assert sent == {"version", "at"} | {name for name in full if full[name] != previous[name]}
        assert feed.full(state, now) == full
        previous = full

    for upto, checkpoint in log.checkpoints:
        batch = log.events[applied:upto]
        for event in batch:
            apply(state, event)
        applied = upto
        check(checkpoint, batch, upto)
        check(checkpoint + IDLE_MS, [], upto)
    assert tails, "not vacuous: some queue goes as its end"
