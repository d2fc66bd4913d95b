"""Views: a delegate sees itself and its place in the queue; contact data and
diagnostics reach only the staff audience (secretariat, technical team)."""

import json

import msgspec
import pytest
from corekit import MINUTE, Consultation, interpreter, member, ms, speaker
from vcc.core import fold
from vcc.core.views import audience, snapshot, view
from vcc_protocol import commands as c
from vcc_protocol.events import redact

CONNECTION_TEST = c.RecordConnectionTest(id=c.new_id(),
    transport="polling", websocket_ok=False, rtt_ms=310.5, jitter_ms=45.0, clock_offset_ms=1200.0,
    microphone="ok", camera="blocked", input_level=0.2, browser="Edge 91 behind proxy.corp.example",
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


def test_a_delegate_sees_its_own_delegation_marked_and_its_place(busy: Consultation) -> None:
    screen = view(busy.state, speaker("at"), busy.now)
    assert [(q["delegation"], q["mine"]) for q in screen["queue"]] == [("ch", False), ("at", True), ("r1", False)]
    assert screen["queue"][1]["name"] == "Austria"
    me = screen["me"]
    # "You are #2, about 3 minutes": Switzerland speaks first, for up to 3 minutes.
    assert (me["delegation"], me["position"], me["wait_minutes"], me["has_grant"], me["is_speaking"]) == ("at", 2, 3, False, False)
    assert [pid for pid, p in screen["participants"].items() if p["me"]] == [speaker("at")]


def test_a_delegate_sees_its_point_of_order_apart_from_its_request(busy: Consultation) -> None:
    busy.hand(member("at"), point_of_order=True)
    screen = view(busy.state, speaker("at"), busy.now)
    assert [(q["delegation"], q["point_of_order"], q["mine"]) for q in screen["queue"]] == [
        ("at", True, True), ("ch", False, False), ("at", False, True), ("r1", False, False),
    ]
    assert (screen["me"]["point_of_order_position"], screen["me"]["position"]) == (1, 3)
    assert view(busy.state, speaker("ch"), busy.now)["me"]["point_of_order_position"] is None


def test_every_member_of_the_delegation_sees_the_same_request(busy: Consultation) -> None:
    for pid in (speaker("r1"), member("r1")):
        screen = view(busy.state, pid, busy.now)
        assert (screen["me"]["position"], screen["me"]["wait_minutes"]) == (3, 5)
        assert [q["mine"] for q in screen["queue"]] == [False, False, True]


def test_grant_and_speech_are_shown_to_the_delegation(busy: Consultation) -> None:
    busy.grant()
    assert view(busy.state, member("ch"), busy.now)["me"]["has_grant"]
    busy.go_live(speaker("ch"))
    busy.later(60)
    assert view(busy.state, speaker("ch"), busy.now)["me"]["is_speaking"]
    assert not view(busy.state, member("ch"), busy.now)["me"]["is_speaking"]
    at = view(busy.state, member("at"), busy.now)["me"]
    assert (at["position"], at["wait_minutes"]) == (1, 2)


def test_without_a_request_there_is_no_place(busy: Consultation) -> None:
    screen = view(busy.state, speaker("cn"), busy.now)
    assert (screen["me"]["position"], screen["me"]["wait_minutes"]) == (None, None)
    assert not any(q["mine"] for q in screen["queue"])
    chair = view(busy.state, "chair", busy.now)
    assert chair["me"]["delegation"] is None and chair["me"]["position"] is None


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


@pytest.mark.parametrize("pid", [speaker("ch"), "chair", interpreter("fr")])
def test_public_views_hold_no_contact_data(busy: Consultation, pid: str) -> None:
    text = json.dumps(view(busy.state, pid, busy.now))
    assert "example.org" not in text and "Firewall" not in text and "proxy.corp" not in text


@pytest.mark.parametrize("pid", ["sec", "tech"])
def test_staff_views_hold_contact_data(busy: Consultation, pid: str) -> None:
    screen = view(busy.state, pid, busy.now)
    assert screen["participants"]["sec"]["contact"] == "sec@example.org"
    assert screen["connection_tests"][speaker("py")]["rtt_ms"] == 310.5


def test_public_snapshot_is_the_fold_of_redacted_events(busy: Consultation) -> None:
    # What a public room receives (redacted events) folds to the public snapshot.
    def plain(state: object) -> object:
        return msgspec.to_builtins(state, str_keys=True)

    assert plain(fold(redact(ev) for ev in busy.events)) == snapshot(busy.state, "public")
    assert plain(fold(busy.events)) == snapshot(busy.state, "staff")


def test_views_carry_the_forecast(busy: Consultation) -> None:
    screen = view(busy.state, speaker("ch"), busy.now)
    forecast = screen["forecast"]
    assert forecast["items"][0]["item"] == 3 and forecast["minutes_left_today"] == 180
    # Switzerland 3 min, Austria and the sector member 2 min each, below the 15 min allocated.
    assert forecast["items"][0]["remaining_minutes"] == 15
    busy.later(13 * 60)
    assert view(busy.state, speaker("ch"), busy.now)["forecast"]["items"][0]["remaining_minutes"] == 7
    assert MINUTE == 60_000


def test_grouping_answers_and_contribution_contacts_only_for_staff() -> None:
    cons = Consultation(start=ms("2021-05-03", "10:00"))
    cons.run(c.OpenGrouping(id=c.new_id(), deadline="2021-05-10T23:59"), "sec")
    cons.run(c.AnswerGrouping(id=c.new_id(), item=3, answer="other_group"), speaker("ch"))
    cons.run(c.SubmitContribution(id=c.new_id(), contribution="ch-3", item=3, title="Comments", comments="We support it.", co_submitters=["at"]), member("ch"))
    staff, public = snapshot(cons.state, "staff"), snapshot(cons.state, "public")
    assert staff["grouping"]["answers"] == {"ch": {"3": "other_group"}}
    assert public["grouping"]["answers"] == {"ch": {"3": None}}  # that Switzerland answered, not what
    assert staff["contributions"]["ch-3"]["contacts"] == {"ch": ["ch1@example.org", "ch2@example.org"], "at": ["at1@example.org", "at2@example.org"]}
    assert public["contributions"]["ch-3"]["contacts"] is None
    assert public["contributions"]["ch-3"]["submitters"] == ["ch", "at"]
    assert msgspec.to_builtins(fold(redact(ev) for ev in cons.events), str_keys=True) == public
