"""The technical report of a rehearsal or a sitting: who took part, who spoke,
how long it took to get the floor, what failed and why, and the connection
tests. A fold over the same state as everything else."""

from __future__ import annotations

import html
import io
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from vcc_protocol.state import ConsultationState

from .captions import Caption, coverage_line

#: Time-to-floor bins, in seconds: the rehearsal's goal was under 3 s, many took ~20 s.
BINS = ((0, 3), (3, 5), (5, 10), (10, 20), (20, None))
STATE_CLASSES = ("council_member", "observer_state", "observer")
#: The state records failed attempts as codes; the report words them.
FAILURE_WHAT = {"grant_not_taken_up": "the floor was granted but not taken up"}
FAILURE_CAUSE = {"sitting_closed": "the sitting closed {s} s after the grant", "revoked": "revoked by the chair after {s} s"}
#: A connection test's audio round trip through the media server that failed, and why, in the report's words.
MEDIA_FAILURES = {
    "failed": "no audio through the media server and back (no ICE connection, or nothing came back): a firewall blocks UDP; TURN over TCP/TLS 443 is needed",
    "unavailable": "the media server was down during the test",
}


@dataclass(frozen=True)
class SpeechLine:
    speaker: str
    delegation: str
    item: str
    time_to_floor_s: float
    duration_s: float
    reason: str


@dataclass(frozen=True)
class Failure:
    delegation: str
    what: str
    cause: str


@dataclass(frozen=True)
class TestLine:
    participant: str
    transport: str
    rtt_ms: float
    jitter_ms: float
    microphone: str
    camera: str
    browser: str
    websocket_ok: bool


@dataclass(frozen=True)
class TechnicalReport:
    code: str
    headline: str
    #: (region, delegations that took part, participants that took part)
    regions: list[tuple[str, int, int]]
    speeches: list[SpeechLine]
    histogram: list[tuple[str, int]]
    time_to_floor_summary: str
    failures: list[Failure]
    tests: list[TestLine]
    connection_summary: str
    #: Caption lines and coverage (the share of speaking time captioned).
    captions_summary: str


def build(state: ConsultationState, captions: Sequence[Caption] = ()) -> TechnicalReport:
    """:param captions: the caption record (``captions.record`` over the log), for the coverage."""
    took_part = set(state.attendance) | set(state.connection_tests) | {s.participant for s in state.speeches}
    people = [state.participants[p] for p in took_part if p in state.participants]
    delegations = {p.delegation for p in people if p.delegation}
    states = {d for d in delegations if state.delegations[d].cls in STATE_CLASSES}
    speaking = {s.delegation for s in state.speeches if state.delegations[s.delegation].cls in STATE_CLASSES}
    headline = (
        f"{len(people)} participants from {len(states)} states, speakers from {len(speaking)} states ({len(state.speeches)} speeches)."
    )
    regions: dict[str, tuple[set[str], int]] = {}
    for person in people:
        if person.delegation:
            region = state.delegations[person.delegation].region or "—"
            seen, count = regions.get(region, (set(), 0))
            regions[region] = (seen | {person.delegation}, count + 1)
    speeches = [
        SpeechLine(
            state.participants[s.participant].name,
            state.delegations[s.delegation].name,
            s.item,
            s.time_to_floor_ms / 1000,
            s.duration_ms / 1000,
            s.reason.replace("_", " "),
        )
        for s in state.speeches
    ]
    times = [s.time_to_floor_s for s in speeches]
    histogram = [
        (f"{low}-{high} s" if high else f"{low} s and more", sum(1 for t in times if t >= low and (high is None or t < high)))
        for low, high in BINS
    ]
    if times:
        under = sum(1 for t in times if t < 3)
        ttf = f"Median {statistics.median(times):.1f} s, slowest {max(times):.1f} s; {under} of {len(times)} speakers took the floor in under 3 s (the goal)."
    else:
        ttf = "Nobody has spoken yet."
    failures = (
        [
            Failure(state.delegations[f.delegation].name, FAILURE_WHAT[f.what], FAILURE_CAUSE[f.cause].format(s=round(f.waited_ms / 1000)))
            for f in state.failed_attempts
        ]
        + [
            Failure(
                state.delegations[state.participants[p].delegation].name
                if state.participants[p].delegation
                else state.participants[p].name,
                "connection test",
                "websockets blocked by the local network (firewall); the long-polling fallback was used",
            )
            for p, t in state.connection_tests.items()
            if not t.websocket_ok and p in state.participants
        ]
        + [
            Failure(
                state.delegations[state.participants[p].delegation].name
                if state.participants[p].delegation
                else state.participants[p].name,
                "connection test",
                MEDIA_FAILURES[t.media],
            )
            for p, t in state.connection_tests.items()
            if t.media in MEDIA_FAILURES and p in state.participants
        ]
    )
    tests = [
        TestLine(
            state.participants[p].name,
            t.transport or "—",
            t.rtt_ms or 0.0,
            t.jitter_ms or 0.0,
            t.microphone or "—",
            t.camera or "—",
            t.browser or "—",
            t.websocket_ok,
        )
        for p, t in state.connection_tests.items()
        if p in state.participants
    ]
    blocked = sum(1 for t in tests if not t.websocket_ok)
    rtts = [t.rtt_ms for t in tests]
    connection = f"{len(tests)} connection tests; {blocked} with websockets blocked" + (
        f"; median round trip {statistics.median(rtts):.0f} ms" if rtts else ""
    )
    audio = [t for p, t in state.connection_tests.items() if t.media is not None and p in state.participants]
    if audio:
        failed = sum(1 for t in audio if t.media in MEDIA_FAILURES)
        trips = [t.media_rtt_ms for t in audio if t.media_rtt_ms is not None]
        connection += f"; {len(audio)} audio round trips through the media server, {failed} failed" + (
            f", median {statistics.median(trips):.0f} ms" if trips else ""
        )
    connection += "."
    return TechnicalReport(
        state.code,
        headline,
        sorted((r, len(d), n) for r, (d, n) in regions.items()),
        speeches,
        histogram,
        ttf,
        failures,
        tests,
        connection,
        coverage_line(captions, state),
    )


