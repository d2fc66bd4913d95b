"""The technical report counts the connection tests whose audio could not go through the
media server and back, and says why, beside the other failures."""

from vcc.documents.reports import technical
from vcc_protocol import commands as c

from tests.core.corekit import Consultation, member, speaker


def connection_test(media: str | None, media_rtt_ms: float | None = None, websocket_ok: bool = True) -> c.RecordConnectionTest:
    return c.RecordConnectionTest(
        id=c.new_id(),
        transport="websocket",
        websocket_ok=websocket_ok,
        rtt_ms=40,
        jitter_ms=2,
        clock_offset_ms=0,
        microphone="ok",
        camera="ok",
        input_level=0.2,
        browser="Chromium 126",
        media=media,
        media_rtt_ms=media_rtt_ms,  # type: ignore[arg-type]
    )


def test_media_failures_are_counted_and_explained() -> None:
    cons = Consultation()
    cons.run(connection_test("ok", 310), speaker("ch"))
    cons.run(connection_test("ok", 250), member("ch"))
    cons.run(connection_test("failed"), speaker("cn"))
    cons.run(connection_test("unavailable"), member("cn"))
    cons.run(connection_test(None), "chair")  # an older client: no audio round trip, counted nowhere
    report = technical.build(cons.state)
    assert report.connection_summary == (
        "5 connection tests; 0 with websockets blocked; median round trip 40 ms; "
        "4 audio round trips through the media server, 2 failed, median 280 ms."
    )
    causes = [f.cause for f in report.failures if f.what == "connection test"]
    assert len(causes) == 2 and any("TURN over TCP/TLS 443" in cause for cause in causes) and any("down" in cause for cause in causes)
    assert "2 failed" in technical.to_markdown(report)


def test_no_audio_round_trip_no_audio_line() -> None:
    cons = Consultation()
    cons.run(connection_test(None), speaker("ch"))
    assert technical.build(cons.state).connection_summary == "1 connection tests; 0 with websockets blocked; median round trip 40 ms."
