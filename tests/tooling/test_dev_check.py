"""`./dev test` runs `./dev check` (ruff check, ruff format --check, then mypy --strict) before
pytest: a lint error, an unformatted file or a type error stops it. These run that same check on files with one error each."""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLEAN = '''"""A module both checkers accept."""


def double(n: int) -> int:
    return 2 * n
'''


def check(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    module = tmp_path / "module.py"
    module.write_text(source, encoding="utf-8")
    return subprocess.run([str(ROOT / "dev"), "check", str(module)], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_a_clean_file_passes(tmp_path: Path) -> None:
    result = check(tmp_path, CLEAN)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_lint_error_fails_the_check(tmp_path: Path) -> None:
    result = check(tmp_path, "import os\n" + CLEAN)
    assert result.returncode != 0
    assert "F401" in result.stdout and "ruff check found the lint errors above" in result.stderr


def test_an_unformatted_file_fails_the_check(tmp_path: Path) -> None:
    result = check(tmp_path, CLEAN.replace("return 2 * n", "return 2*n"))
    assert result.returncode != 0
    assert "ruff format would reformat" in result.stderr


def test_a_type_error_fails_the_check(tmp_path: Path) -> None:
    result = check(tmp_path, CLEAN + "\n\nHALF: int = double(1) / 2\n")
    assert result.returncode != 0
    assert "Incompatible types in assignment" in result.stdout and "mypy found the type errors above" in result.stderr


def test_dev_test_checks_before_it_runs_the_tests() -> None:
    dev = (ROOT / "dev").read_text(encoding="utf-8")
    test_branch = dev[dev.index("\n  test)") :]
    assert test_branch.index("check_code") < test_branch.index("pytest")


def test_the_core_and_the_protocol_hide_no_type_error() -> None:
    """mypy --strict passes on its own merits: no ``type: ignore`` silences it in the core or the protocol."""
    sources = [*(ROOT / "server" / "vcc" / "core").rglob("*.py"), *(ROOT / "protocol" / "vcc_protocol").rglob("*.py")]
    hidden = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in sources
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "type: ignore" in line
    ]
    assert sources and hidden == []