def histogram_png(report: TechnicalReport) -> bytes:
    """The time-to-floor distribution as a bar chart (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    labels, counts = zip(*report.histogram, strict=True)
    figure, axes = plt.subplots(figsize=(6, 2.6), dpi=120)
    axes.bar(labels, counts, color=["#15803d", "#65a30d", "#ca8a04", "#ea580c", "#b91c1c"])
    axes.set_ylabel("speeches")
    axes.set_title("Time to floor (grant -> first heard)")
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    plt.close(figure)
    return out.getvalue()


def to_markdown(report: TechnicalReport) -> str:
    lines = [
        f"# Technical report: {report.code}",
        "",
        report.headline,
        "",
        "## Participants by region",
        "",
        "| region | delegations | participants |",
        "| --- | --- | --- |",
    ]
    lines += [f"| {r} | {d} | {p} |" for r, d, p in report.regions]
    lines += ["", "## Time to floor", "", report.time_to_floor_summary, "", "| time to floor | speeches |", "| --- | --- |"]
    lines += [f"| {label} | {'#' * count} {count} |" for label, count in report.histogram]
    lines += ["", "| speaker | delegation | item | time to floor (s) | duration (s) | ended |", "| --- | --- | --- | --- | --- | --- |"]
    lines += [
        f"| {s.speaker} | {s.delegation} | {s.item} | {s.time_to_floor_s:.1f} | {s.duration_s:.0f} | {s.reason} |" for s in report.speeches
    ]
    lines += ["", "## Captions", "", report.captions_summary]
    lines += ["", "## Failed attempts", ""]
    lines += [f"- {f.delegation}: {f.what} — {f.cause}" for f in report.failures] or ["No failed attempt was recorded."]
    lines += [
        "",
        "## Connection tests",
        "",
        report.connection_summary,
        "",
        "| participant | transport | RTT (ms) | jitter (ms) | microphone | camera | browser |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {t.participant} | {t.transport} | {t.rtt_ms:.0f} | {t.jitter_ms:.0f} | {t.microphone} | {t.camera} | {t.browser} |"
        for t in report.tests
    ]
    return "\n".join(lines) + "\n"


def to_html(report: TechnicalReport) -> str:
    import base64

    h = html.escape
    chart = base64.b64encode(histogram_png(report)).decode()

    def table(header: list[str], rows: list[list[str]]) -> str:
        head = "".join(f"<th>{h(x)}</th>" for x in header)
        body = "".join("<tr>" + "".join(f"<td>{h(x)}</td>" for x in row) + "</tr>" for row in rows)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    return "".join(
        [
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
            f"<title>Technical report: {h(report.code)}</title>",
            "<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
            "table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #cbd5e1;padding:.25rem .5rem;text-align:left}</style></head><body>",
            f"<h1>Technical report: {h(report.code)}</h1><p>{h(report.headline)}</p>",
            "<h2>Participants by region</h2>",
            table(["region", "delegations", "participants"], [[r, str(d), str(p)] for r, d, p in report.regions]),
            f"<h2>Time to floor</h2><p>{h(report.time_to_floor_summary)}</p>",
            f"<img alt='Time to floor histogram' src='data:image/png;base64,{chart}'>",
            table(
                ["speaker", "delegation", "item", "time to floor (s)", "duration (s)", "ended"],
                [
                    [s.speaker, s.delegation, str(s.item), f"{s.time_to_floor_s:.1f}", f"{s.duration_s:.0f}", s.reason]
                    for s in report.speeches
                ],
            ),
            f"<h2>Captions</h2><p>{h(report.captions_summary)}</p>",
            "<h2>Failed attempts</h2>",
            table(["delegation", "what", "cause"], [[f.delegation, f.what, f.cause] for f in report.failures])
            if report.failures
            else "<p>No failed attempt was recorded.</p>",
            f"<h2>Connection tests</h2><p>{h(report.connection_summary)}</p>",
            table(
                ["participant", "transport", "RTT (ms)", "jitter (ms)", "microphone", "camera", "browser"],
                [
                    [t.participant, t.transport, f"{t.rtt_ms:.0f}", f"{t.jitter_ms:.0f}", t.microphone, t.camera, t.browser]
                    for t in report.tests
                ],
            ),
            "</body></html>",
        ]
    )
