"""The clock: sittings only in the daily slot (Europe/Zurich, CET or CEST),
the hard stop at the slot end, the time management plan, elapsed against
allocated time and the forecast of what will not fit."""

from datetime import UTC, datetime

import pytest
from corekit import MINUTE, SECOND, Consultation, builtins, interpreter, ms, speaker
from vcc.core import next_deadline
from vcc.core.clock import elapsed_ms, plan_items, slot_bounds
from vcc.core.forecast import forecast
from vcc_protocol import commands as c
from vcc_protocol import events as e

WINTER, SUMMER = "2021-01-12", "2021-06-08"


def utc(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp() * 1000)


# --- the slot -------------------------------------------------------------------------


def test_slot_is_geneva_time_across_cet_and_cest() -> None:
    winter = slot_bounds(WINTER, "12:00", "15:00", "Europe/Zurich")
    summer = slot_bounds(SUMMER, "12:00", "15:00", "Europe/Zurich")
    assert winter == (utc(2021, 1, 12, 11), utc(2021, 1, 12, 14))  # CET, UTC+1
    assert summer == (utc(2021, 6, 8, 10), utc(2021, 6, 8, 13))  # CEST, UTC+2
    # The same wall-clock slot is an hour apart in UTC (days apart aside).
    assert (winter[0] % (24 * 3600_000)) - (summer[0] % (24 * 3600_000)) == 3600_000


@pytest.mark.parametrize(("day", "utc_hour"), [(WINTER, 11), (SUMMER, 10)], ids=["winter-CET", "summer-CEST"])
def test_sitting_opens_only_inside_the_slot(day: str, utc_hour: int) -> None:
    cons = Consultation(days=[WINTER, SUMMER])
    y, m, d = map(int, day.split("-"))
    opens = utc(y, m, d, utc_hour)
    # One minute before 12:00 Geneva time, in UTC.
    assert cons.reject(c.OpenSitting(id=c.new_id()), "chair", at=opens - MINUTE) == "outside_sitting"
    (event,) = cons.run(c.OpenSitting(id=c.new_id()), "chair", at=opens)
    assert isinstance(event, e.SittingOpened) and event.day == day and event.ends_at == opens + 3 * 3600_000
    assert cons.reject(c.OpenSitting(id=c.new_id()), "chair", at=opens + MINUTE) == "sitting_open"


def test_no_sitting_at_or_after_the_slot_end_nor_on_other_days() -> None:
    cons = Consultation(days=[WINTER, SUMMER])
    assert cons.reject(c.OpenSitting(id=c.new_id()), "chair", at=ms(WINTER, "15:00")) == "outside_sitting"
    assert cons.reject(c.OpenSitting(id=c.new_id()), "chair", at=ms("2021-01-13", "12:30")) == "outside_sitting"
    assert cons.reject(c.OpenSitting(id=c.new_id()), "chair", at=ms("2021-06-09", "12:30")) == "outside_sitting"
    # A summer 12:30 in winter time (11:30 CEST) is before the slot.
    assert cons.reject(c.OpenSitting(id=c.new_id()), "chair", at=utc(2021, 6, 8, 9, 30)) == "outside_sitting"
    cons.run(c.OpenSitting(id=c.new_id()), "sec", at=ms(SUMMER, "14:59"))


def test_open_sitting_wrong_role(cons: Consultation) -> None:
    cons.now = cons.at("12:10")
    for actor in (speaker("ch"), interpreter("en"), "tech", "@system"):
        assert cons.reject(c.OpenSitting(id=c.new_id()), actor) == "not_allowed"


@pytest.mark.rule("clock.sitting_is_open")
def test_nothing_granted_or_live_outside_an_open_sitting(cons: Consultation) -> None:
    cons.take_up("3")
    cons.hand(speaker("ch"))
    # Before the sitting.
    assert cons.reject(c.GrantFloor(id=c.new_id()), "chair", at=cons.at("12:00") - 1) == "outside_sitting"
    cons.open_sitting(0, "12:00")
    cons.grant()
    # The slot has ended (the shell's tick has not come yet): the grant cannot be taken up.
    assert cons.reject(c.GoLive(id=c.new_id()), speaker("ch"), at=cons.at("15:00")) == "outside_sitting"
    cons.hand(speaker("cn"))
    assert cons.reject(c.GrantFloor(id=c.new_id()), "chair", at=cons.at("15:00:01")) == "outside_sitting"
    # The tick closes the sitting; the grant lapses.
    events = cons.tick()
    assert cons.kinds(events) == ["GrantRevoked", "SittingClosed"]
    assert cons.state.grant is None and cons.state.sitting is None
    assert cons.reject(c.GrantFloor(id=c.new_id()), "chair") == "outside_sitting"


