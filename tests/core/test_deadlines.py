"""next_deadline and the tick: the core reports when something is due, the
shell ticks then, and a tick is idempotent."""

from corekit import MINUTE, SECOND, Consultation, interpreter, speaker
from vcc.core import next_deadline
from vcc_protocol import commands as c


def test_nothing_due_in_a_quiet_consultation(cons: Consultation) -> None:
    assert next_deadline(cons.state) is None
    assert cons.tick(cons.at("12:00")) == []
    assert cons.tick(cons.at("15:00", day=1)) == []


def test_tick_is_sent_by_the_shell_only(cons: Consultation) -> None:
    for actor in ("chair", "sec", "@admin", speaker("ch"), interpreter("en"), "tech"):
        assert cons.reject(c.Tick(id=c.new_id()), actor) == "not_allowed"


def test_the_slot_end_is_due_while_a_sitting_is_open(cons: Consultation) -> None:
    cons.open_sitting(0, "12:30")
    assert next_deadline(cons.state) == cons.at("15:00")


def test_earliest_deadline_first(sitting: Consultation) -> None:
    sitting.run(c.TakeBoothDuty(id=c.new_id()), interpreter("fr"))  # turn ends 12:30
    sitting.hand(speaker("at"))
    sitting.grant()
    sitting.advance(sitting.at("12:20"))
    sitting.go_live(speaker("at"))  # limit passes 12:22
    assert next_deadline(sitting.state) == sitting.at("12:22")
    assert sitting.kinds(sitting.advance(sitting.at("12:40"))) == ["SpeakingTimeExceeded", "HandoverDue"]
    assert next_deadline(sitting.state) == sitting.at("15:00")


def test_a_tick_before_the_deadline_does_nothing(sitting: Consultation) -> None:
    sitting.booth_live("en")
    ended = sitting.speak("ch", seconds=10)
    deadline = next_deadline(sitting.state)
    assert deadline == ended.tail_until
    assert sitting.tick(deadline - 1) == []
    assert sitting.kinds(sitting.tick(deadline)) == ["InterpretationTailEnded"]


def test_a_second_tick_at_the_same_time_emits_nothing() -> None:
    cons = Consultation(auto_cut=True)
    cons.open_sitting(0, "12:00")
    cons.take_up(3)
    for lang in ("en", "fr"):
        cons.booth_live(lang)
    cons.hand(speaker("ch"))
    # The shell was down from 12:00: no tick came for the turns, nor for the limit.
    cons.run(c.GrantFloor(id=c.new_id()), "chair", at=cons.at("14:58"))
    cons.run(c.GoLive(id=c.new_id()), speaker("ch"), at=cons.at("14:58:10"))
    # Everything falls due at once: the turns, the limit, the slot end (which cuts the speech).
    at = cons.at("15:05")
    first = cons.tick(at)
    assert cons.kinds(first) == ["SpeechEnded", "SittingClosed", "HandoverDue", "HandoverDue"]
    assert cons.tick(at) == []
    assert cons.tick(at) == []
    # The cut speech's tail is the one thing left, 4 s later.
    assert next_deadline(cons.state) == at + 4 * SECOND
    assert cons.kinds(cons.tick(at + 4 * SECOND)) == ["InterpretationTailEnded"]
    assert cons.tick(at + 4 * SECOND) == [] and next_deadline(cons.state) is None


def test_every_tick_at_a_deadline_changes_something(sitting: Consultation) -> None:
    # ``advance`` ticks at each deadline and asserts that the tick did something.
    sitting.booth_live("zh")
    sitting.hand(speaker("us"))
    sitting.grant()
    sitting.go_live(speaker("us"))
    events = sitting.advance(sitting.at("15:30"))
    assert sitting.kinds(events) == ["SpeakingTimeExceeded", "HandoverDue", "SpeechEnded", "SittingClosed", "InterpretationTailEnded"]
    assert next_deadline(sitting.state) is None
    assert sitting.state.speeches[-1].duration_ms == 3 * 60 * MINUTE
