"""The serving process's collector settings, checked in a fresh interpreter
(freezing would otherwise change the test process itself)."""

from __future__ import annotations

import json
import subprocess
import sys

from vcc.ops import gc_policy

PROBE = """
import gc, json
from vcc.ops import gc_policy, metrics
gc_policy.settle()
frozen = gc.get_freeze_count()
gc.collect()
pauses = {g: metrics.REGISTRY.get_sample_value("vcc_gc_pause_seconds_count", {"generation": g}) for g in "012"}
print(json.dumps({"frozen": frozen, "thresholds": gc.get_threshold(), "pauses": pauses}))
"""


def test_settle_freezes_the_start_up_objects_makes_full_collections_rarer_and_measures_pauses() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60)
    probe = json.loads(out.stdout)
    assert probe["frozen"] > 10_000, "the modules and objects made while starting are frozen"
    assert tuple(probe["thresholds"]) == gc_policy.THRESHOLDS
    assert probe["pauses"]["2"] == 1, "the full collection after settle() is measured"
    assert probe["pauses"]["0"] is not None and probe["pauses"]["1"] is not None, "every generation has a series"
