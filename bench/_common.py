"""Shared helpers for the benchmarks in ``bench/``.

What lives here, and why it is shared:

- CPU accounting from ``/proc``: every benchmark compares processes that run
  side by side, so CPU is read per process, by pid, with nanosecond
  resolution (``schedstat``), never estimated from wall time.
- Spawning pinned child processes that cannot outlive the harness: a server
  on one core and the load generator on the other is the only way a
  2-core machine gives comparable numbers.
- The baseline servers' broadcast payload and pacing, so the Python and Node
  baselines send the same bytes on the same schedule (the Node copy is in
  ``baselines/node_socketio/server.js``; keep them in step).
- Small reporting tools: percentiles, text tables, the results JSON and a plot.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import datetime as _dt
import json
import math
import os
import platform
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
# Logs and quick-run outputs; git-ignored.
SCRATCH_DIR = RESULTS_DIR / "tmp"

_CLK_TCK = os.sysconf("SC_CLK_TCK")
_PR_SET_PDEATHSIG = 1


# --------------------------------------------------------------------------
# CPU accounting
# --------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) consumed so far by every thread of ``pid``.

    :raises ProcessLookupError: if the process is gone.
    """
    return cpu_and_wait_seconds(pid)[0]


def cpu_and_wait_seconds(pid: int) -> tuple[float, float]:
    """CPU time so far of every thread of ``pid``, and the time they spent
    runnable but waiting for a CPU (NaN where the kernel does not say).

    Sums ``/proc/<pid>/task/*/schedstat`` (nanoseconds) because
    ``/proc/<pid>/stat`` counts in clock ticks (10 ms here), too coarse for a
    quick run whose whole measured window costs a few milliseconds. The wait
    is what a busy neighbour costs a pinned process: latency measured while
    the process waited includes that wait. A thread that exits between two
    readings takes its time with it; the servers measured here keep their
    threads. Without schedstat, CPU comes from ``/proc/<pid>/stat``.

    :raises ProcessLookupError: if the process is gone.
    """
    try:
        threads = _schedstat(pid)
    except OSError:
        return _stat_cpu_seconds(pid), math.nan
    return sum(run for run, _ in threads.values()) / 1e9, sum(wait for _, wait in threads.values()) / 1e9


def thread_cpu_seconds(pid: int) -> dict[int, float]:
    """CPU time so far of each thread of ``pid``, by thread id (the main thread's is ``pid``),
    from ``/proc/<pid>/task/*/schedstat`` (nanoseconds).

    :raises ProcessLookupError: if the process is gone.
    :raises OSError: if the kernel has no schedstat.
    """
    return {tid: run / 1e9 for tid, (run, _) in _schedstat(pid).items()}


def _schedstat(pid: int) -> dict[int, tuple[int, int]]:
    """Thread id -> (nanoseconds run, nanoseconds runnable but waiting) of each thread of ``pid``."""
    task_dir = f"/proc/{pid}/task"
    try:
        tids = os.listdir(task_dir)
    except FileNotFoundError:
        raise ProcessLookupError(pid) from None
    out: dict[int, tuple[int, int]] = {}
    for tid in tids:
        try:
            with open(f"{task_dir}/{tid}/schedstat", "rb") as f:
                run, wait, _ = f.read().split()
        except FileNotFoundError:
            continue  # the thread exited while we were listing
        out[int(tid)] = (int(run), int(wait))
    return out


def _stat_cpu_seconds(pid: int) -> float:
    return sum(cpu_user_system(pid))


