"""The full service as a benchmark target: stores, tokens, the chair, batch times.

Shared by ``bench_fanout.py`` (target "vcc"), ``bench_burst.py`` and
``bench_service.py``. Everything here runs in the harness process; the
server is always a separate ``vcc serve`` process on a store built here.

- ``prepare_store``: an embedded store holding one consultation whose sitting
  is open *now* (``vcc_testkit.consultations.midday_zone``), the group-1
  agenda of the 2021 example, a roster (the demo roster, or a generated one
  of any number of delegations) and the first item taken up; returns the
  store's secret, from which tokens are minted (``token``).
- ``batch_ts``: the load generator's send-time extractor for the service's
  ``events`` batches (``{epoch, first, last, ts, events}``); other events
  (``welcome``, ``snapshot``, ``presence``) carry no send time and count as
  no sample.
- ``ChairThread``: a chair connected with the project's Python client
  (python-socketio) on an event loop in a thread of the harness, which
  changes the floor at a given rate: ``take_up_item`` alternating between two
  items (one event, one batch per command).
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import shutil
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench._common import REPO_DIR, SCRATCH_DIR, BroadcastRequest

if str(REPO_DIR) not in sys.path:
    sys.path.insert(0, str(REPO_DIR))

CONSULTATION = "bench"
CHAIR = "presiding-vice-chair"
ROSTER_COLUMNS = [
    "delegation",
    "delegation_class",
    "region",
    "sector",
    "voting_rights",
    "participant",
    "role",
    "designated_speaker",
    "language",
]


def batch_ts(data: list[Any]) -> Sequence[float]:
    """Send time of an ``events`` batch; nothing for other events."""
    if data[0] != "events":
        return ()
    return (data[1]["ts"],)


def burst_roster(council: int = 48, observer_states: int = 942, sectors: int = 3) -> str:
    """A roster CSV: ``council`` council members, ``observer_states`` observer
    states, the observer, ``sectors`` members in each of the 3 sectors, one
    designated-speaker delegate each; plus the demo roster's staff (chair,
    secretariat, technical, interpreters). Delegate ``k`` of class X is the
    participant ``<x>-<k>-delegate``."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(ROSTER_COLUMNS)

    def delegation(name: str, cls: str, sector: str = "", voting: bool = False) -> None:
        w.writerow([name, cls, "A", sector, "true" if voting else "false", f"{name} delegate", "delegate", "true", "en"])

    for i in range(council):
        delegation(f"Council {i:04d}", "council_member", voting=True)
    for i in range(observer_states):
        delegation(f"State {i:04d}", "observer_state")
    delegation("Observer 0000", "observer")
    for sector in ("R", "T", "D"):
        for i in range(sectors):
            delegation(f"Sector {sector} {i:04d}", "sector_member", sector=sector)
    demo = (REPO_DIR / "server" / "vcc" / "examples" / "roster-demo.csv").read_text(encoding="utf-8-sig")
    for row in csv.DictReader(io.StringIO(demo)):
        if not row["delegation"]:
            w.writerow([row[c] for c in ROSTER_COLUMNS])
    return out.getvalue()


def delegate_ids(roster_csv: str) -> list[tuple[str, str]]:
    """(participant id, delegation class) of every delegate, in roster order."""
    from vcc.documents.importers import slug

    return [(slug(r["participant"]), r["delegation_class"]) for r in csv.DictReader(io.StringIO(roster_csv)) if r["role"] == "delegate"]


async def _build(path: Path | str, roster_csv: str | None) -> bytes:
    from vcc.config import Config
    from vcc.documents import importers
    from vcc.service import Service
    from vcc.store import open_store
    from vcc_protocol import commands as c
    from vcc_protocol.vocabulary import ADMIN_ACTOR
    from vcc_testkit.consultations import midday_zone

    store = open_store(str(path))
    await store.open()
    service = Service(store)
    try:
        from datetime import timedelta

        tz, local = midday_zone(service.clock())
        start = (local - timedelta(hours=1)).strftime("%H:%M")
        end = (local + timedelta(hours=3)).strftime("%H:%M")
        roster = roster_csv or importers.example("roster-demo.csv")
        agenda = importers.example("c21-vcc1-agenda.json")
        commands: list[Any] = [
            c.CreateConsultation(
                id=c.new_id(),
                code="BENCH",
                title="Benchmark",
                days=[local.date().isoformat()],
                slot_start=start,
                slot_end=end,
                tz=tz,
                tail_ms=4_000,
                contributions_deadline=local.date().isoformat(),
            ),
            *importers.roster_from_csv(roster),
            *importers.items_from_agenda_json(agenda),
            c.PlanAgenda(id=c.new_id()),
            c.OpenSitting(id=c.new_id()),
        ]
        answers = await service.execute_all(CONSULTATION, commands, ADMIN_ACTOR)
        assert answers[-1]["ok"], answers[-1]
        runtime = await service.runtime(CONSULTATION)
        answer = await runtime.execute(c.TakeUpItem(id=c.new_id(), item=runtime.state.agenda[0]), CHAIR)
        assert answer["ok"], answer
    finally:
        await service.close()
        await store.close()
    return await Config(store=str(path)).secret()


