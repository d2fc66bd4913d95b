"""Garbage-collector settings for a serving process, and its pauses measured.

CPython's cyclic collector, with its default thresholds (700, 10, 10), makes a
full collection whenever the objects promoted to the oldest generation have
grown by a quarter. A node holding 1,000 connections tracks about 225,000
objects (aiohttp, engine.io and socket.io state per connection), so a full
collection stops the event loop for 70-190 ms, and allocation triggers it,
that is, when the node is busiest: measured in the middle of a burst of 1,000
floor requests (bench_burst.py; bench/README.md, "Under a burst").

So, once the node is ready to serve:
- the objects created while starting (modules, the application, the loaded
  consultations: about 72,000) are frozen: they live as long as the process,
  so no collection needs to scan them again;
- a full collection is considered after 100 collections of the middle
  generation instead of 10. The younger collections are unchanged (2 ms and
  10 ms at most, measured) and still free most garbage with cycles; what
  reaches the oldest generation and then becomes garbage (a closed
  connection's objects, about 90 each) waits longer, bounded by the same
  quarter-growth rule.

Every pause is observed in ``vcc_gc_pause_seconds`` (``/metrics``).
"""

from __future__ import annotations

import gc
import time
from typing import Any

from . import metrics

THRESHOLDS = (700, 10, 100)

_started = 0.0


def _observe(phase: str, info: dict[str, Any]) -> None:
    global _started
    if phase == "start":
        _started = time.perf_counter()
    else:
        metrics.GC_PAUSE_SECONDS.labels(str(info["generation"])).observe(time.perf_counter() - _started)


def settle() -> None:
    """Freeze what exists now, make full collections rarer and measure every
    pause; call once, when the node is ready to serve."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
    if _observe not in gc.callbacks:
        for generation in range(3):
            metrics.GC_PAUSE_SECONDS.labels(str(generation))  # a series from the start, at zero
        gc.callbacks.append(_observe)
