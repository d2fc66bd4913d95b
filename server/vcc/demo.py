"""The demo consultation: the 2021 agenda and the demo roster, with the slot
shifted to start now so that it can be tried at any hour."""

from datetime import datetime, timedelta

from vcc_protocol import commands as c

from .core.clock import zone
from .documents import importers
from .documents.importers import slug

DEMO_TZ = "Europe/Zurich"


def demo_commands(now_ms: int) -> tuple[str, list[c.Command], str]:
    """(consultation id, the commands that build it, a sentence saying how the slot was shifted)."""
    agenda = importers.example("c21-vcc1-agenda.json")
    official = importers.consultation_from_agenda(agenda)
    local = datetime.fromtimestamp(now_ms / 1000, zone(DEMO_TZ))
    start = local.replace(second=0, microsecond=0)
    end = min(start + timedelta(hours=3), start.replace(hour=23, minute=59))
    days = [(start.date() + timedelta(days=i)).isoformat() for i in range(len(official.days))]
    note = (
        f"Demo mode: the slot was shifted to {start:%H:%M}-{end:%H:%M} {DEMO_TZ} starting today "
        f"(the rules say {official.slot_start}-{official.slot_end}) so that the demo can be tried at any hour."
    )
    create = c.CreateConsultation(
        id=c.new_id(),
        code=f"{official.code} demo",
        title=official.title,
        days=days,
        slot_start=f"{start:%H:%M}",
        slot_end=f"{end:%H:%M}",
        tz=DEMO_TZ,
        note=note,
        rules_slot=f"{official.slot_start}-{official.slot_end}",
    )
    consultation = f"demo-{slug(official.code)}-{start:%Y%m%d-%H%M}"
    commands: list[c.Command] = [create, *importers.roster_from_csv(importers.example("roster-demo.csv"))]
    commands += importers.items_from_agenda_json(agenda)
    commands += [c.PlanAgenda(id=c.new_id()), c.OpenSitting(id=c.new_id())]
    return consultation, commands, note


#: Commands the demo's chair sends once the consultation exists: the first item is taken up.
def chair_opening(first_item: str) -> list[c.Command]:
    return [c.TakeUpItem(id=c.new_id(), item=first_item)]
