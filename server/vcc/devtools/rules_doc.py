"""Writes ``docs/rules.md`` from the core: every ``Rule:`` tag in
``server/vcc/core/`` with its module, the rejection codes it answers with and
the tests that prove it, so the product's rulebook is the code's own account.

Where a rule lives: a tag in a function's docstring or in a comment inside a
function belongs to that function; a ``#:`` comment at module level belongs to
the constant assigned next. The rule is named ``module.anchor`` (for instance
``floor.PRIORITY``).

Its codes are read from the source: the ``Rejected`` raised in the anchor
function (after the tag, when the tag is a comment inside it), and the
``Rejected`` raised under any ``if`` of the core whose condition uses the
anchor (``if pages > MAX_PAGES: raise Rejected(...)``).

Its tests carry a marker naming it: ``@pytest.mark.rule("floor.PRIORITY")``.
A test fails when the committed page is stale, when a rule has no test and when
a marker names no rule. ``python -m vcc.devtools.rules_doc`` rewrites the page;
``python -m vcc.devtools.rules_doc --check`` says whether it is current.
"""

from __future__ import annotations

import argparse
import ast
import io
import tokenize
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from vcc_protocol.errors import ERROR_CODES

ROOT = Path(__file__).resolve().parents[3]
CORE = ROOT / "server" / "vcc" / "core"
TESTS = ROOT / "tests"
DOC = ROOT / "docs" / "rules.md"
TAG = "Rule:"


@dataclass
class Rule:
    """One ``Rule:`` tag: ``name`` is ``module.anchor``; ``line`` is where the tag is."""

    module: str
    anchor: str
    text: str
    line: int
    codes: set[str] = field(default_factory=set)
    tests: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.module}.{self.anchor}"


def _functions(tree: ast.Module) -> list[ast.FunctionDef]:
    return [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)]


def _innermost(functions: list[ast.FunctionDef], line: int) -> ast.FunctionDef | None:
    around = [f for f in functions if f.lineno <= line <= (f.end_lineno or f.lineno)]
    return max(around, key=lambda f: f.lineno, default=None)


def _assigned_after(tree: ast.Module, line: int) -> str:
    for node in tree.body:
        if node.lineno > line and isinstance(node, ast.Assign | ast.AnnAssign):
            target = node.targets[0] if isinstance(node, ast.Assign) else node.target
            if isinstance(target, ast.Name):
                return target.id
    raise ValueError(f"the Rule: comment on line {line} is followed by no constant")


def _sentence(lines: list[str]) -> str:
    text = " ".join(" ".join(lines).split())[len(TAG) :].strip()
    return text[:1].upper() + text[1:]


def _comment_tags(source: str) -> list[tuple[int, str]]:
    """(line, text) of each ``# Rule:`` or ``#: Rule:`` comment, with its continuation lines."""
    comments = [
        (token.start[0], token.string.lstrip("#:").strip())
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type == tokenize.COMMENT
    ]
    tags = []
    for index, (line, text) in enumerate(comments):
        if not text.startswith(TAG):
            continue
        parts, following = [text], index + 1
        while following < len(comments) and comments[following][0] == line + len(parts) and not comments[following][1].startswith(TAG):
            parts.append(comments[following][1])
            following += 1
        tags.append((line, _sentence(parts)))
    return tags


def _docstring_tag(function: ast.FunctionDef) -> tuple[int, str] | None:
    doc = ast.get_docstring(function)
    if doc is None or TAG not in doc:
        return None
    paragraph = doc[doc.index(TAG) :].split("\n\n")[0]
    return function.body[0].lineno, _sentence(paragraph.splitlines())


def _codes(node: ast.AST, after: int = 0) -> set[str]:
    return {
        call.args[0].value
        for call in ast.walk(node)
        if isinstance(call, ast.Call)
        and isinstance(call.func, ast.Name)
        and call.func.id == "Rejected"
        and call.lineno > after
        and call.args
        and isinstance(call.args[0], ast.Constant)
        and isinstance(call.args[0].value, str)
    }


def _uses(node: ast.AST, anchor: str, function: bool) -> bool:
    """Whether ``node`` calls the function ``anchor``, or names the constant ``anchor``
    (a field that happens to share a function's name is not a use of it)."""
    for n in ast.walk(node):
        if function:
            if not isinstance(n, ast.Call):
                continue
            n = n.func
        if (isinstance(n, ast.Name) and n.id == anchor) or (isinstance(n, ast.Attribute) and n.attr == anchor):
            return True
    return False


def _guarded_codes(trees: list[ast.Module], anchor: str, function: bool) -> set[str]:
    """The codes raised under every ``if`` of the core whose condition uses ``anchor``."""
    codes: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and _uses(node.test, anchor, function):
                for statement in node.body:
                    codes |= _codes(statement)
    return codes


