"""Captions: bounded, rate-limited lines, correctable for a short window, in an open sitting."""

import pytest
from corekit import Consultation, builtins, speaker
from vcc.core.captions import CORRECTION_WINDOW_MS, KEPT, MIN_GAP_MS
from vcc_protocol import commands as c
from vcc_protocol import events as e


def _sitting() -> Consultation:
    cons = Consultation()
    cons.open_sitting(0, "12:00")
    return cons


def test_a_line_is_numbered_and_belongs_to_the_open_sitting() -> None:
    cons = _sitting()
    (first,) = cons.run(c.PostCaption(id=c.new_id(), text="The chair opens the sitting."), "cap")
    cons.later(1)
    (second,) = cons.run(c.PostCaption(id=c.new_id(), text="Item three."), "cap")
    assert isinstance(first, e.CaptionPosted) and isinstance(second, e.CaptionPosted)
    assert (first.line, second.line) == (1, 2)
    assert first.sitting == "2021-06-08"
    assert [line.text for line in cons.state.captions] == ["The chair opens the sitting.", "Item three."]
    assert cons.refolded() == builtins(cons.state)


@pytest.mark.rule("captions._one_line")
def test_a_line_is_one_line_of_text() -> None:
    cons = _sitting()
    (event,) = cons.run(c.PostCaption(id=c.new_id(), text="  Switzerland\n supports\tthe proposal. "), "cap")
    assert isinstance(event, e.CaptionPosted) and event.text == "Switzerland supports the proposal."
    cons.later(1)
    assert cons.reject(c.PostCaption(id=c.new_id(), text=" \n "), "cap") == "invalid_value"


def test_only_in_an_open_sitting() -> None:
    cons = Consultation()
    assert cons.reject(c.PostCaption(id=c.new_id(), text="Hello"), "cap") == "outside_sitting"


def test_lines_are_rate_limited_and_a_refusal_changes_nothing() -> None:
    cons = _sitting()
    cons.run(c.PostCaption(id=c.new_id(), text="One."), "cap")
    cons.now += MIN_GAP_MS - 1
    assert cons.reject(c.PostCaption(id=c.new_id(), text="Two."), "cap") == "captions_too_fast"
    assert cons.reject(c.CorrectCaption(id=c.new_id(), line=1, text="One!"), "cap") == "captions_too_fast"
    cons.now += 1
    assert cons.run(c.PostCaption(id=c.new_id(), text="Two."), "cap")


def test_a_correction_replaces_the_line_within_the_window() -> None:
    cons = _sitting()
    cons.run(c.PostCaption(id=c.new_id(), text="The delegate of Swizerland."), "cap")
    posted_at = cons.now
    cons.now = posted_at + CORRECTION_WINDOW_MS
    (event,) = cons.run(c.CorrectCaption(id=c.new_id(), line=1, text="The delegate of Switzerland."), "cap")
    assert isinstance(event, e.CaptionCorrected)
    (line,) = cons.state.captions
    assert (line.text, line.at, line.corrected_at) == ("The delegate of Switzerland.", posted_at, cons.now)
    cons.now = posted_at + CORRECTION_WINDOW_MS + 1
    assert cons.reject(c.CorrectCaption(id=c.new_id(), line=1, text="Too late."), "cap") == "correction_closed"
    assert cons.reject(c.CorrectCaption(id=c.new_id(), line=2, text="Not yet."), "cap") == "unknown_caption"


def test_the_state_keeps_every_correctable_line_and_no_more() -> None:
    cons = _sitting()
    cons.strict = False
    for n in range(KEPT + 10):
        cons.run(c.PostCaption(id=c.new_id(), text=f"Line {n + 1}."), "cap")
        cons.now += MIN_GAP_MS
    assert len(cons.state.captions) == KEPT and cons.state.captions[-1].line == KEPT + 10
    # The oldest line still in the window is in the state: the fastest captioner
    # cannot push a correctable line out.
    oldest_correctable = cons.state.caption_count - CORRECTION_WINDOW_MS // MIN_GAP_MS
    assert cons.state.captions[0].line <= oldest_correctable
    assert cons.run(c.CorrectCaption(id=c.new_id(), line=oldest_correctable + 1, text="Fixed."), "cap")


def test_only_captioners_write_captions() -> None:
    cons = _sitting()
    assert cons.reject(c.PostCaption(id=c.new_id(), text="Hello"), speaker("ch")) == "not_allowed"
    assert cons.reject(c.PostCaption(id=c.new_id(), text="Hello"), "chair") == "not_allowed"


def test_the_webcast_view_shows_the_floor_by_name_and_nothing_private() -> None:
    from vcc.core.views import WEBCAST_CAPTIONS, webcast_view

    cons = _sitting()
    cons.take_up("3")
    cons.hand(speaker("cn"))
    cons.hand(speaker("ch"))
    cons.grant()
    cons.go_live(speaker("cn"))
    for n in range(WEBCAST_CAPTIONS + 2):
        cons.later(1)
        cons.run(c.PostCaption(id=c.new_id(), text=f"Line {n + 1}."), "cap")
    view = webcast_view(cons.state)
    assert view["item"]["number"] == 3
    assert view["speaker"] == {"delegation": "China", "name": "China speaker", "language": "zh", "started_at": cons.state.speech.started_at}  # type: ignore[union-attr]
    assert view["queue"] == [{"delegation": "Switzerland", "point_of_order": False}]
    assert [line["line"] for line in view["captions"]] == list(range(3, WEBCAST_CAPTIONS + 3))
    assert "example.org" not in repr(view) and "cn-1" not in repr(view)
