"""Captions and the webcast: the floor in text, written line by line by a captioner (a human
writer or a machine-captioning process with its own token).

Rules: a line is at most 200 characters (the protocol) of one line of text;
lines and corrections together come at most one per ``MIN_GAP_MS`` (every line
goes to every screen and the webcast, so one captioner cannot flood them); a
line may be corrected, by any captioner, for ``CORRECTION_WINDOW_MS`` after it
was posted, and only in an open sitting. The state keeps the last ``KEPT``
lines, which always include every line still correctable:
``CORRECTION_WINDOW_MS / MIN_GAP_MS`` < ``KEPT``.

The public webcast page serves a consultation only once the secretariat has
opened it (``SetWebcast``); what it shows is ``views.webcast_view``.
"""

from vcc_protocol import commands as c
from vcc_protocol import events as e
from vcc_protocol.state import CaptionLine, ConsultationState

from .actors import Actor
from .clock import require_open_sitting
from .rejections import Rejected

MIN_GAP_MS = 500
CORRECTION_WINDOW_MS = 30_000
KEPT = 64
assert CORRECTION_WINDOW_MS // MIN_GAP_MS < KEPT


def _one_line(text: str) -> str:
    """Rule: a caption is one line of text; line breaks and runs of spaces become one space."""
    line = " ".join(text.split())
    if not line:
        raise Rejected("invalid_value", "A caption line needs some text.")
    return line


def _check_rate(state: ConsultationState, now: int) -> None:
    if state.caption_last_at is not None and now - state.caption_last_at < MIN_GAP_MS:
        raise Rejected(
            "captions_too_fast",
            f"Captions come at most one line every {MIN_GAP_MS} ms; join short phrases into one line (up to 200 characters) and send it again.",
        )


def post_caption(state: ConsultationState, cmd: c.PostCaption, actor: Actor, now: int) -> list[e.Event]:
    require_open_sitting(state, now, "post captions")
    text = _one_line(cmd.text)
    _check_rate(state, now)
    assert state.sitting is not None
    return [e.CaptionPosted(at=now, actor=actor.id, line=state.caption_count + 1, sitting=state.sitting.day, text=text)]


def correct_caption(state: ConsultationState, cmd: c.CorrectCaption, actor: Actor, now: int) -> list[e.Event]:
    require_open_sitting(state, now, "correct captions")
    text = _one_line(cmd.text)
    if cmd.line > state.caption_count:
        raise Rejected("unknown_caption", f"There is no caption line {cmd.line} yet; the latest is line {state.caption_count}.")
    line = next((kept for kept in state.captions if kept.line == cmd.line), None)
    if line is None or now - line.at > CORRECTION_WINDOW_MS:
        raise Rejected(
            "correction_closed",
            f"Line {cmd.line} can no longer be corrected: a line can be corrected for {CORRECTION_WINDOW_MS // 1000} s after it was posted. Post the correction as a new line.",
        )
    _check_rate(state, now)
    return [e.CaptionCorrected(at=now, actor=actor.id, line=cmd.line, text=text)]


def set_webcast(state: ConsultationState, cmd: c.SetWebcast, actor: Actor, now: int) -> list[e.Event]:
    if state.webcast == cmd.public:
        return []
    return [e.WebcastSet(at=now, actor=actor.id, public=cmd.public)]


def _posted(state: ConsultationState, ev: e.CaptionPosted) -> None:
    state.captions.append(CaptionLine(line=ev.line, sitting=ev.sitting, at=ev.at, text=ev.text, by=ev.actor))
    if len(state.captions) > KEPT:
        del state.captions[0]
    state.caption_count = ev.line
    state.caption_last_at = ev.at


def _corrected(state: ConsultationState, ev: e.CaptionCorrected) -> None:
    for line in state.captions:
        if line.line == ev.line:
            line.text, line.corrected_at = ev.text, ev.at
    state.caption_last_at = ev.at


def _webcast_set(state: ConsultationState, ev: e.WebcastSet) -> None:
    state.webcast = ev.public


DECIDERS = {c.PostCaption: post_caption, c.CorrectCaption: correct_caption, c.SetWebcast: set_webcast}
APPLIERS = {e.CaptionPosted: _posted, e.CaptionCorrected: _corrected, e.WebcastSet: _webcast_set}
