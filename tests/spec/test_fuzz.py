"""Random damage to valid pipelines: validation never crashes or hangs, and every mistake is located.

The valid pipelines of pipelines/ and examples/ are copied with their handler modules pointed
at a placeholder module, so each copy starts valid. Hypothesis then damages them at the data
level (delete, rename with a typo, retype, swap a list and a mapping) and at the text level
(delete, duplicate or swap lines, change indentation, insert a tab, truncate, insert YAML
punctuation and template fragments). Whatever comes out, validation returns: either the
pipelines compile, or there is at least one diagnostic with a file, a line and column inside
the file, a JSON path and a message. Examples are derandomized so every run checks the same
ones.
"""

from __future__ import annotations

import copy
import io
import random
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import ruamel.yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ottermq.spec.loader import display_name, load_text
from ottermq.spec.repository import validate_paths

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [ROOT / "pipelines" / "checkout.yaml", *sorted((ROOT / "examples").glob("*/pipeline.yaml"))]
EMPTY_MODULE = b"\0asm\x01\0\0\0"
SUMMARY = re.compile(r"^\d+ errors? in \d+ files?$")
DIAGNOSTIC = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<column>\d+): (?P<path>\S+): (?P<message>.+)$")

FRAGMENTS = [
    "{{", "}}", "{%", "%}", "{{ params.nope }}", "{% for x in y %}", "{{ tasks.", "{{ item }}", "{#",
    ": ", "- ", "-", ":", "[", "]", "{", "}", ",", "&a ", "*a", "<<: *a", "!!int ", "!tag ", "|", ">", "#",
    "'", '"', "\\", "\t", "\n", "\n  ", "---\n", "...\n", "? ", "%YAML 1.1\n", "~", "null", ".inf", "0x_", "1e400",
    "é", "\u00a0", "\ufeff", "\x00", "\x85", "\u2028", "🦦",
]
REPLACEMENTS: list[Any] = [
    None, 0, -1, 3.5, True, "", "x", "30", "{{ params.nope }}", "{% if %}", [], {}, [1, "a", None], {"a": {"b": []}},
    10**30, float("inf"), float("nan"), "default", "1/s", "0 0 * * *", "../nowhere.wasm",
]


@dataclass(frozen=True)
class Workspace:
    root: Path
    bases: dict[str, str]


def _placeholder_copy(text: str) -> str:
    return re.sub(r"(?m)^(\s*module:\s*).*$", r"\1noop.wasm", text)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root = tmp_path_factory.mktemp("fuzz")
    (root / "noop.wasm").write_bytes(EMPTY_MODULE)
    for grant in ("data", "reports"):
        (root / grant).mkdir()
    bases = {}
    for source in SOURCES:
        text = _placeholder_copy(source.read_text(encoding="utf-8"))
        path = root / "base.yaml"
        path.write_text(text, encoding="utf-8")
        result = validate_paths([path])
        assert [str(d) for d in result.diagnostics] == [], f"{source} does not start valid"
        bases[source.parent.name if source.name == "pipeline.yaml" else source.stem] = text
    assert len(bases) >= 3
    return Workspace(root, bases)