def cpu_user_system(pid: int) -> tuple[float, float]:
    """User and system CPU seconds so far of ``pid`` (``/proc/<pid>/stat``, in
    clock ticks: measure over hundreds of milliseconds at least).

    :raises ProcessLookupError: if the process is gone.
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise ProcessLookupError(pid) from None
    # The command name (field 2) may contain spaces: split after its ')'.
    fields = raw[raw.rindex(b")") + 2 :].split()
    return int(fields[11]) / _CLK_TCK, int(fields[12]) / _CLK_TCK


def core_busy_seconds(cpus: set[int]) -> dict[int, float]:
    """Busy time of each CPU so far (everything but idle and iowait, steal
    included), from ``/proc/stat``, in clock ticks' resolution."""
    busy: dict[int, float] = {}
    with open("/proc/stat") as f:
        for line in f:
            name, *values = line.split()
            if name.startswith("cpu") and name != "cpu" and int(name[3:]) in cpus:
                user, nice, system, idle, iowait, irq, softirq, steal = (int(v) for v in values[:8])
                busy[int(name[3:])] = (user + nice + system + irq + softirq + steal) / _CLK_TCK
    return busy


class CpuMeter:
    """CPU seconds consumed by a set of processes between ``start`` and ``stop``,
    the time they waited for a CPU, and how busy a set of cores was meanwhile.

    On a shared machine the last two tell a clean measurement from a
    disturbed one: the wait is what neighbours cost the processes measured,
    and a core's busy time minus the CPU of the processes pinned to it is
    somebody else's work (or the hypervisor's steal).
    """

    def __init__(self, pids: Mapping[str, int], cores: Iterable[int] = ()) -> None:
        self.pids = dict(pids)
        self.cores = set(cores)
        self._begin: dict[str, tuple[float, float]] = {}
        self._core_begin: dict[int, float] = {}
        self._wall_begin = 0.0
        self.used: dict[str, float] = {}
        self.waited: dict[str, float] = {}
        self.core_busy: dict[int, float] = {}
        self.wall = 0.0

    def start(self) -> None:
        self._wall_begin = time.perf_counter()
        self._core_begin = core_busy_seconds(self.cores)
        self._begin = {name: cpu_and_wait_seconds(pid) for name, pid in self.pids.items()}

    def stop(self) -> None:
        end = {name: cpu_and_wait_seconds(pid) for name, pid in self.pids.items()}
        self.used = {name: end[name][0] - self._begin[name][0] for name in self.pids}
        self.waited = {name: end[name][1] - self._begin[name][1] for name in self.pids}
        busy = core_busy_seconds(self.cores)
        self.core_busy = {cpu: busy[cpu] - self._core_begin[cpu] for cpu in self.cores}
        self.wall = time.perf_counter() - self._wall_begin


# --------------------------------------------------------------------------
# Processes: pinning, limits, cleanup
# --------------------------------------------------------------------------


def raise_nofile(needed: int) -> int:
    """Raise the soft open-files limit to at least ``needed`` (capped at the
    hard limit), for this process and the children it starts later.

    :returns: the soft limit now in force.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        soft = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return soft


def pin_self(cpus: set[int]) -> None:
    """Pin the calling process (and the threads and children it creates later)."""
    os.sched_setaffinity(0, cpus)


def _child_setup(cpus: set[int] | None) -> Callable[[], None]:
    def setup() -> None:
        # Pin before exec so that every thread the child starts (Node's
        # libuv pool and GC threads) inherits the mask.
        if cpus:
            os.sched_setaffinity(0, cpus)
        # Die with the harness even if it is SIGKILLed and never runs its
        # cleanup: the kernel sends SIGTERM when the parent goes away.
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)

    return setup


def stop_process(proc: subprocess.Popen[bytes], grace: float = 3.0) -> None:
    """SIGTERM the child's process group, then SIGKILL it after ``grace`` s."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(grace)


