"""Before the sitting: the agenda consultation (grouping) and written contributions."""

from __future__ import annotations

import pytest
from corekit import COUNCIL, Consultation, member, ms, speaker
from vcc.core.contributions import CHARACTERS_PER_PAGE
from vcc.core.grouping import tally
from vcc.core.views import snapshot
from vcc_protocol import commands as c
from vcc_protocol._base import File

DEADLINE = "2021-03-12T23:59"


@pytest.fixture
def grouping() -> Consultation:
    cons = Consultation()
    cons.run(c.AddItem(id=c.new_id(), item="9", number=9, code="ADM 9", title="A group-2 item", group=2), "@admin")
    cons.now = ms("2021-03-01", "09:00")
    cons.run(c.OpenGrouping(id=c.new_id(), deadline=DEADLINE), "sec")
    return cons


def test_group_2_items_are_not_on_the_agenda_until_the_grouping_moves_them(grouping: Consultation) -> None:
    assert "9" in grouping.state.items and "9" not in grouping.state.agenda


def test_council_members_answer_and_may_change_their_answer_until_the_deadline(grouping: Consultation) -> None:
    grouping.run(c.AnswerGrouping(id=c.new_id(), item="3", answer="other_group"), speaker("ch"))
    grouping.run(c.AnswerGrouping(id=c.new_id(), item="3", answer="agree"), member("ch"))  # any member of the delegation
    assert grouping.state.grouping.answers["ch"]["3"] == "agree"
    late = ms("2021-03-12", "23:59")
    assert grouping.reject(c.AnswerGrouping(id=c.new_id(), item="3", answer="other_group"), speaker("ch"), at=late) == "deadline_passed"


@pytest.mark.rule("grouping.MAY_ANSWER")
def test_only_council_members_answer_the_agenda_consultation(grouping: Consultation) -> None:
    for observer in ("at", "ps", "r1"):
        assert grouping.reject(c.AnswerGrouping(id=c.new_id(), item="3", answer="agree"), speaker(observer)) == "not_allowed"
    assert grouping.reject(c.ProposeItem(id=c.new_id(), title="More"), speaker("at")) == "not_allowed"
    assert grouping.reject(c.AnswerGrouping(id=c.new_id(), item="3", answer="agree"), "chair") == "not_allowed"


def test_a_council_member_may_propose_a_new_item(grouping: Consultation) -> None:
    grouping.run(c.ProposeItem(id=c.new_id(), title="Cybersecurity guidelines", group=1), speaker("cn"))
    (proposed,) = grouping.state.grouping.proposed_items
    assert (proposed.delegation, proposed.title) == ("cn", "Cybersecurity guidelines")


def test_the_tally_lists_agree_other_group_and_no_answer_by_state(grouping: Consultation) -> None:
    grouping.run(c.AnswerGrouping(id=c.new_id(), item="3", answer="agree"), speaker("ch"))
    grouping.run(c.AnswerGrouping(id=c.new_id(), item="3", answer="other_group"), speaker("us"))
    item3 = next(t for t in tally(grouping.state) if t.item == "3")
    assert item3.agree == ["ch"] and item3.other_group == ["us"] and sorted(item3.no_answer) == sorted(set(COUNCIL) - {"ch", "us"})


def test_answers_are_the_secretariats_the_public_sees_only_who_answered(grouping: Consultation) -> None:
    grouping.run(c.AnswerGrouping(id=c.new_id(), item="3", answer="other_group"), speaker("ch"))
    assert snapshot(grouping.state, "staff")["grouping"]["answers"]["ch"]["3"] == "other_group"
    assert snapshot(grouping.state, "public")["grouping"]["answers"]["ch"]["3"] is None


def test_closing_before_the_deadline_is_refused_and_after_it_derives_the_agenda(grouping: Consultation) -> None:
    assert grouping.reject(c.CloseGrouping(id=c.new_id()), "sec") == "deadline_not_passed"
    grouping.now = ms("2021-03-13", "10:00")
    (closed,) = grouping.run(c.CloseGrouping(id=c.new_id(), final={"9": 1, "4": 2}), "sec")
    assert closed.overrides == ["4", "9"]
    assert grouping.state.agenda == ["1", "2", "3", "5", "9"]
    assert grouping.reject(c.CloseGrouping(id=c.new_id()), "sec") == "no_grouping"
    assert grouping.reject(c.AnswerGrouping(id=c.new_id(), item="3", answer="agree"), speaker("ch")) == "no_grouping"
    assert grouping.refolded() == msgspec_builtins(grouping)


def msgspec_builtins(cons: Consultation):  # noqa: ANN201
    import msgspec

    return msgspec.to_builtins(cons.state)