# --- data-level damage ------------------------------------------------------------------------


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out.extend(_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out.extend(_paths(item, (*prefix, i)))
    return out


def _typo(word: str, where: int, how: int) -> str:
    if not word:
        return "x"
    i = where % len(word)
    if how == 0:
        return word[:i] + word[i + 1 :] or "x"
    if how == 1:
        return word[:i] + word[i] + word[i:]
    if how == 2 and len(word) > 1:
        j = min(i + 1, len(word) - 1)
        chars = list(word)
        chars[i], chars[j] = chars[j], chars[i]
        return "".join(chars)
    return word[:i] + "-" + word[i:].upper()


def damage_data(data: Any, op: int, pick: int, arg: int) -> Any:
    paths = [p for p in _paths(data) if p]
    if not paths:
        return copy.deepcopy(REPLACEMENTS[arg % len(REPLACEMENTS)])
    # Half the time, damage where any value is allowed (inputs, labels, defaults) or is shared
    # across files (queues): there the damage can reach the compiler and the cross-file checks.
    free = [p for p in paths if any(part in p for part in ("input", "labels", "default", "queues", "params"))]
    pool = free if pick % 2 and free else paths
    path = pool[pick // 2 % len(pool)]
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if op == 0:  # delete
        del parent[last]
    elif op == 1 and isinstance(last, str):  # rename with a typo, keeping the position
        items = [(_typo(k, arg, arg // 7 % 4) if k == last else k, v) for k, v in parent.items()]
        parent.clear()
        parent.update(items)
    elif op == 2:  # retype (a copy: the replacements must not end up inside one another)
        parent[last] = copy.deepcopy(REPLACEMENTS[arg % len(REPLACEMENTS)])
    else:  # swap a list and a mapping
        value = parent[last]
        if isinstance(value, dict):
            parent[last] = list(value.values())
        elif isinstance(value, list):
            parent[last] = {f"k{i}": v for i, v in enumerate(value)}
        else:
            parent[last] = [value]
    return data


def dump(data: Any) -> str:
    yaml = ruamel.yaml.YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


# --- text-level damage ------------------------------------------------------------------------


def damage_text(text: str, op: int, a: int, b: int, fragment: str) -> str:
    lines = text.split("\n")
    i, j = a % len(lines), b % len(lines)
    if op == 0:
        del lines[i]
    elif op == 1:
        lines.insert(i, lines[i])
    elif op == 2:
        lines[i], lines[j] = lines[j], lines[i]
    elif op == 3:  # indent or dedent by 1-3 spaces
        shift = b % 7 - 3 or 1
        lines[i] = " " * shift + lines[i] if shift > 0 else lines[i][min(-shift, len(lines[i]) - len(lines[i].lstrip(" "))) :]
    elif op == 4:  # a tab in the indentation
        stripped = lines[i].lstrip(" ")
        lines[i] = lines[i][: len(lines[i]) - len(stripped)][:-1] + "\t" + stripped
    elif op == 5:  # rename the key on a line with a typo
        match = re.match(r"^(\s*(?:- )?)([A-Za-z_][\w-]*)(:.*)$", lines[i])
        if match:
            lines[i] = match.group(1) + _typo(match.group(2), b, b // 5 % 4) + match.group(3)
    elif op == 6:
        return text[: a % (len(text) + 1)]
    else:  # insert a fragment of YAML or template syntax
        pos = a % (len(text) + 1)
        return text[:pos] + fragment + text[pos:]
    return "\n".join(lines)


text_damage = st.tuples(
    st.integers(0, 7), st.integers(0, 10**6), st.integers(0, 10**6), st.sampled_from(FRAGMENTS) | st.text(max_size=6)
)
data_damage = st.tuples(st.integers(0, 3), st.integers(0, 10**6), st.integers(0, 10**6))


@st.composite
def mutants(draw: st.DrawFn, bases: dict[str, str]) -> str:
    text = bases[draw(st.sampled_from(sorted(bases)))]
    if draw(st.booleans()):
        (doc,), problems = load_text(text, "base.yaml")
        assert problems == []
        data = doc.data
        for op, pick, arg in draw(st.lists(data_damage, min_size=1, max_size=3)):
            data = damage_data(data, op, pick, arg)
        text = dump(data)
    for op, a, b, fragment in draw(st.lists(text_damage, min_size=0, max_size=3)):
        text = damage_text(text, op, a, b, fragment)
    return text


def check_outcome(paths: list[Path]) -> None:
    result = validate_paths(paths)  # must return, whatever the input
    # YAML also breaks lines at NEL and U+2028/9; splitlines() counts those (and a few more).
    line_counts = {display_name(p): len(p.read_bytes().decode("utf-8", "replace").splitlines()) + 1 for p in paths}
    for d in result.diagnostics:
        assert d.file in line_counts, d
        assert 1 <= d.line <= line_counts[d.file] + 1, d
        assert d.column >= 1, d
        assert d.path and d.message.strip(), d
    if not result.diagnostics:
        assert len(result.pipelines) == len(result.documents) >= 1
        for compiled in result.pipelines:
            compiled.plan.to_json()


FUZZ = settings(
    max_examples=200,
    derandomize=True,
    database=None,
    deadline=timedelta(seconds=3),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)


@pytest.mark.timeout(180)
def test_damaged_pipelines_give_a_valid_result_or_located_errors(workspace: Workspace) -> None:
    @FUZZ
    @given(text=mutants(workspace.bases), companion=st.booleans())
    def run(text: str, companion: bool) -> None:
        mutant = workspace.root / "mutant.yaml"
        mutant.write_bytes(text.encode("utf-8", "surrogatepass"))
        paths = [mutant]
        if companion:
            # A second, undamaged pipeline declaring the same queues: cross-file checks see the damage too.
            other = workspace.root / "companion.yaml"
            other.write_text(workspace.bases["checkout"].replace("name: checkout", "name: companion"), encoding="utf-8")
            paths.append(other)
        check_outcome(paths)

    run()


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([float("inf"), float("-inf"), float("nan")])  # rare in st.floats, and JSON has none
    | st.text(max_size=12)
    | st.sampled_from(FRAGMENTS),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
FREE_SLOTS = [("tasks", 0, "input"), ("labels", "team"), ("params", 0, "default"), ("schedules", 0, "params", "date")]


@pytest.mark.timeout(120)
def test_any_value_where_pipelines_take_any_value(workspace: Workspace) -> None:
    """Inputs, labels, param defaults and schedule params hold user data: whatever it is, no crash."""

    @settings(FUZZ, max_examples=100)
    @given(base=st.sampled_from(sorted(workspace.bases)), slot=st.sampled_from(FREE_SLOTS), value=json_values)
    def run(base: str, slot: tuple[Any, ...], value: Any) -> None:
        (doc,), _ = load_text(workspace.bases[base], "base.yaml")
        data = doc.data
        parent = data
        for part in slot[:-1]:
            if isinstance(part, int):  # the first entry of a mapping by name
                part = next(iter(parent), None) if isinstance(parent, dict) else None
            if not isinstance(parent, dict) or part not in parent:
                return
            parent = parent[part]
        if isinstance(parent, dict):
            parent[slot[-1]] = value
        mutant = workspace.root / "value.yaml"
        mutant.write_text(dump(data), encoding="utf-8")
        check_outcome([mutant])

    run()


@pytest.mark.timeout(120)
def test_damaged_pipelines_through_the_cli_exit_0_or_1(workspace: Workspace) -> None:
    @settings(FUZZ, max_examples=6, deadline=None)
    @given(text=mutants(workspace.bases))
    def run(text: str) -> None:
        (workspace.root / "cli.yaml").write_bytes(text.encode("utf-8", "surrogatepass"))
        proc = subprocess.run(
            [sys.executable, "-m", "ottermq", "validate", "cli.yaml"],
            cwd=workspace.root,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode in (0, 1), proc.stdout + proc.stderr
        assert proc.stderr == ""
        lines = proc.stdout.splitlines()
        if proc.returncode == 0:
            assert lines and lines[0].startswith("1 pipeline valid: ")
            return
        assert lines and SUMMARY.match(lines[-1]), proc.stdout
        for line in lines[:-1]:
            match = DIAGNOSTIC.match(line)
            assert match and match["file"] == "cli.yaml" and int(match["line"]) >= 1 and int(match["column"]) >= 1, line

    run()


# Templates built from a grammar close to the subset the engine reads without Jinja's parser,
# with some tokens that take it outside (calls, tests, slices, keyword misuse).
_OPERANDS = ["a", "params.x", "tasks.t.output.total", "c['k']._p", "x[0].y", "'s'", "3", "2.5", "none", "true", "item"]
_FILTERS = ["round", "default(0)", "int", "sum(attribute='t')", "replace('a', 'b')", "default(x.y)", "length", "f(k=1, 2)", "round(1,)"]
_JOINS = ["+", "-", "*", "//", "%", "**", "~", "==", "<", ">=", "in", "not in", "and", "or", "and not", "+ not", "if", "else", "is"]
def grammar_expression(seed: int) -> str:
    """A random expression of the grammar above (built from a seed: much cheaper than a recursive strategy)."""
    rng = random.Random(seed)

    def operand(depth: int) -> str:
        roll = rng.random()
        if depth > 3 or roll < 0.45:
            text = rng.choice(_OPERANDS)
        elif roll < 0.6:
            text = f"({expression(depth + 1)})"
        else:
            text = rng.choice(["-", "not ", "- -"]) + operand(depth + 1)
        if rng.random() < 0.3:
            text += " | " + rng.choice(_FILTERS)
        return text

    def expression(depth: int) -> str:
        return " ".join([operand(depth), *(f"{rng.choice(_JOINS)} {operand(depth)}" for _ in range(rng.randint(0, 3)))])

    return expression(0)


@pytest.mark.timeout(60)
def test_the_quick_template_reading_agrees_with_jinja() -> None:
    from jinja2 import TemplateSyntaxError

    from ottermq.templating import TemplateEngine

    quick, full = TemplateEngine(), TemplateEngine()

    @settings(FUZZ, max_examples=300, deadline=None)
    @given(seed=st.integers(0, 2**32), tail=st.sampled_from(["", " and {{ a.b }}", " }} text"]))
    def run(seed: int, tail: str) -> None:
        source = "{{ " + grammar_expression(seed) + " }}" + tail
        try:
            expected = full._analyse(source)  # Jinja's parser, always
        except TemplateSyntaxError as exc:
            expected_error: str | None = str(exc)
        else:
            expected_error = None
        try:
            got = quick.analyse(source)  # the quick reading when it applies
        except TemplateSyntaxError as exc:
            assert expected_error is not None and str(exc) == expected_error or "unknown filter" in str(exc)
            return
        assert expected_error is None, f"accepted a template Jinja rejects: {source!r}"
        assert got.free_names == expected.free_names
        assert got.references == expected.references
        assert got.fields == expected.fields
        assert sorted(got.private_attributes) == sorted(expected.private_attributes)

    run()


# Inputs that once crashed or hung the validator: each must give located diagnostics, quickly.
PATHOLOGICAL = {
    "alias_bomb": "name: x\n"
    + "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
    + "".join(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 9)),
    "deep_flow_nesting": "name: x\ntasks: " + "[" * 50_000 + "]" * 50_000 + "\n",
    "deep_block_nesting": "name: x\ntasks:\n" + "".join(" " * (i + 1) + f"k{i}:\n" for i in range(400)),
    "deep_template": "name: x\nhandlers: {h: {module: noop.wasm}}\ntasks:\n  t:\n    handler: h\n    input: \"{{ "
    + "(" * 3000
    + "1"
    + ")" * 3000
    + ' }}"\n',
    "long_operator_chain": "name: x\nhandlers: {h: {module: noop.wasm}}\ntasks:\n  t:\n    handler: h\n    input: \"{{ 1"
    + " + 1" * 5000
    + ' }}"\n',
    "non_finite_numbers": "name: x\nqueues: {q: {concurrency: .nan}}\nparams:\n  p: {type: number, default: .inf}\n"
    "handlers: {h: {module: noop.wasm}}\ntasks:\n  t: {handler: h, queue: q}\n",
    "unparsable_integers": "name: x\nhandlers: {h: {module: noop.wasm, fuel: 0x_}}\ntasks:\n  t: {handler: h, priority: !!int x}\n",
    "recursive_alias": "name: x\ntasks: &t\n  t: *t\n",
    "nul_and_controls": "name: x\x00\ntasks: {}\n",
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", sorted(PATHOLOGICAL))
def test_pathological_inputs_give_located_errors(case: str, workspace: Workspace) -> None:
    path = workspace.root / f"{case}.yaml"
    path.write_text(PATHOLOGICAL[case], encoding="utf-8")
    result = validate_paths([path])
    assert result.diagnostics
    check_outcome([path])
