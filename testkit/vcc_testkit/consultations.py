"""Consultations for live tests: the demo roster and 2021 agenda, with a slot
that is open *now* whatever the hour, so the tests never depend on the time
of day they run at."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from vcc.documents import importers
from vcc_protocol import commands as c


def midday_zone(now_ms: int) -> tuple[str, datetime]:
    """A fixed-offset IANA zone in which ``now`` is between 06:00 and 18:00, and the local time there."""
    utc = datetime.fromtimestamp(now_ms / 1000, UTC)
    for hours in range(-12, 15):
        local = utc + timedelta(hours=hours)
        if 6 <= local.hour < 18:
            # IANA's Etc zones have inverted signs: Etc/GMT-2 is UTC+2.
            name = "Etc/GMT" + (f"-{hours}" if hours > 0 else f"+{-hours}" if hours < 0 else "")
            return (name if hours else "UTC"), local
    raise AssertionError("unreachable: some offset always puts now at midday")


def live_commands(now_ms: int, *, tail_ms: int = 4_000, extra: list[c.Command] | None = None) -> list[c.Command]:
    """Create the consultation (today only, slot from an hour ago to three hours
    from now), import the demo roster and the group-1 agenda, open the sitting."""
    tz, local = midday_zone(now_ms)
    start = (local - timedelta(hours=1)).strftime("%H:%M")
    end = (local + timedelta(hours=3)).strftime("%H:%M")
    agenda = importers.example("c21-vcc1-agenda.json")
    return [
        c.CreateConsultation(
            id=c.new_id(),
            code="TEST",
            title="Live test",
            days=[local.date().isoformat()],
            slot_start=start,
            slot_end=end,
            tz=tz,
            tail_ms=tail_ms,
            contributions_deadline=local.date().isoformat(),
        ),
        *importers.roster_from_csv(importers.example("roster-demo.csv")),
        c.AddParticipant(id=c.new_id(), participant="helpdesk", name="Help desk", role="technical", contact="helpdesk@example.org"),
        *importers.items_from_agenda_json(agenda),
        c.PlanAgenda(id=c.new_id()),
        c.OpenSitting(id=c.new_id()),
        *(extra or []),
    ]


#: Participants of the demo roster used by the tests, by what they are.
CHAIR = "presiding-vice-chair"
COUNCIL = ["argentina-delegate-1", "brazil-delegate-1", "canada-delegate-1"]
COUNCIL_NON_SPEAKER = "argentina-delegate-2"
OBSERVER_STATE = "chile-delegate-1"
OBSERVER = "palestine-delegate-1"
SECTOR = "orbital-relay-networks-ltd-delegate-1"
INTERPRETER = {lang: f"interpreter-{lang}-1" for lang in ("ar", "zh", "en", "fr", "ru", "es")}
PARTNER = {lang: f"interpreter-{lang}-2" for lang in ("ar", "zh", "en", "fr", "ru", "es")}
SECRETARIAT = "council-secretariat-1"
TECHNICAL = "technical-support-1"
FRENCH_SPEAKER = "cameroon-delegate-1"
CAPTIONER = "captioner-1"
