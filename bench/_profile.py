"""Where a server's event loop spends a benchmark: py-spy samples, sorted by what they were doing.

``sampling(pid, seconds, out)`` records the process with py-spy (500 samples a
second, idle threads left out, without stopping the process) while the
benchmark runs; ``where(out)`` sorts the samples into the parts of the
service named in ``PARTS``, by the first part whose frame is on the sample's
stack. py-spy is a tool for whoever measures, not a dependency of the service
or its tests: ``pip install py-spy`` into the venv to use it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

RATE = 500

#: The parts of the service, each by the frames that are its own; the first
#: part whose frame is on a sample's stack takes the sample.
PARTS: list[tuple[str, tuple[str, ...]]] = [
    ("waiting (select)", ("EpollSelector.select",)),
    ("connecting", ("_handle_connect", "_accept_connection", "_pre_start", "Gateway._connect")),
    ("copying the state for a batch", ("copy_state", "Ahead.at")),
    ("the place in the queue", ("insertion_position",)),
    ("the rest of the decisions", ("decide (", "Ahead.decided")),
    ("the batch: append, acks", ("Runtime._commit", "_execute_batch")),
    ("the views", ("ViewsFeed", "Publisher._views", "Publisher._concerned")),
    ("broadcasting", ("Publisher.flush", "Fanout._write_slice", "Fanout.send ", "Fanout._send")),
    ("reading packets", ("Inbound.message", "WebSocketLink._serve", "WebSocketLink.wait", "data_received", "_read_ready")),
    ("following the log", ("Runtime._follow", "Runtime._ingest")),
]
OTHER_THREADS = "other threads (the store's writer)"


def py_spy() -> str:
    found = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if found is None:
        raise SystemExit("--profile needs py-spy: pip install py-spy (into the venv that runs the benchmark)")
    return found


@contextmanager
def sampling(pid: int, seconds: float, out: Path) -> Iterator[None]:
    """Record ``pid`` for ``seconds`` from now into ``out`` (py-spy's raw format); wait for it on exit."""
    out.parent.mkdir(parents=True, exist_ok=True)
    argv = [py_spy(), "record", "--pid", str(pid), "--rate", str(RATE), "--duration", str(max(1, round(seconds)))]
    argv += ["--format", "raw", "--nonblocking", "--output", str(out)]
    recorder = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        yield
    finally:
        _, err = recorder.communicate(timeout=seconds + 30)
        if recorder.returncode != 0:
            raise RuntimeError(f"py-spy failed ({recorder.returncode}): {err.decode(errors='replace')[-500:]}")


def where(raw: Path) -> dict[str, int]:
    """Samples per part; the event loop's busy ones in all under ``"busy"``."""
    counts: Counter[str] = Counter()
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if stack.startswith("Thread._bootstrap"):
            counts[OTHER_THREADS] += int(n)
            continue
        part = next((name for name, frames in PARTS if any(frame in stack for frame in frames)), "other")
        counts[part] += int(n)
    counts["busy"] = sum(n for part, n in counts.items() if part not in (OTHER_THREADS, PARTS[0][0]))
    return dict(counts)