@contextlib.contextmanager
def spawned(
    argv: Sequence[str], *, cwd: Path, log_path: Path, cpus: set[int] | None = None, env: Mapping[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``argv`` pinned to ``cpus`` with output to ``log_path``; always stopped on exit.

    Output goes to a file rather than a pipe: nobody reads a pipe while a
    benchmark runs, and a full pipe would block the server mid-measurement.
    The child gets its own session so that stopping it also stops anything
    it started.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    full_env = {**os.environ, **(env or {})}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_child_setup(cpus),
        )
        try:
            yield proc
        finally:
            stop_process(proc)


def tail(path: Path, lines: int = 20) -> str:
    """The last ``lines`` lines of a log file, for error messages."""
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


@contextlib.contextmanager
def sigterm_as_exit() -> Iterator[None]:
    """Turn SIGTERM into ``SystemExit`` so that ``finally`` blocks clean up."""

    def handler(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# --------------------------------------------------------------------------
# Baseline broadcast: payload and pacing (mirrored in node_socketio/server.js)
# --------------------------------------------------------------------------

BENCH_EVENT = "bench"
BENCH_ROOM = "bench"
# msgpack bytes of {"ts": float64, "seq": n, "pad": str8} without the padding,
# for 0 <= seq < 128 and 32 <= len(pad) < 256.
_PAYLOAD_OVERHEAD = 24


def bench_payload(seq: int, size: int) -> dict[str, Any]:
    """The broadcast payload: ``size`` bytes once msgpack-encoded (±2 bytes).

    ``ts`` is the server's wall clock at send time, which the load generator
    subtracts from its receive time.
    """
    return {"ts": time.time(), "seq": seq, "pad": "x" * max(0, size - _PAYLOAD_OVERHEAD)}


@dataclass(frozen=True)
class BroadcastRequest:
    """``POST /bench/broadcast?count=&rate=&size=``, validated and bounded."""

    count: int
    rate: float
    size: int

    MAX_COUNT = 100_000
    MAX_RATE = 10_000.0
    MAX_SIZE = 65_536

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> BroadcastRequest:
        """:raises ValueError: with a message fit for a 400 response."""
        count = int(query.get("count", "1"))
        rate = float(query.get("rate", "10"))
        size = int(query.get("size", "230"))
        if not 1 <= count <= cls.MAX_COUNT:
            raise ValueError(f"count must be in 1..{cls.MAX_COUNT}")
        if not (0 < rate <= cls.MAX_RATE) or math.isnan(rate):
            raise ValueError(f"rate must be in (0, {cls.MAX_RATE}]")
        if not _PAYLOAD_OVERHEAD <= size <= cls.MAX_SIZE:
            raise ValueError(f"size must be in {_PAYLOAD_OVERHEAD}..{cls.MAX_SIZE}")
        return cls(count, rate, size)


async def paced(request: BroadcastRequest, send: Callable[[int], Awaitable[None]]) -> float:
    """Call ``send(seq)`` ``request.count`` times at ``request.rate`` per second.

    The schedule is fixed from the start (message i is due at start + i/rate),
    so a server that falls behind sends the overdue messages back to back
    instead of drifting to a lower rate.

    :returns: wall seconds from the first send to the end of the last.
    """
    loop = asyncio.get_running_loop()
    start = loop.time()
    for seq in range(request.count):
        delay = start + seq / request.rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        await send(seq)
    return loop.time() - start


def serve_baseline(
    make_app: Callable[..., Any],
    description: str | None,
    add_arguments: Callable[[argparse.ArgumentParser], object] | None = None,
) -> None:
    """The command line of a baseline server: ``--port P``, on 127.0.0.1, and the
    options ``add_arguments`` declares, passed to ``make_app`` by name."""
    from aiohttp import web

    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    if add_arguments is not None:
        add_arguments(parser)
    options = vars(parser.parse_args())
    port = options.pop("port")
    # A short shutdown_timeout: on SIGTERM, do not wait 60 s for every
    # websocket handler to finish; the harness starts the next server.
    web.run_app(make_app(**options), host="127.0.0.1", port=port, print=None, access_log=None, backlog=1024, shutdown_timeout=1.0)


def http_json(method: str, url: str, timeout: float) -> Any:
    """One HTTP request to a benchmark control endpoint; the decoded JSON reply.

    :raises urllib.error.URLError: connection failures and non-2xx answers
        (``HTTPError``, whose body says what was wrong).
    """
    import urllib.request

    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read() or b"null")


# --------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values; NaN when empty."""
    if not sorted_values:
        return math.nan
    rank = max(0, math.ceil(q / 100 * len(sorted_values)) - 1)
    return sorted_values[min(rank, len(sorted_values) - 1)]


def median(values: Sequence[float]) -> float:
    """Median ignoring NaN; NaN when nothing is left."""
    clean = sorted(v for v in values if not math.isnan(v))
    if not clean:
        return math.nan
    mid = len(clean) // 2
    return clean[mid] if len(clean) % 2 else (clean[mid - 1] + clean[mid]) / 2


def fmt(value: float | int | str | None, digits: int = 1) -> str:
    """Compact number for tables: NaN/None as '-', large values without decimals."""
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if isinstance(value, float) and math.isnan(value):
        return "-"
    if isinstance(value, int) or abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub-flavoured markdown table, readable as plain text too."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.rjust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    sep = "|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|"
    return "\n".join([line(headers), sep, *(line(r) for r in rows)])


def _command_output(argv: Sequence[str], cwd: Path = REPO_DIR) -> str | None:
    try:
        out = subprocess.run(list(argv), cwd=cwd, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


def run_metadata(packages: Sequence[str] = ()) -> dict[str, Any]:
    """Where and with what a result was measured, for the results JSON."""
    from importlib import metadata

    versions: dict[str, str | None] = {}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "git_commit": _command_output(["git", "rev-parse", "HEAD"]),
        "git_dirty": bool(_command_output(["git", "status", "--porcelain"])),
        "python": sys.version.split()[0],
        "node": _command_output(["node", "--version"]),
        "kernel": platform.release(),
        "cpu_model": _cpu_model(),
        "cpus": os.cpu_count(),
        # Shared machine: other jobs' load when the run ended (1, 5, 15 min).
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "packages": versions,
    }


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as indented JSON (NaN as null), creating parent folders."""

    def clean(value: Any) -> Any:
        if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
            return None
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        return value

    path.parent.mkdir(parents=True, exist_ok=True)
    # default=str: paths and other plain values in settings.
    path.write_text(json.dumps(clean(data), indent=2, default=str) + "\n")


@dataclass
class Panel:
    """One subplot: a line per series, x shared by all."""

    title: str
    ylabel: str
    series: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    logy: bool = False
    xlabel: str = ""


@dataclass
class BarPanel:
    """One subplot: a bar per label, in order."""

    title: str
    ylabel: str
    bars: dict[str, float] = field(default_factory=dict)
    logy: bool = False


def plot_panels(path: Path, panels: Sequence[Panel | BarPanel], xlabel: str, suptitle: str, out: IO[str] = sys.stdout) -> bool:
    """Save ``panels`` side by side as a PNG (matplotlib, Agg backend);
    ``xlabel`` is that of the line panels that name none of their own.

    :returns: False, after saying so on ``out``, when matplotlib is missing:
        a plot is a convenience, the JSON holds the numbers.
    """
    try:
        import matplotlib
    except ImportError:
        print(f"matplotlib is not installed: no plot written to {path}", file=out)
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4.5), squeeze=False)
    for ax, panel in zip(axes[0], panels, strict=True):
        if isinstance(panel, BarPanel):
            shown = {k: v for k, v in panel.bars.items() if v is not None and not math.isnan(v)}
            ax.bar(list(shown), list(shown.values()))
            ax.tick_params(axis="x", labelrotation=30)
            for label in ax.get_xticklabels():
                label.set_horizontalalignment("right")
        else:
            for name, points in sorted(panel.series.items()):
                pts = sorted(p for p in points if not math.isnan(p[1]))
                if pts:
                    ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o" if len(pts) <= 20 else None, label=name)
            ax.set_xlabel(panel.xlabel or xlabel)
            ax.legend()
        ax.set_title(panel.title)
        ax.set_ylabel(panel.ylabel)
        if panel.logy:
            ax.set_yscale("log")
        ax.grid(True, which="both", alpha=0.3)
    fig.suptitle(suptitle, fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