def prepare_store(name: str, roster_csv: str | None = None, root: Path | None = None) -> tuple[Path, bytes]:
    """A fresh store under ``root`` (default bench/results/tmp/stores, on the
    repository's disk, so that fsync is real); (path, secret)."""
    path = (root or SCRATCH_DIR / "stores") / name
    shutil.rmtree(path, ignore_errors=True)
    path.unlink(missing_ok=True) if path.is_file() else None
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = asyncio.run(_build(path, roster_csv))
    return path, secret


def prepare_redis(url: str, roster_csv: str | None = None) -> bytes:
    """The same consultation in a (fresh) Redis store; the shared secret."""
    return asyncio.run(_build(url, roster_csv))


def event_at(data: list[Any]) -> Sequence[float]:
    """The decision times (``at``, ms) of an ``events`` batch's events, one
    sample each: the same on every node, unlike ``ts`` (each node stamps its
    own send time). A node that coalesced two changes into one batch still
    counts two deliveries."""
    if data[0] != "events":
        return ()
    return [event["at"] / 1000 for event in data[1]["events"]]


def agenda_items(path: Path | str) -> list[str]:
    async def read() -> list[str]:
        from vcc.service import Service
        from vcc.store import open_store

        store = open_store(str(path))
        await store.open()
        service = Service(store)
        try:
            return list((await service.runtime(CONSULTATION)).state.agenda)
        finally:
            await service.close()
            await store.close()

    return asyncio.run(read())


def token(secret: bytes, participant: str, role: str = "delegate", hours: float = 4) -> str:
    from vcc.auth.tokens import Claims, sign

    return sign(secret, Claims(participant, role, CONSULTATION, time.time_ns() // 1_000_000 + int(hours * 3_600_000)))


def admin_token(secret: bytes) -> str:
    from vcc.auth import links

    return links.admin_token(CONSULTATION, secret, time.time_ns() // 1_000_000)


def serve_argv(store: Path, port: int, without: Sequence[str] = (), with_: Sequence[str] = ()) -> list[str]:
    """``vcc serve`` on ``store``; ``without``: optimisations taken out, ``with_``:
    candidate ones put in (bench/_ablation_serve.py)."""
    serve = ["serve", "--store", str(store), "--port", str(port), "--no-media"]
    if without:
        return [sys.executable, "-m", "bench._ablation_serve", "--without", ",".join(without), *serve]
    if with_:
        return [sys.executable, "-m", "bench._ablation_serve", "--with", ",".join(with_), *serve]
    return [sys.executable, "-m", "vcc.cli", *serve]


def source_env(source: Path | None) -> dict[str, str]:
    """The environment that makes ``vcc serve`` run the code of another source
    tree (a checkout of an earlier commit), for before/after runs side by side:
    its ``server`` and ``protocol`` folders go ahead of this venv's editable
    install on the path. ``None``: this tree."""
    if source is None:
        return {}
    return {"PYTHONPATH": os.pathsep.join(str(source / folder) for folder in ("server", "protocol"))}


class ChairThread:
    """The chair's Python client on its own event loop in a thread."""

    def __init__(self, port: int, secret: bytes, items: Sequence[str]) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.secret = secret
        self.items = list(items)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.client: Any = None
        self.turn = 0

    def run(self, coro: Any, timeout: float) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def _connect(self) -> None:
        from vcc.client import ConsultationClient

        self.client = ConsultationClient(self.url, token(self.secret, CHAIR), reconnection=False)
        #: The chair's wall-clock send time of each acknowledged command, by its seq.
        self.sent_at: dict[int, float] = {}
        #: ``(first, last)`` of each ``events`` batch the chair received, by its ``ts``.
        self.batches: dict[float, tuple[int, int]] = {}
        applied = self.client.sio.handlers["/"]["events"]

        async def on_events(data: dict[str, Any]) -> None:
            self.batches[data["ts"]] = (data["first"], data["last"])
            await applied(data)

        self.client.sio.on("events", on_events)
        await self.client.connect(timeout=30)

    async def _timed(self, item: str) -> dict[str, Any]:
        sent = time.time()
        answer = await self.client.send("take_up_item", item=item, timeout=30)
        if answer.get("ok"):
            self.sent_at[answer["seq"]] = sent
        return answer

    async def _send_times(self) -> dict[float, float]:
        out = {}
        for ts, (first, last) in self.batches.items():
            sends = [self.sent_at[seq] for seq in range(first, last + 1) if seq in self.sent_at]
            if sends:
                out[ts] = min(sends)
        return out

    def send_times(self) -> dict[float, float]:
        """Per batch (by its ``ts``), when the chair sent the first command whose
        events it carries: the start of a latency that pays the command path."""
        return self.run(self._send_times(), 10)

    def connect(self) -> None:
        self.run(self._connect(), 60)

    async def _paced(self, count: int, rate: float) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        start = loop.time()
        refused: list[Any] = []
        pending = []
        for i in range(count):
            delay = start + i / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            self.turn += 1
            item = self.items[self.turn % 2]
            pending.append(loop.create_task(self._timed(item)))
        for answer in await asyncio.gather(*pending):
            if not answer.get("ok"):
                refused.append(answer)
        return {"sent": count, "refused": len(refused), "errors": refused[:3], "seconds": loop.time() - start}

    def trigger(self, request: BroadcastRequest, timeout: float) -> dict[str, Any]:
        return self.run(self._paced(request.count, request.rate), timeout)

    def close(self) -> None:
        if self.client is not None:
            try:
                self.run(self.client.close(), 10)
            except Exception:  # noqa: BLE001 - the server may be gone already
                pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