@pytest.mark.rule("sitting.slot_end")
def test_slot_end_cuts_the_speech_and_closes_the_sitting(cons: Consultation) -> None:
    cons.open_sitting(0, "12:00")
    cons.take_up("3")
    cons.booth_live("en")
    cons.hand(speaker("us"))
    cons.grant()
    cons.advance(cons.at("14:58"))
    cons.go_live(speaker("us"))
    ends_at = cons.at("15:00")
    assert next_deadline(cons.state) == ends_at
    # The shell's tick comes two seconds late: the speech is still cut at 15:00.
    events = cons.tick(ends_at + 2 * SECOND)
    assert cons.kinds(events) == ["SpeechEnded", "SittingClosed"]
    cut, closed = events
    assert isinstance(cut, e.SpeechEnded) and isinstance(closed, e.SittingClosed)
    assert (cut.reason, cut.duration_ms, cut.actor) == ("slot_end", 2 * MINUTE, "@system")
    assert closed.reason == "slot_end" and closed.day == "2021-06-08"
    (sitting,) = cons.state.sittings
    assert (sitting.closed_at, sitting.close_reason) == (ends_at, "slot_end")
    assert cons.state.speeches[-1].reason == "slot_end"
    # No extension: the slot of the day is over.
    assert cons.reject(c.OpenSitting(id=c.new_id()), "chair", at=ends_at + 5 * MINUTE) == "outside_sitting"
    # The cut speech leaves an interpretation tail, then nothing is due.
    assert cons.kinds(cons.advance(ends_at + MINUTE)) == ["InterpretationTailEnded"]
    assert next_deadline(cons.state) is None


def test_chair_closes_the_sitting_early(cons: Consultation) -> None:
    assert cons.reject(c.CloseSitting(id=c.new_id()), "chair", at=cons.at("12:00")) == "outside_sitting"
    cons.open_sitting(0, "12:00")
    cons.take_up("3")
    cons.hand(speaker("at"))
    cons.grant()
    cons.go_live(speaker("at"))
    cons.later(30)
    assert cons.reject(c.CloseSitting(id=c.new_id()), "sec") == "not_allowed"
    events = cons.run(c.CloseSitting(id=c.new_id()), "chair")
    assert cons.kinds(events) == ["SpeechEnded", "SittingClosed"]
    assert events[0].reason == "ended_by_chair" and events[1].reason == "chair"  # type: ignore[attr-defined]
    assert cons.state.sitting is None
    # The slot is not over: the chair may open the sitting again.
    cons.run(c.OpenSitting(id=c.new_id()), "chair")


def test_next_sitting_after_a_missed_tick_closes_the_previous_one(cons: Consultation) -> None:
    cons.open_sitting(0, "12:00")
    cons.take_up("3")
    # The shell never ticked at 15:00; the chair opens the next day's sitting.
    cons.run(c.OpenSitting(id=c.new_id()), "chair", at=cons.at("12:00", day=1))
    assert cons.kinds(cons.events[-2:]) == ["SittingClosed", "SittingOpened"]
    assert [(s.day, s.close_reason, s.closed_at) for s in cons.state.sittings] == [("2021-06-08", "slot_end", cons.at("15:00"))]
    assert cons.state.sitting is not None and cons.state.sitting.day == "2021-06-09"
    # Item 3 was current for the whole first slot and nothing since.
    assert elapsed_ms(cons.state, "3", cons.now) == 3 * 60 * MINUTE
    assert cons.refolded() == builtins(cons.state)


# --- elapsed vs allocated -------------------------------------------------------------


def test_elapsed_counts_only_the_current_item_in_an_open_sitting(cons: Consultation) -> None:
    cons.take_up("3")
    cons.advance(cons.at("12:05"))
    assert elapsed_ms(cons.state, "3", cons.now) == 0
    cons.run(c.OpenSitting(id=c.new_id()), "chair")
    cons.advance(cons.at("12:25"))
    assert elapsed_ms(cons.state, "3", cons.now) == 20 * MINUTE
    cons.take_up("4")
    cons.advance(cons.at("12:35"))
    assert (elapsed_ms(cons.state, "3", cons.now), elapsed_ms(cons.state, "4", cons.now)) == (20 * MINUTE, 10 * MINUTE)
    cons.advance(cons.at("15:30"))  # the slot end stops the clock at 15:00
    assert elapsed_ms(cons.state, "4", cons.now) == (2 * 60 + 35) * MINUTE
    cons.open_sitting(1, "12:00")
    cons.advance(cons.at("12:10", day=1))
    assert elapsed_ms(cons.state, "4", cons.now) == (2 * 60 + 45) * MINUTE
    assert cons.state.items["3"].elapsed_ms == 20 * MINUTE


# --- the time management plan ---------------------------------------------------------


def test_plan_items_in_agenda_order_never_past_the_slot() -> None:
    plan = plan_items([(1, 100, False), (2, 60, False), (3, 30, False), (4, 10, False)], days=2, slot_minutes=180)
    assert [(a.item, a.day, a.minutes) for a in plan.allocations] == [(1, 0, 100), (2, 0, 60), (3, 1, 30), (4, 1, 10)]
    assert (plan.unplaced, plan.overflow_minutes) == ([], 0)


