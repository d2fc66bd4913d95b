"""docs/rules.md is the core's own account of its rules: generated from the
`Rule:` tags, current, and every rule proven by a test that names it."""

import textwrap
from pathlib import Path

import pytest
from vcc.devtools import rules_doc


def test_the_committed_rulebook_is_current() -> None:
    assert rules_doc.DOC.read_text(encoding="utf-8") == rules_doc.render(), "run: python -m vcc.devtools.rules_doc"


def test_every_rule_has_a_test_and_every_marker_a_rule() -> None:
    assert rules_doc.problems(rules_doc.core_rules(), rules_doc.rule_markers()) == []


def test_each_rule_names_its_codes_where_they_are_raised() -> None:
    rules = {rule.name: rule for rule in rules_doc.core_rules()}
    assert rules["contributions.MAX_PAGES"].codes == {"too_long"}
    assert rules["clock.sitting_is_open"].codes == {"outside_sitting", "sitting_open"}
    assert rules["roster.add_item"].codes == {"already_exists"}
    assert rules["floor.PRIORITY"].codes == set()
    # A command field named like the rule's function (cmd.slot_end) is not a use of it.
    assert rules["sitting.slot_end"].codes == set()


def _core(tmp_path: Path, source: str) -> Path:
    core = tmp_path / "core"
    core.mkdir()
    (core / "area.py").write_text(textwrap.dedent(source), encoding="utf-8")
    return core


def test_a_new_tag_makes_the_rulebook_stale_and_asks_for_a_test(tmp_path: Path) -> None:
    core = _core(
        tmp_path,
        """
        #: Rule: at most two
        #: of anything.
        LIMIT = 2


        def decide(n):
            if n > LIMIT:
                raise Rejected("too_long", "Fewer, please.")
    """,
    )
    (rule,) = rules_doc.core_rules(core)
    assert (rule.name, rule.text, rule.codes) == ("area.LIMIT", "At most two of anything.", {"too_long"})
    assert rules_doc.render([rule]) != rules_doc.DOC.read_text(encoding="utf-8")
    assert rules_doc.problems([rule], {}) == ["area.LIMIT has no test: mark one with @pytest.mark.rule('area.LIMIT')"]
    assert rules_doc.problems([rule], {"area.LIMIT": ["t"], "area.GONE": ["u"]}) == [
        "u marked with rule 'area.GONE', which the core does not tag"
    ]


def test_the_check_command_fails_on_a_stale_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stale = tmp_path / "rules.md"
    stale.write_text("# The rules\n", encoding="utf-8")
    monkeypatch.setattr(rules_doc, "DOC", stale)
    assert rules_doc.main(["--check"]) == 1
    assert "is stale: run python -m vcc.devtools.rules_doc" in capsys.readouterr().out
    assert rules_doc.main([]) == 0
    assert rules_doc.main(["--check"]) == 0


def test_a_tag_the_generator_cannot_place_is_an_error(tmp_path: Path) -> None:
    core = _core(
        tmp_path,
        '''
        class Area:
            """Rule: a class docstring is no place for a rule."""
    ''',
    )
    with pytest.raises(ValueError, match="area.py has 1 Rule: tags and 0 are read"):
        rules_doc.core_rules(core)
