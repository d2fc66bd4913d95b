"""Every benchmark in ``bench/`` runs with ``--quick`` and writes its results.

Only that: the figures are measured by the benchmarks, never asserted here
(a shared 2-core machine would make any timing assertion flaky). Each run is
a subprocess with tiny sizes (tens of clients, seconds); quick outputs go to
``bench/results/tmp/`` (git-ignored) or the test's tmp_path, never over the
committed figures. ``bench_core.py`` has its own smoke test in tests/core.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench"
SCRATCH = BENCH / "results" / "tmp"


def run(script: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, str(BENCH / script), "--quick", *args], cwd=REPO, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{script} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def test_fanout_quick_bare_and_the_service(tmp_path: Path) -> None:
    out = tmp_path / "fanout.json"
    run("bench_fanout.py", "--targets", "bare,bare-durable,vcc", "--solo", "1", "--out", str(out))
    results = json.loads(out.read_text())
    assert {r["target"] for r in results["medians"]} == {"bare", "bare-durable", "vcc"}
    service_row = next(r for r in results["medians"] if r["target"] == "vcc")
    assert service_row["x_bare"] > 0 and service_row["x_bare-durable"] > 0
    assert all("error" not in p and p["samples"] > 0 for p in results["points"])
    service = next(p for p in results["points"] if p["target"] == "vcc")
    assert service["latency_from_send_ms"]["samples"] == service["samples"], "every delivery timed from the chair's send too"
    assert service["latency_from_send_ms"]["p50"] >= service["latency_ms"]["p50"]


def test_burst_quick(tmp_path: Path) -> None:
    out = tmp_path / "burst.json"
    run("bench_burst.py", "--out", str(out))
    results = json.loads(out.read_text())
    assert [p["window_s"] for p in results["points"]] == [1.0, 0.0], "the spread burst, then every hand at once"
    for point in results["points"]:
        assert "error" not in point, point
        assert point["acked_ok"] == point["delegations"] and point["queue"]["length"] == point["delegations"]
        assert point["server"]["appends"] >= 1 and point["server"]["broadcasts"] >= 1
    assert results["medians"]["0 s"]["all_acked"] and results["medians"]["1 s"]["in_order"]
    assert out.with_suffix(".png").stat().st_size > 0


def test_profile_puts_each_sample_in_the_first_part_on_its_stack(tmp_path: Path) -> None:
    """``bench_burst.py --profile``'s sorting of py-spy's raw samples (py-spy itself is for whoever measures)."""
    from bench._profile import OTHER_THREADS, where

    loop = (
        "_run_module_as_main (<frozen runpy>:198);BaseEventLoop._run_once (asyncio/base_events.py:1922);Handle._run (asyncio/events.py:80)"
    )
    commit = f"{loop};Runtime._commit (vcc/service.py:254);Runtime._execute_batch (vcc/service.py:316)"
    raw = tmp_path / "burst.pyspy"
    raw.write_text(
        f"{commit};Ahead.decided (vcc/ahead.py:64);request_floor (vcc/core/floor.py:113);insertion_position (vcc/core/floor.py:61) 3\n"
        f"{commit};decide (vcc/core/machine.py:44);request_floor (vcc/core/floor.py:98) 2\n"
        f"{commit};SqliteStore.append (vcc/store/sqlite.py:279) 1\n"
        f"{loop};Publisher.flush (vcc/gateway/publisher.py:119);Fanout._write_slice (vcc/gateway/fanout.py:341) 5\n"
        "_run_module_as_main (<frozen runpy>:198);BaseEventLoop._run_once (asyncio/base_events.py:1884);EpollSelector.select (selectors.py:468) 7\n"
        "Thread._bootstrap (threading.py:1002);SqliteStore._work (vcc/store/sqlite.py:207) 4\n"
        f"{loop};PresenceBoard._send (vcc/gateway/presence.py:62) 1\n"
    )
    assert where(raw) == {
        "the place in the queue": 3,
        "the rest of the decisions": 2,
        "the batch: append, acks": 1,
        "broadcasting": 5,
        "waiting (select)": 7,
        OTHER_THREADS: 4,
        "other": 1,
        "busy": 12,
    }


def test_service_quick(tmp_path: Path) -> None:
    out = tmp_path / "service.json"
    run("bench_service.py", "--clients", "20", "--grants", "3", "--events", "2500", "--out", str(out))
    results = json.loads(out.read_text())
    assert results["memory_grant"]["rss_after_kib"] > 0 and results["memory_grant"]["grant"]["grants"] == 3
    assert results["command"]["commands"] == 20 and results["command"]["cpu_ms_per_command"] > 0
    assert all(results["command"][floor]["cpu_ms_per_command"] > 0 for floor in ("bare", "bare_durable"))
    assert results["idle"]["clients"] == 20 and results["idle"]["this"]["cpu_ms_per_s"] > 0 and results["idle"]["bare"]["runs"]
    assert results["load"]["events"] == 2500 and results["load"]["load_ms_best"] > 0
    assert out.with_suffix(".png").stat().st_size > 0


def test_fanout_micro_quick(tmp_path: Path) -> None:
    out = tmp_path / "micro.json"
    run("bench_fanout_micro.py", "--clients", "20", "--broadcasts", "10", "--out", str(out))
    results = json.loads(out.read_text())["results"]
    assert [r["mode"] for r in results] == ["deflate", "stock", "queued", "framed", "fanout", "raw"]
    assert all(r["clients_missing_frames"] == 0 for r in results)
    assert out.with_suffix(".png").stat().st_size > 0


def test_views_quick() -> None:
    started = time.time()
    run("bench_views.py")
    out = SCRATCH / "views-quick.json"
    assert out.stat().st_mtime >= started - 1
    figures = json.loads(out.read_text())
    assert figures["delegations"] == 200 and figures["feed"]["median_us"] > 0


@pytest.mark.redis
def test_store_quick() -> None:
    started = time.time()
    run("bench_store.py")
    out = SCRATCH / "store-quick.json"
    assert out.stat().st_mtime >= started - 1 and json.loads(out.read_text())
    assert out.with_suffix(".png").stat().st_mtime >= started - 1


@pytest.mark.redis
def test_cluster_quick(tmp_path: Path) -> None:
    out = tmp_path / "cluster.json"
    run("bench_cluster.py", "--clients", "10", "--messages", "5", "--out", str(out))
    runs = json.loads(out.read_text())["runs"]
    assert {r["mode"] for r in runs} == {"one", "two"} and all("error" not in r for r in runs)
    assert out.with_suffix(".png").stat().st_size > 0


def test_webcast_quick(tmp_path: Path) -> None:
    out = tmp_path / "webcast.json"
    run("bench_webcast.py", "--out", str(out))
    result = json.loads(out.read_text())["result"]
    assert result["requests"] > 0 and set(result["statuses"]) <= {"200", "304"}


def test_hostile_quick(tmp_path: Path) -> None:
    out = tmp_path / "hostile.json"
    run("bench_hostile.py", "--out", str(out), timeout=180)
    results = json.loads(out.read_text())
    parts = {name: repeats[0] for name, repeats in results["parts"].items()}
    assert parts["unknown"]["requests"] == sum(parts["unknown"]["statuses"].values()) and parts["unknown"]["rss_after_kib"] > 0
    for bomb in (parts["bomb"], parts["lying_bomb"]):
        assert bomb["answer"]["status"] is not None and bomb["peak_tree_kib"] > 0 and bomb["ping_during"]["pings"] > 0
    assert parts["frames"]["frames"] == 300 and parts["frames"]["connections"] >= 1
    assert parts["presence"]["presence_messages"] >= 1 and parts["presence"]["largest_presence_bytes"] > 0
    assert {row["part"] for row in results["summary"]} == {"unknown", "bomb", "lying_bomb", "frames", "presence"}
    assert out.with_suffix(".png").stat().st_size > 0


def test_media_quick() -> None:
    """Real Chromium and the Janus vcc starts: 3 grants, 2 re-routes, 5 listeners."""
    run("bench_media.py", timeout=240)
    results = json.loads((SCRATCH / "media.json").read_text())
    assert results["grant_to_sound_ms"]["n"] == 3 and results["reroute_ms"]["n"] == 2
    assert [row["listeners"] for row in results["cpu_per_listener"]] == [5]
