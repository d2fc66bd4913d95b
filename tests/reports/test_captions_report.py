"""The caption record: WebVTT per sitting, timed from the sitting's opening,
with corrections applied, and the coverage of speaking time in the technical report."""

from vcc.documents.reports import captions, technical
from vcc_protocol import commands as c

from tests.core.corekit import Consultation, speaker


def _captioned_sitting() -> Consultation:
    cons = Consultation()
    cons.open_sitting(0, "12:00")
    cons.take_up("3")
    cons.run(c.PostCaption(id=c.new_id(), text="The chair opens the sitting."), "cap", at=cons.at("12:00:02"))
    cons.run(c.PostCaption(id=c.new_id(), text="Switzerland has the flor."), "cap", at=cons.at("12:00:04.5"))
    cons.run(c.CorrectCaption(id=c.new_id(), line=2, text="Switzerland has the floor & speaks <briefly>."), "cap", at=cons.at("12:00:10"))
    cons.run(c.PostCaption(id=c.new_id(), text="Thank you, Chair."), "cap", at=cons.at("12:01:00"))
    return cons


def test_webvtt_of_a_sitting_is_timed_from_its_opening_with_corrections() -> None:
    cons = _captioned_sitting()
    sitting = captions.sitting_of(cons.state, "2021-06-08")
    assert sitting is not None and sitting.opened_at == cons.at("12:00")
    vtt = captions.to_webvtt(captions.cues(captions.record(cons.events), sitting), "TEST/VCC 2021-06-08")
    assert vtt == "\n".join(
        [
            "WEBVTT - TEST/VCC 2021-06-08",
            "",
            "1",
            "00:00:02.000 --> 00:00:04.500",
            "The chair opens the sitting.",
            "",
            "2",
            "00:00:04.500 --> 00:00:11.500",
            "Switzerland has the floor &amp; speaks &lt;briefly&gt;.",
            "",
            "3",
            "00:01:00.000 --> 00:01:07.000",
            "Thank you, Chair.",
            "",
        ]
    )


def test_a_sitting_holds_only_its_own_lines() -> None:
    cons = _captioned_sitting()
    cons.run(c.CloseSitting(id=c.new_id()), "chair", at=cons.at("12:30"))
    cons.open_sitting(1, "12:00")
    cons.run(c.PostCaption(id=c.new_id(), text="Second day."), "cap", at=cons.at("12:00:01", 1))
    record = captions.record(cons.events)
    first = captions.cues(record, captions.sitting_of(cons.state, "2021-06-08"))  # type: ignore[arg-type]
    second = captions.cues(record, captions.sitting_of(cons.state, "2021-06-09"))  # type: ignore[arg-type]
    assert [cue.line for cue in first] == [1, 2, 3]
    assert [(cue.line, cue.start_ms) for cue in second] == [(4, 1_000)]


def test_coverage_is_the_share_of_speaking_time_with_a_caption_showing() -> None:
    cons = Consultation()
    cons.open_sitting(0, "12:00")
    cons.take_up("3")
    cons.hand(speaker("ch"))
    cons.grant()
    cons.run(c.GoLive(id=c.new_id()), speaker("ch"), at=cons.at("12:01"))
    # 20 s of speech: lines at +2 s and +9 s show 7 s each (no line follows within 7 s).
    cons.run(c.PostCaption(id=c.new_id(), text="Mr Chair,"), "cap", at=cons.at("12:01:02"))
    cons.run(c.PostCaption(id=c.new_id(), text="we support the proposal."), "cap", at=cons.at("12:01:09"))
    cons.run(c.YieldFloor(id=c.new_id()), speaker("ch"), at=cons.at("12:01:20"))
    captioned, speaking = captions.coverage(captions.record(cons.events), cons.state)
    assert (captioned, speaking) == (14_000, 20_000)
    report = technical.build(cons.state, captions.record(cons.events))
    assert report.captions_summary == "2 caption lines; 70% of speaking time captioned (14 s of 20 s)."
    assert "## Captions" in technical.to_markdown(report)
