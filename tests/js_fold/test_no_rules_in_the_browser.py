"""The browser folds events and renders the server's views: no rule of the core
is copied into client_web/src. client_web/src/core/ holds the fold alone, and
nothing imports from core/ but the fold."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "client_web" / "src"
IMPORT = re.compile(r"""^\s*import\s[^;]*?from\s+["']([^"']+)["']""", re.MULTILINE)


def test_the_browser_core_is_the_fold_alone() -> None:
    assert sorted(p.name for p in (SRC / "core").iterdir()) == ["fold.js"]


def test_nothing_imports_a_rule_from_the_browser_core() -> None:
    imports = {
        (str(path.relative_to(SRC)), target)
        for path in SRC.rglob("*.js")
        for target in IMPORT.findall(path.read_text(encoding="utf-8"))
        if "core/" in target
    }
    assert imports, "vacuous: the session imports the fold"
    wrong = sorted((path, target) for path, target in imports if not target.endswith("core/fold.js"))
    assert not wrong, f"rules imported besides the fold: {wrong}"
