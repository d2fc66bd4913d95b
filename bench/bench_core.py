"""Procedure-core benchmark: the cost of one command, and of replaying a log.

    python bench/bench_core.py            # full: 77 items x 200 requests, 100,000 events replayed
    python bench/bench_core.py --quick    # a smoke run of a second or two

Measured in one process, no I/O, on the pure core (``vcc.core``):

- ``floor_request``: ``decide`` + ``apply`` of a ``RequestFloor`` in a
  consultation of 200 delegations (48 council members, 142 observer states,
  the observer, 9 sector members) and 77 items. For every item in turn, each
  delegation asks for the floor once, in a shuffled order, so the queue the
  request is sorted into grows from 0 to 199 entries. Reported per request,
  in microseconds: median (target < 50 us), p90, p99, mean.
- ``replay``: folding a log of 100,000 events (a consultation's floor traffic:
  requests, grants, speeches, booths finishing, tails, handovers, warnings)
  into a fresh state: ``fold`` over decoded events (target < 1 s), and
  ``decode_event`` + ``fold`` from the stored msgpack bytes, best of
  ``--repeat``. The log is generated through ``decide`` first, untimed, and the
  replayed state is checked against the live one.

Results: printed, and written to ``bench/results/core.json`` with its plot
``core.png``; ``--quick`` writes to ``bench/results/tmp/core-quick.json``.
The targets are reported, not asserted: benchmarks are not tests.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
from datetime import date, datetime
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

_REPO = Path(__file__).resolve().parent.parent
for _path in (_REPO, _REPO / "server", _REPO / "protocol"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import msgspec
from vcc.core import ConsultationState, Rejected, apply, decide, fold, next_deadline
from vcc_protocol import commands as c
from vcc_protocol import events as e
from vcc_protocol.vocabulary import LANGUAGES, SYSTEM_ACTOR

from bench._common import (
    RESULTS_DIR,
    SCRATCH_DIR,
    BarPanel,
    fmt,
    format_table,
    percentile,
    plot_panels,
    run_metadata,
    write_json,
)

TARGET_REQUEST_US = 50.0
TARGET_REPLAY_S = 1.0
DAY = "2021-06-08"
#: 200 delegations of every class (sector members are capped at 3 per sector).
CLASSES = ["council_member"] * 48 + ["sector_member"] * 9 + ["observer"] + ["observer_state"] * 142


class Bench:
    """A consultation run through decide + apply, recording its events."""

    def __init__(self, days: int, slot: tuple[str, str] = ("12:00", "15:00"), classes: list[str] = CLASSES) -> None:
        self.state = ConsultationState()
        self.log: list[e.Event] = []
        self.now = 1_623_100_000_000  # 2021-06-07, before the first day
        dates = [f"2021-07-{d:02d}" for d in range(1, days + 1)] if days > 1 else [DAY]
        self.days = dates
        self.run(
            c.CreateConsultation(id=c.new_id(), code="BENCH", title="Benchmark", days=dates, slot_start=slot[0], slot_end=slot[1]), "@admin"
        )
        sectors = iter(["R", "R", "R", "T", "T", "T", "D", "D", "D"])
        self.delegations: list[str] = []
        for n, cls in enumerate(classes):
            did = f"d{n:03d}"
            self.delegations.append(did)
            self.run(
                c.AddDelegation(
                    id=c.new_id(),
                    delegation=did,
                    name=f"Delegation {n}",
                    cls=cls,
                    sector=next(sectors) if cls == "sector_member" else None,
                    voting_rights=cls == "council_member",
                ),
                "@admin",
            )  # type: ignore[arg-type]
            self.run(
                c.AddParticipant(
                    id=c.new_id(),
                    participant=f"{did}-1",
                    name=f"Speaker {n}",
                    role="delegate",
                    delegation=did,
                    languages=[LANGUAGES[n % 6]],
                    designated_speaker=True,
                ),
                "@admin",
            )
        self.run(c.AddParticipant(id=c.new_id(), participant="chair", name="Chair", role="chair"), "@admin")
        for lang in LANGUAGES:
            for k in (1, 2):
                self.run(
                    c.AddParticipant(
                        id=c.new_id(), participant=f"i-{lang}-{k}", name=f"Interpreter {lang} {k}", role="interpreter", booth=lang
                    ),
                    "@admin",
                )  # type: ignore[arg-type]
        for number in range(1, 78):
            self.run(
                c.AddItem(
                    id=c.new_id(), item=str(number), number=number, code=f"ITEM {number}", title=f"Item {number}", package=number % 15 == 0
                ),
                "@admin",
            )
        self.run(c.PlanAgenda(id=c.new_id()), "@admin")

    def run(self, command: c.Command, actor: str) -> list[e.Event]:
        events = decide(self.state, command, actor, self.now)
        for event in events:
            apply(self.state, event)
        self.log.extend(events)
        return events

    def advance(self, ms: int) -> None:
        """Move the clock on, ticking at every deadline on the way (as the shell does)."""
        target = self.now + ms
        while (deadline := next_deadline(self.state)) is not None and deadline <= target:
            self.now = max(self.now, deadline)
            self.run(c.Tick(id=c.new_id()), SYSTEM_ACTOR)
            if self.state.booths["en"].handover_alerted:
                self.handovers()
        self.now = target

    def handovers(self) -> None:
        for lang in LANGUAGES:
            booth = self.state.booths[lang]
            if booth.handover_alerted and booth.handover_requested_by is None:
                out = booth.on_duty
                partner = f"i-{lang}-2" if out == f"i-{lang}-1" else f"i-{lang}-1"
                self.run(c.RequestHandover(id=c.new_id()), partner)
                self.run(c.AcceptHandover(id=c.new_id()), out)  # type: ignore[arg-type]
                self.run(c.SetBoothMic(id=c.new_id(), live=True), partner)

    def open_sitting(self, day: int, at: str = "12:00") -> None:
        h, m = map(int, at.split(":"))
        start = _zurich_ms(self.days[day], h, m)
        self.advance(max(start - self.now, 0))
        self.run(c.OpenSitting(id=c.new_id()), "chair")


def _zurich_ms(day: str, hour: int, minute: int) -> int:
    return int(datetime.combine(date.fromisoformat(day), dtime(hour, minute), ZoneInfo("Europe/Zurich")).timestamp() * 1000)


# --- decide + apply of a floor request ------------------------------------------------


def bench_floor_request(items: int, seed: int = 1) -> dict[str, Any]:
    bench = Bench(days=1)
    bench.open_sitting(0)
    rng = random.Random(seed)
    state = bench.state
    samples: list[float] = []
    request = c.RequestFloor(id=c.new_id())
    clock = time.perf_counter_ns
    gc.collect()
    for number in map(str, range(1, items + 1)):
        bench.run(c.TakeUpItem(id=c.new_id(), item=number), "chair")
        order = list(bench.delegations)
        rng.shuffle(order)
        for did in order:
            bench.now += 1_000
            actor, now = f"{did}-1", bench.now
            t0 = clock()
            for event in decide(state, request, actor, now):
                apply(state, event)
            samples.append((clock() - t0) / 1_000)
        assert len(state.queues[number]) == len(bench.delegations)
    samples.sort()
    return {
        "delegations": len(bench.delegations),
        "items": items,
        "requests": len(samples),
        "median_us": statistics.median(samples),
        "p90_us": percentile(samples, 90),
        "p99_us": percentile(samples, 99),
        "mean_us": statistics.fmean(samples),
        "target_median_us": TARGET_REQUEST_US,
        "meets_target": statistics.median(samples) < TARGET_REQUEST_US,
    }


# --- replaying a log ------------------------------------------------------------------


def generate_log(n_events: int, seed: int = 2) -> Bench:
    """A consultation's floor traffic until the log holds ``n_events`` events.

    The slot is the whole day (00:00-23:59) so that speeches never wait for
    one; everything else is the procedure as it runs: requests of every
    class, grants, speeches (some past the limit), six live booths and their
    tails, handovers every 30 minutes.
    """
    rng = random.Random(seed)
    bench = Bench(days=31, slot=("00:00", "23:59"))
    bench.open_sitting(0, "00:00")
    for lang in LANGUAGES:
        bench.run(c.TakeBoothDuty(id=c.new_id()), f"i-{lang}-1")
        bench.run(c.SetBoothMic(id=c.new_id(), live=True), f"i-{lang}-1")
    day, item = 0, 0
    while len(bench.log) < n_events:
        if bench.state.sitting is None:
            day += 1
            bench.open_sitting(day, "00:00")
        item = item % 77 + 1
        ref = str(item)
        if bench.state.items[ref].status != "open":
            continue
        bench.run(c.TakeUpItem(id=c.new_id(), item=ref), "chair")
        queued = {r.delegation for r in bench.state.queues.get(ref, [])}
        for did in rng.sample(bench.delegations, 12):
            if did in queued:
                continue
            bench.advance(rng.randint(200, 3_000))
            bench.run(
                c.RequestFloor(
                    id=c.new_id(),
                    point_of_order=rng.random() < 0.03 and bench.state.delegations[did].cls in ("council_member", "observer_state"),
                ),
                f"{did}-1",
            )
        while bench.state.queues[ref] and len(bench.log) < n_events and bench.state.sitting is not None:
            granted = bench.run(c.GrantFloor(id=c.new_id()), "chair")[0]
            bench.advance(rng.randint(2_000, 20_000))
            speaker = f"{granted.delegation}-1"  # type: ignore[attr-defined]
            if bench.state.grant is None:
                break  # the slot ended; the grant lapsed
            try:
                bench.run(c.GoLive(id=c.new_id()), speaker)
            except Rejected as rejected:
                assert rejected.code == "interpretation_tail", rejected
                if rng.random() < 0.5:
                    for lang in list(bench.state.tail.booths):  # type: ignore[union-attr]
                        bench.run(c.BoothFinished(id=c.new_id()), bench.state.booths[lang].on_duty)  # type: ignore[arg-type]
                else:
                    bench.run(c.OverrideTail(id=c.new_id()), "chair")
                bench.run(c.GoLive(id=c.new_id()), speaker)
            bench.advance(rng.randint(30_000, 200_000))
            if bench.state.speech is not None:
                bench.run(c.YieldFloor(id=c.new_id()), speaker)
        open_items = sum(1 for i in bench.state.items.values() if i.status == "open")
        if not bench.state.queues[ref] and open_items > 40 and rng.random() < 0.2:
            bench.run(c.ProposeConclusion(id=c.new_id(), item=ref, text="Takes note."), "@admin")
            bench.run(c.RecordConsensus(id=c.new_id(), item=ref), "chair")
    del bench.log[n_events:]
    return bench


def bench_replay(n_events: int, repeat: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    bench = generate_log(n_events)
    generated_s = time.perf_counter() - t0
    log = bench.log
    stored = [e.encode_event(event) for event in log]
    live = msgspec.to_builtins(fold(log))
    fold_times: list[float] = []
    decode_fold_times: list[float] = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        state = fold(log)
        fold_times.append(time.perf_counter() - t0)
        assert msgspec.to_builtins(state) == live
        gc.collect()
        t0 = time.perf_counter()
        state = fold(e.decode_event(raw) for raw in stored)
        decode_fold_times.append(time.perf_counter() - t0)
        assert msgspec.to_builtins(state) == live
    kinds: dict[str, int] = {}
    for event in log:
        kinds[type(event).__name__] = kinds.get(type(event).__name__, 0) + 1
    best_fold, best_decode = min(fold_times), min(decode_fold_times)
    return {
        "events": len(log),
        "bytes": sum(len(raw) for raw in stored),
        "generated_in_s": generated_s,
        "fold_s": best_fold,
        "fold_events_per_s": len(log) / best_fold,
        "decode_and_fold_s": best_decode,
        "decode_and_fold_events_per_s": len(log) / best_decode,
        "fold_runs_s": fold_times,
        "decode_and_fold_runs_s": decode_fold_times,
        "event_mix": dict(sorted(kinds.items(), key=lambda kv: -kv[1])),
        "target_s": TARGET_REPLAY_S,
        "meets_target": best_fold < TARGET_REPLAY_S,
    }


# --- main -----------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="3 items, 10,000 events, 1 repeat: a smoke run")
    p.add_argument("--items", type=int, default=None, help="items in the floor-request benchmark (default 77)")
    p.add_argument("--events", type=int, default=None, help="events replayed (default 100,000)")
    p.add_argument("--repeat", type=int, default=None, help="replays, best taken (default 5)")
    p.add_argument("--out", type=Path, default=None, help="results JSON (default bench/results/core.json)")
    args = p.parse_args(argv)
    args.items = args.items or (3 if args.quick else 77)
    args.events = args.events or (10_000 if args.quick else 100_000)
    args.repeat = args.repeat or (1 if args.quick else 5)
    args.out = args.out or (SCRATCH_DIR / "core-quick.json" if args.quick else RESULTS_DIR / "core.json")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    request = bench_floor_request(args.items)
    replay = bench_replay(args.events, args.repeat)
    results = {
        "benchmark": "core",
        "quick": args.quick,
        "meta": run_metadata(["msgspec"]),
        "floor_request": request,
        "replay": replay,
        "wall_s": time.perf_counter() - started,
    }
    print(
        format_table(
            [
                "decide+apply RequestFloor",
                "requests",
                "median us",
                "p90 us",
                "p99 us",
                "mean us",
                f"target median < {TARGET_REQUEST_US:.0f} us",
            ],
            [
                [
                    f"{request['delegations']} delegations, {request['items']} items",
                    fmt(request["requests"]),
                    fmt(request["median_us"]),
                    fmt(request["p90_us"]),
                    fmt(request["p99_us"]),
                    fmt(request["mean_us"]),
                    "met" if request["meets_target"] else "MISSED",
                ]
            ],
        )
    )
    print()
    print(
        format_table(
            ["replay", "events", "fold s", "events/s", "decode+fold s", "events/s", f"target fold < {TARGET_REPLAY_S:.0f} s"],
            [
                [
                    "floor traffic",
                    fmt(replay["events"]),
                    fmt(replay["fold_s"], 3),
                    fmt(replay["fold_events_per_s"]),
                    fmt(replay["decode_and_fold_s"], 3),
                    fmt(replay["decode_and_fold_events_per_s"]),
                    "met" if replay["meets_target"] else "MISSED",
                ]
            ],
        )
    )
    write_json(args.out, results)
    print(f"\nwritten to {args.out} ({results['wall_s']:.1f} s)")
    panels = [
        BarPanel(
            f"decide+apply RequestFloor ({request['delegations']} delegations)",
            "us",
            {q: request[f"{q}_us"] for q in ("median", "p90", "p99")},
        ),
        BarPanel(f"Replaying {replay['events']:,} events", "s", {"fold": replay["fold_s"], "decode + fold": replay["decode_and_fold_s"]}),
    ]
    png = args.out.with_suffix(".png")
    if plot_panels(png, panels, xlabel="", suptitle=f"core; {results['meta']['utc']}"):
        print(f"written to {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