def core_rules(core: Path = CORE) -> list[Rule]:
    """Every ``Rule:`` tag of the core, in module and line order, with its codes."""
    rules: list[Rule] = []
    trees: dict[str, ast.Module] = {}
    for path in sorted(core.glob("*.py")):
        source = path.read_text(encoding="utf-8")
        tree = trees[path.stem] = ast.parse(source)
        functions = _functions(tree)
        for function in functions:
            tag = _docstring_tag(function)
            if tag is not None:
                rules.append(Rule(path.stem, function.name, tag[1], tag[0]))
        for line, text in _comment_tags(source):
            inside = _innermost(functions, line)
            anchor = inside.name if inside is not None else _assigned_after(tree, line)
            rules.append(Rule(path.stem, anchor, text, line))
        found = sum(rule.module == path.stem for rule in rules)
        if found != source.count(TAG):
            raise ValueError(
                f"{path.name} has {source.count(TAG)} {TAG} tags and {found} are read: tag a rule in a function's "
                "docstring, in a comment inside a function, or in a #: comment above a constant, one tag each"
            )
    for rule in rules:
        anchored = next((f for f in _functions(trees[rule.module]) if f.name == rule.anchor), None)
        if anchored is not None:
            rule.codes |= _codes(anchored, after=rule.line)
        rule.codes |= _guarded_codes(list(trees.values()), rule.anchor, function=anchored is not None)
    return sorted(rules, key=lambda r: (r.module, r.line))


def _marker_rules(decorator: ast.expr) -> list[str]:
    """The rule names of a ``pytest.mark.rule(...)`` decorator, else nothing."""
    if not (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute) and decorator.func.attr == "rule"):
        return []
    return [arg.value for arg in decorator.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]


def rule_markers(tests: Path = TESTS) -> dict[str, list[str]]:
    """Rule name -> the pytest ids of the tests marked with it."""
    marked: dict[str, list[str]] = defaultdict(list)
    for path in sorted(tests.rglob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = path.relative_to(tests.parent).as_posix()
        for node in tree.body:
            members = [(f"{node.name}::", m) for m in node.body] if isinstance(node, ast.ClassDef) else [("", node)]
            for prefix, member in members:
                if isinstance(member, ast.FunctionDef | ast.AsyncFunctionDef):
                    for decorator in member.decorator_list:
                        for name in _marker_rules(decorator):
                            marked[name].append(f"{where}::{prefix}{member.name}")
    return dict(marked)


def rulebook() -> list[Rule]:
    rules = core_rules()
    marked = rule_markers()
    for rule in rules:
        rule.tests = marked.get(rule.name, [])
    return rules


def render(rules: list[Rule] | None = None) -> str:
    rules = rulebook() if rules is None else rules
    lines = [
        "# The rules",
        "",
        "Generated from the core (`server/vcc/core/`) by `python -m vcc.devtools.rules_doc`: do not edit it",
        "by hand. Each rule is tagged `Rule:` where it lives, one place in the code; its name is",
        "`module.anchor`, the function or constant that holds it. The codes are the rejections a",
        "command meets under that rule (what each means is in [protocol.md](protocol.md#error-codes));",
        'the tests are those marked `@pytest.mark.rule("module.anchor")`.',
        "",
    ]
    module = None
    for rule in rules:
        if rule.module != module:
            module = rule.module
            lines += [f"## {module}", "", f"[`server/vcc/core/{module}.py`](../server/vcc/core/{module}.py)", ""]
        codes = ", ".join(f"`{code}`" for code in sorted(rule.codes)) or "none (the rule shapes what happens; nothing is refused)"
        lines += [
            f"### `{rule.name}`",
            "",
            rule.text,
            "",
            f"- Rejects with: {codes}",
            "- Proven by: " + (", ".join(f"`{test}`" for test in rule.tests) or "no test yet"),
            "",
        ]
    return "\n".join(lines)


def problems(rules: list[Rule], marked: dict[str, list[str]]) -> list[str]:
    """What keeps the rulebook from being whole: a rule without a test, a marker
    naming no rule, two tags with one name, a code the protocol does not list."""
    names = [rule.name for rule in rules]
    found = [
        f"{name} is tagged twice; give one of the rules its own function or constant"
        for name in sorted({n for n in names if names.count(n) > 1})
    ]
    found += [f"{rule.name} has no test: mark one with @pytest.mark.rule({rule.name!r})" for rule in rules if not marked.get(rule.name)]
    found += [
        f"{', '.join(tests)} marked with rule {name!r}, which the core does not tag"
        for name, tests in sorted(marked.items())
        if name not in names
    ]
    found += [
        f"{rule.name} rejects with {code!r}, which vcc_protocol.errors does not list"
        for rule in rules
        for code in sorted(rule.codes)
        if code not in ERROR_CODES
    ]
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vcc.devtools.rules_doc", description="Write docs/rules.md from the core's Rule: tags.")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when docs/rules.md is stale or a rule has no test")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        stale = not DOC.exists() or DOC.read_text(encoding="utf-8") != text
        found = problems(core_rules(), rule_markers())
        for problem in found:
            print(problem)
        if stale:
            print(f"{DOC} is stale: run python -m vcc.devtools.rules_doc")
        return 1 if stale or found else 0
    DOC.write_text(text, encoding="utf-8")
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
