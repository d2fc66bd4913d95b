"""The core benchmark runs: ``bench/bench_core.py --quick`` completes and writes its results.

Only that: the figures are measured by the benchmark, never asserted by tests.
"""

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_core.py"


def test_bench_core_quick_runs_and_writes_its_results(tmp_path: Path) -> None:
    out = tmp_path / "core.json"
    done = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--out", str(out)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "RequestFloor" in done.stdout and "replay" in done.stdout
    results = json.loads(out.read_text())
    assert results["quick"] is True
    assert results["floor_request"]["requests"] > 0 and results["floor_request"]["median_us"] > 0
    assert results["replay"]["events"] > 0 and results["replay"]["fold_s"] > 0
    assert out.with_suffix(".png").stat().st_size > 0
