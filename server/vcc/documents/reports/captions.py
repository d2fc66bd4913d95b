"""The caption record of a consultation, exported per sitting as WebVTT, and
the coverage figure of the technical report.

The state keeps only the latest lines (``vcc.core.captions.KEPT``); the whole
record is a fold over the caption events of the log (``record``).

Timing: a cue starts when its line was posted and ends when the next line of
the same sitting was posted, after ``CUE_MAX_MS`` at most, or at the sitting's
end. Times are relative to the sitting's opening, in the clock of the events:
the floor audio of a recording of the sitting starts at that moment
(``docs/webcast.md``).

Coverage: the share of speaking time (the recorded speeches) during which a
caption cue was showing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from vcc_protocol import events as e
from vcc_protocol.state import ConsultationState, Sitting

#: The longest a line stays on screen when no next line replaces it.
CUE_MAX_MS = 7_000


@dataclass(frozen=True)
class Caption:
    line: int
    sitting: str
    at: int
    text: str
    corrected_at: int | None = None


@dataclass(frozen=True)
class Cue:
    line: int
    start_ms: int
    end_ms: int
    text: str


def record(events: Iterable[e.Event]) -> list[Caption]:
    """Every caption line of the log, as last corrected, in order."""
    lines: dict[int, Caption] = {}
    for event in events:
        if isinstance(event, e.CaptionPosted):
            lines[event.line] = Caption(event.line, event.sitting, event.at, event.text)
        elif isinstance(event, e.CaptionCorrected):
            lines[event.line] = replace(lines[event.line], text=event.text, corrected_at=event.at)
    return list(lines.values())


def sitting_of(state: ConsultationState, day: str) -> Sitting | None:
    if state.sitting is not None and state.sitting.day == day:
        return state.sitting
    return next((s for s in reversed(state.sittings) if s.day == day), None)


def _end(sitting: Sitting) -> int:
    return sitting.closed_at if sitting.closed_at is not None else sitting.ends_at


def cues(captions: Sequence[Caption], sitting: Sitting) -> list[Cue]:
    """The sitting's lines as cues, in ms from the sitting's opening."""
    mine = [c for c in captions if c.sitting == sitting.day and sitting.opened_at <= c.at <= _end(sitting)]
    out = []
    for index, caption in enumerate(mine):
        end = min(caption.at + CUE_MAX_MS, _end(sitting))
        if index + 1 < len(mine):
            end = min(end, mine[index + 1].at)
        out.append(Cue(caption.line, caption.at - sitting.opened_at, end - sitting.opened_at, caption.text))
    return out


def _timestamp(ms: int) -> str:
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1_000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def _escape(text: str) -> str:
    """WebVTT cue text: ``&``, ``<`` and ``>`` are markup (so ``-->`` cannot end a cue early)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_webvtt(cue_list: Sequence[Cue], title: str) -> str:
    out = [f"WEBVTT - {_escape(title)}", ""]
    for cue in cue_list:
        out += [str(cue.line), f"{_timestamp(cue.start_ms)} --> {_timestamp(cue.end_ms)}", _escape(cue.text), ""]
    return "\n".join(out)


def coverage(captions: Sequence[Caption], state: ConsultationState) -> tuple[int, int]:
    """(captioned speaking ms, speaking ms) over the recorded speeches of every sitting."""
    sittings = [*state.sittings, *([state.sitting] if state.sitting is not None else [])]
    shown = [(cue.start_ms + s.opened_at, cue.end_ms + s.opened_at) for s in sittings for cue in cues(captions, s)]
    speaking = [(s.started_at, s.started_at + s.duration_ms) for s in state.speeches]
    return _overlap(shown, speaking), sum(end - start for start, end in speaking)


def _overlap(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> int:
    """Total overlap of two lists of disjoint intervals, each in order."""
    total, i, j = 0, 0, 0
    while i < len(a) and j < len(b):
        total += max(0, min(a[i][1], b[j][1]) - max(a[i][0], b[j][0]))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return total


def coverage_line(captions: Sequence[Caption], state: ConsultationState) -> str:
    captioned, speaking = coverage(captions, state)
    if not speaking:
        return f"{len(captions)} caption lines; nobody has spoken yet."
    return f"{len(captions)} caption lines; {captioned / speaking:.0%} of speaking time captioned ({captioned / 1000:.0f} s of {speaking / 1000:.0f} s)."


__all__ = ["CUE_MAX_MS", "Caption", "Cue", "coverage", "coverage_line", "cues", "record", "sitting_of", "to_webvtt"]