def test_plan_groups_package_items_at_the_first_one() -> None:
    plan = plan_items([(1, 20, True), (2, 150, False), (3, 20, True), (4, 20, True), (5, 10, False)], days=2, slot_minutes=180)
    assert [(a.item, a.day) for a in plan.allocations] == [(1, 0), (3, 0), (4, 0), (2, 1), (5, 1)]


def test_plan_reports_what_cannot_fit_and_by_how_much() -> None:
    plan = plan_items([(n, 60, False) for n in range(1, 9)], days=2, slot_minutes=180)
    assert [a.item for a in plan.allocations] == [1, 2, 3, 4, 5, 6]
    assert (plan.unplaced, plan.overflow_minutes) == ([7, 8], 120)


def test_plan_an_item_longer_than_a_slot_does_not_waste_the_day() -> None:
    plan = plan_items([(1, 60, False), (2, 200, False), (3, 30, False)], days=3, slot_minutes=180)
    assert [(a.item, a.day) for a in plan.allocations] == [(1, 0), (3, 0)]
    assert (plan.unplaced, plan.overflow_minutes) == ([2], 200)


def test_plan_agenda_command(cons: Consultation) -> None:
    cons.run(c.SetItemMinutes(id=c.new_id(), item="3", minutes=170), "sec")
    (event,) = cons.run(c.PlanAgenda(id=c.new_id()), "sec")
    assert isinstance(event, e.AgendaPlanned)
    # The package (1, 2) on the first day, item 3 fills the second, 4 and 5 find no day.
    assert [(a.item, a.day, a.minutes) for a in cons.state.plan] == [("1", 0, 15), ("2", 0, 15), ("3", 1, 170)]
    assert (cons.state.plan_unplaced, cons.state.plan_overflow_minutes) == (["4", "5"], 30)
    assert cons.reject(c.PlanAgenda(id=c.new_id()), "chair") == "not_allowed"
    empty = Consultation(setup=False)
    empty.run(c.CreateConsultation(id=c.new_id(), code="X", title="X", days=["2021-06-08"]), "@admin")
    assert empty.reject(c.PlanAgenda(id=c.new_id()), "@admin") == "invalid_value"


# --- the forecast ---------------------------------------------------------------------


def test_forecast_what_will_not_fit(cons: Consultation) -> None:
    cons.run(c.PlanAgenda(id=c.new_id()), "sec")
    cons.open_sitting(1, "14:00")  # the last day, one hour left
    cons.take_up("1")
    cons.advance(cons.at("14:10", day=1))
    f = forecast(cons.state, cons.now)
    assert f.minutes_left_today == 50 and f.days_left == 0
    # 5 min left of item 1 and 15 min each of 2..5: 65 min in 50.
    assert [(i.item, i.remaining_minutes, i.expected) for i in f.items] == [
        ("1", 5, "today"),
        ("2", 15, "today"),
        ("3", 15, "today"),
        ("4", 15, "today"),
        ("5", 15, "will_not_fit"),
    ]
    assert (f.fits_today, f.will_not_fit, f.overflow_minutes) == (["1", "2", "3", "4"], ["5"], 15)
    assert (f.items[0].allocated_minutes, f.items[0].elapsed_minutes) == (15, 10)


def test_forecast_counts_the_queue_of_the_current_item(cons: Consultation) -> None:
    cons.open_sitting(1, "13:00")
    cons.take_up("3")
    for delegation in ("ch", "cn", "us", "py", "at", "pt", "ps", "r1", "r2", "t1"):
        cons.hand(speaker(delegation))
    f = forecast(cons.state, cons.now)
    # 4 council members at 3 min and 6 others at 2 min: 24 min, more than the 15 allocated.
    assert f.items[0].item == "3" and f.items[0].remaining_minutes == 24
    assert f.will_not_fit == []
    # An hour later nobody has spoken: the queue still needs 24 min, then items 4, 5, 1, 2 follow.
    cons.advance(cons.at("14:00", day=1))
    later = forecast(cons.state, cons.now)
    assert later.items[0].remaining_minutes == 24 and later.items[0].elapsed_minutes == 60
    assert (later.will_not_fit, later.overflow_minutes) == (["1", "2"], 24)


def test_forecast_spreads_over_the_remaining_days(cons: Consultation) -> None:
    cons.run(c.SetItemMinutes(id=c.new_id(), item="4", minutes=170), "sec")
    f = forecast(cons.state, cons.at("11:00"))
    assert f.days_left == 2 and f.minutes_left_today == 0
    assert [i.expected for i in f.items] == ["2021-06-08", "2021-06-08", "2021-06-08", "2021-06-09", "2021-06-09"]
    after = forecast(cons.state, cons.at("15:00", day=1))
    assert after.will_not_fit == ["1", "2", "3", "4", "5"] and after.overflow_minutes == 230
