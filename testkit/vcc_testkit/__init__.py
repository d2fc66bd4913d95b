"""The test kit: real servers and real clients for the tests, the benchmarks and
the scripts (a node, Redis, nginx, Chromium, the audio page, the consultations
they hold), nothing mocked. Installed with the project by ``./dev setup``, so
``bench/`` and ``scripts/`` import it as they import ``vcc``, never ``tests.*``."""

from pathlib import Path

#: The repository the kit is installed from (editable): the kit serves its test pages and JS clients.
ROOT = Path(__file__).resolve().parents[2]