def test_a_deadline_in_the_past_is_refused() -> None:
    cons = Consultation()
    cons.now = ms("2021-03-20", "09:00")
    assert cons.reject(c.OpenGrouping(id=c.new_id(), deadline=DEADLINE), "sec") == "invalid_value"


# --- contributions --------------------------------------------------------------------

BEFORE = ms("2021-05-20", "10:00")


def contribution(**fields) -> c.SubmitContribution:  # noqa: ANN003
    base = {
        "id": c.new_id(),
        "contribution": "ch-1",
        "item": "3",
        "title": "On item 3",
        "document": "C21/33",
        "comments": "We support it.",
        "way_forward": "Approve.",
    }
    return c.SubmitContribution(**{**base, **fields})


def test_a_member_state_contributes_with_co_submitters_whose_contacts_are_copied() -> None:
    cons = Consultation()
    (event,) = cons.run(contribution(co_submitters=["at", "us"]), speaker("ch"), at=BEFORE)
    assert event.submitters == ["ch", "at", "us"] and event.pages == 1
    assert event.contacts == {
        "ch": ["ch1@example.org", "ch2@example.org"],
        "at": ["at1@example.org", "at2@example.org"],
        "us": ["us1@example.org", "us2@example.org"],
    }
    assert snapshot(cons.state, "public")["contributions"]["ch-1"]["contacts"] is None


@pytest.mark.rule("contributions.MEMBER_STATES")
def test_only_member_states_contribute() -> None:
    cons = Consultation()
    assert cons.reject(contribution(), speaker("ps"), at=BEFORE) == "not_allowed"
    assert cons.reject(contribution(), speaker("r1"), at=BEFORE) == "not_allowed"
    assert cons.reject(contribution(co_submitters=["r1"]), speaker("ch"), at=BEFORE) == "not_allowed"


@pytest.mark.rule("roster.CONTRIBUTIONS_DAYS_BEFORE")
def test_the_contribution_deadline_is_14_days_before_the_first_day_until_2359_geneva() -> None:
    cons = Consultation()  # first day 2021-06-08: the deadline is 2021-05-25 23:59 Geneva
    cons.run(contribution(contribution="in-time"), speaker("ch"), at=ms("2021-05-25", "23:59"))
    assert cons.reject(contribution(contribution="late"), speaker("ch"), at=ms("2021-05-26", "00:00")) == "deadline_passed"


def test_a_contribution_on_a_group_2_item_is_refused() -> None:
    cons = Consultation()
    cons.run(c.AddItem(id=c.new_id(), item="9", number=9, code="ADM 9", title="Deferred", group=2), "@admin")
    assert cons.reject(contribution(item="9"), speaker("ch"), at=BEFORE) == "not_on_agenda"
    assert cons.reject(contribution(item="99"), speaker("ch"), at=BEFORE) == "unknown_item"


@pytest.mark.rule("contributions.MAX_PAGES")
def test_a_third_page_is_refused_for_text_and_for_files() -> None:
    cons = Consultation()
    two_pages = "x" * (2 * CHARACTERS_PER_PAGE - 200)
    cons.run(contribution(contribution="two", comments=two_pages), speaker("ch"), at=BEFORE)
    assert cons.reject(contribution(contribution="three", comments=two_pages + "y" * 400), speaker("ch"), at=BEFORE) == "too_long"
    pdf = File(name="c.pdf", kind="pdf", sha256="a" * 64, size=1000, pages=3)
    assert cons.reject(contribution(contribution="file", file=pdf, comments=""), speaker("ch"), at=BEFORE) == "too_long"
    cons.run(
        contribution(contribution="file", file=File(name="c.pdf", kind="pdf", sha256="a" * 64, size=1000, pages=2), comments=""),
        speaker("ch"),
        at=BEFORE,
    )


def test_the_secretariat_moves_items_between_sections_groups_by_their_codes() -> None:
    cons = Consultation()
    cons.run(c.AddItem(id=c.new_id(), item="U1", number=1, code="U1", title="Budget", section="Urgent"), "sec")
    cons.run(c.AddItem(id=c.new_id(), item="D3", number=3, code="D3", title="Plan", section="Deferred", group=2), "sec")
    cons.now = ms("2021-03-01", "09:00")
    cons.run(c.OpenGrouping(id=c.new_id(), deadline=DEADLINE), "sec")
    cons.now = ms("2021-03-13", "09:00")
    (closed,) = cons.run(c.CloseGrouping(id=c.new_id(), final={"D3": 1, "U1": 2}), "sec")
    assert closed.overrides == ["U1", "D3"]  # in the list's order
    assert cons.state.agenda[-1] == "D3" and "U1" not in cons.state.agenda
    assert cons.state.items["D3"].section == "Deferred"
