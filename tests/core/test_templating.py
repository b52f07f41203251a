from __future__ import annotations

import pytest

from ottermq.errors import SandboxViolation, TemplateError
from ottermq.templating import TemplateEngine

CTX = {
    "params": {"items": [1, 2], "name": "otter", "n": 3},
    "tasks": {"a": {"output": {"total": 5, "lines": ["x", "y"]}}},
    "run": {"id": "r1"},
}


@pytest.fixture
def engine() -> TemplateEngine:
    return TemplateEngine()


def test_single_expression_keeps_its_json_type(engine: TemplateEngine) -> None:
    value = {"list": "{{ params.items }}", "num": "{{ tasks.a.output.total * 2 }}", "obj": "{{ tasks.a.output }}"}
    assert engine.render_value(value, CTX) == {"list": [1, 2], "num": 10, "obj": {"total": 5, "lines": ["x", "y"]}}


def test_mixed_text_renders_to_a_string(engine: TemplateEngine) -> None:
    assert engine.render_value("hello {{ params.name }} #{{ params.n }}", CTX) == "hello otter #3"


def test_non_template_values_pass_through(engine: TemplateEngine) -> None:
    assert engine.render_value({"a": [1, "plain", None, True]}, CTX) == {"a": [1, "plain", None, True]}


def test_mapping_keys_win_over_dict_methods(engine: TemplateEngine) -> None:
    # A param called `items` must not resolve to dict.items.
    assert engine.render_string("{{ params.items }}", CTX) == [1, 2]


@pytest.mark.parametrize("source", ["{{ params.nope }}", "x {{ params.nope }}", "{{ missing }}", "{{ tasks.b.output }}"])
def test_undefined_names_are_errors_not_empty_strings(engine: TemplateEngine, source: str) -> None:
    with pytest.raises(TemplateError) as info:
        engine.render_string(source, CTX)
    assert not isinstance(info.value, SandboxViolation)


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ params.__class__ }}",
        "{{ params.name.__class__.__base__ }}",
        "{{ params.name|attr('__class__') }}",
        "{{ params.items.append(3) }}",
        "{{ params.name.format.__globals__ }}",
        "{{ range.__init__.__globals__ }}",
        "{% for c in ''.__class__.__mro__ %}{{ c }}{% endfor %}",
        "{{ (1).__class__.__base__.__subclasses__() }}",
        "{{ 'x' * 10000000000 }}",
        "{{ params.items * 100000000 }}",
    ],
)
def test_sandbox_escapes_are_refused(engine: TemplateEngine, source: str) -> None:
    with pytest.raises(SandboxViolation, match="sandbox"):
        engine.render_string(source, CTX)


@pytest.mark.parametrize("source", ["{{ lipsum() }}", "{{ cycler(1, 2) }}", "{{ joiner() }}"])
def test_unneeded_globals_are_not_available(engine: TemplateEngine, source: str) -> None:
    with pytest.raises(TemplateError, match="undefined"):
        engine.render_string(source, CTX)


def test_syntax_errors_name_the_template(engine: TemplateEngine) -> None:
    with pytest.raises(TemplateError, match=r"syntax error in `\{\{ 1 \+ \}\}`"):
        engine.render_string("{{ 1 + }}", CTX)


def test_analyse_lists_static_references(engine: TemplateEngine) -> None:
    info = engine.analyse("{{ params.a }}{% for x in tasks.b.output %}{{ x }}{% endfor %}{{ tasks['c'] }}")
    refs = {(r.root, r.name) for r in info.references if r.name}
    assert refs == {("params", "a"), ("tasks", "b"), ("tasks", "c")}
    assert info.free_names == {"params", "tasks"}
