"""Running an import: the file planned against the consultation, validated whole, appended once.

Shared by ``vcc import`` and the HTTP API. A file is imported all or nothing:
its entries are compared with the consultation (``importers.plan_import``),
every command that follows is decided in order on a copy of the state, and
only if all are accepted are their events appended, in one durable write. A
refusal leaves the store exactly as it was and names the entry at fault.
Importing the same file again finds nothing to do and says so; a changed file
applies only its differences, and a dry run shows them without writing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vcc_protocol import commands as c
from vcc_protocol.vocabulary import ADMIN_ACTOR

from ..service import Service
from .importers import Entry, plan_import


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an import did (or, in a dry run, would do).

    ``code`` is empty when it succeeded, otherwise a stable error code
    (``vcc_protocol.errors``). ``lines`` are the details for people: ``+``
    added, ``~`` changed, ``!`` a difference import cannot make.
    """

    message: str
    code: str = ""
    lines: list[str] = field(default_factory=list)
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    seq: int | None = None
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.code


def describe(command: c.Command) -> str:
    """Which entry of an import a command came from, in words."""
    for name in ("participant", "delegation", "item", "code"):
        value = getattr(command, name, None)
        if value is not None:
            return f"{command.__struct_config__.tag} {name}={value!r}"
    return str(command.__struct_config__.tag)


async def run_import(service: Service, consultation: str, entries: list[Entry], *, dry_run: bool = False) -> Outcome:
    """Import ``entries`` into ``consultation`` all or nothing (see the module's docstring)."""
    # Kept loaded from the plan to its write: both read the same state.
    async with service.holding(consultation) as runtime:
        plan = plan_import(runtime.state, entries)
        lines = [f"+ {what}" for what in plan.added] + [f"~ {what}" for what in plan.changed]

        def outcome(message: str, code: str = "", seq: int | None = None, more: list[str] | None = None) -> Outcome:
            return Outcome(message, code, lines + (more or []), len(plan.added), len(plan.changed), plan.unchanged, seq, dry_run)

        if plan.refused:
            return outcome(
                f"{len(plan.refused)} difference(s) between the file and the consultation {consultation} cannot be made by import; nothing was imported.",
                "already_exists",
                more=[f"! {why}" for why in plan.refused],
            )
        if not plan.entries:
            return outcome(
                f"Already imported, nothing changed: the file's {plan.unchanged} entries match the consultation {consultation}.",
                seq=runtime.seq,
            )
        answer = await runtime.execute_atomically([entry.command for entry in plan.entries], ADMIN_ACTOR, dry_run=dry_run)
        if not answer["ok"]:
            err = answer["error"]
            at = plan.entries[answer["index"]] if "index" in answer else None
            where = f"{at.where} ({describe(at.command)}): " if at is not None else ""
            return outcome(f"{where}{err['message']} Nothing was imported; correct the file and import it again.", err["code"])
        summary = f"{len(plan.added)} added, {len(plan.changed)} changed, {plan.unchanged} unchanged"
        if dry_run:
            return outcome(f"Dry run, nothing changed: importing the file into {consultation} would make {summary}.", seq=answer["seq"])
        return outcome(f"Imported into {consultation}: {summary} (log at seq {answer['seq']}).", seq=answer["seq"])
