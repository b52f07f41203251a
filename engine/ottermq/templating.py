"""Jinja2 templates in pipeline values: sandboxed, strict, and JSON-native.

A string value is a template. A string that is exactly one expression, such as
``"{{ params.items }}"``, renders to the expression's JSON value (a list stays a
list); any other string renders to text. Rendering happens in a
``SandboxedEnvironment`` with ``StrictUndefined``: a misspelt name is an error,
never an empty string, and attribute access outside plain data is refused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jinja2
from jinja2 import meta, nodes
from jinja2.exceptions import SecurityError, TemplateSyntaxError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ottermq.errors import SandboxViolation, TemplateError
from ottermq.suggest import did_you_mean
from ottermq.template_scan import Reference, TemplateInfo, quick_info

__all__ = ["TemplateEngine", "Reference", "TemplateInfo", "is_template"]

MAX_TEMPLATE_REPEAT = 1_000_000
_SINGLE_EXPRESSION = re.compile(r"^\s*\{\{(?P<expr>.*)\}\}\s*$", re.DOTALL)
_MARKERS = ("{{", "{%", "{#")
_TOO_DEEP = "the template is nested too deeply (or chains too many operators) to be parsed"


def is_template(value: str) -> bool:
    return any(marker in value for marker in _MARKERS)


class _DataEnvironment(ImmutableSandboxedEnvironment):
    """`a.b` on a mapping means the key `b` first, so a param called `items` is the param, not dict.items."""

    intercepted_binops = frozenset({"*", "**"})

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, Mapping) and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        # A template must not be able to allocate gigabytes: `"x" * 10**10`, `9 ** 9 ** 9`.
        if operator == "**" and isinstance(right, int) and abs(right) > 1000:
            raise SecurityError("exponent too large in a template (at most 1000)")
        if operator == "*":
            size = _repeat_size(left, right)
            if size > MAX_TEMPLATE_REPEAT:
                raise SecurityError(f"a template may not build a string or list of more than {MAX_TEMPLATE_REPEAT} items")
        return super().call_binop(context, operator, left, right)


class TemplateEngine:
    """One sandboxed Jinja2 environment; parsed templates are cached per engine."""

    def __init__(self) -> None:
        self._env = _DataEnvironment(
            undefined=jinja2.StrictUndefined,
            autoescape=False,
            keep_trailing_newline=True,
        )
        self._env.filters["tojson"] = _tojson
        for name in ("lipsum", "cycler", "joiner", "namespace"):
            self._env.globals.pop(name, None)
        self._compiled: dict[str, Any] = {}
        # Analyses by source (the same templates recur across tasks and files), and their syntax errors.
        self._analysed: dict[str, TemplateInfo | TemplateSyntaxError] = {}

    def analyse(self, source: str) -> TemplateInfo:
        """Parse ``source`` and list what it refers to. Raises TemplateSyntaxError."""
        found = self._analysed.get(source)
        if found is None:
            try:
                found = self._quick(source) or self._analyse(source)
            except TemplateSyntaxError as exc:
                found = exc
            except RecursionError:
                # Jinja's parser and code generator recurse once per nesting level (and per `+` in a chain).
                found = TemplateSyntaxError(_TOO_DEEP, 1)
            self._analysed[source] = found
        if isinstance(found, TemplateSyntaxError):
            raise found.with_traceback(None)
        return found

    def _analyse(self, source: str) -> TemplateInfo:
        ast = self._parse(source)
        refs: set[Reference] = set()
        fields: set[tuple[str, str, str]] = set()
        private: list[str] = []
        loaded: set[str] = set()
        plain = True  # no statement and no assignment: the free names are the names read
        for node in ast.find_all(nodes.Node):
            if isinstance(node, (nodes.Getattr, nodes.Getitem)):
                attr = _static_attr(node)
                if attr is not None and attr.startswith("_"):
                    private.append(attr)
                target = node.node
                if isinstance(target, nodes.Name) and attr is not None:
                    refs.add(Reference(target.name, attr))
                inner = _static_attr(target) if isinstance(target, (nodes.Getattr, nodes.Getitem)) else None
                if attr is not None and inner is not None and isinstance(target.node, nodes.Name):
                    fields.add((target.node.name, inner, attr))
            elif isinstance(node, nodes.Name):
                if node.ctx == "load":
                    loaded.add(node.name)
                else:
                    plain = False
            elif isinstance(node, (nodes.Filter, nodes.Test)):
                self._known_filter_or_test(node)
            elif isinstance(node, nodes.Stmt) and not isinstance(node, nodes.Output):
                plain = False
        # Jinja's own analysis runs its code generator: exact with scopes, but slow; most templates need none.
        free = frozenset(loaded) if plain else frozenset(meta.find_undeclared_variables(ast))
        for name in free:
            refs.add(Reference(name, None))
        return TemplateInfo(free, frozenset(refs), tuple(dict.fromkeys(private)), frozenset(fields))

    def _quick(self, source: str) -> TemplateInfo | None:
        quick = quick_info(source)
        if quick is None:
            return None
        info, filters = quick  # type: ignore[misc]
        for name in filters:
            self._known_filter_or_test(nodes.Filter(None, name, [], [], None, None, lineno=1))
        return info  # type: ignore[no-any-return]

    def _known_filter_or_test(self, node: nodes.Filter | nodes.Test) -> None:
        """Unknown filter and test names, wherever they are (Jinja defers those inside `if` to run time)."""
        if node.name is None:
            return
        known = self._env.filters if isinstance(node, nodes.Filter) else self._env.tests
        if node.name not in known:
            kind = "filter" if isinstance(node, nodes.Filter) else "test"
            hint = did_you_mean(node.name, [n for n in known if not n.startswith("_")])
            raise TemplateSyntaxError(f"unknown {kind} `{node.name}`{hint}", node.lineno)

    def _parse(self, source: str) -> nodes.Template:
        try:
            return self._env.parse(source)
        except RecursionError:
            raise TemplateSyntaxError(_TOO_DEEP, 1) from None

    def check_syntax(self, source: str) -> None:
        """Raise TemplateError if ``source`` does not parse (compiling waits for the first render)."""
        try:
            self.analyse(source)
        except TemplateSyntaxError as exc:
            raise TemplateError(f"template syntax error in `{_short(source)}` (line {exc.lineno}): {exc.message}") from None

    def render_value(self, value: Any, context: Mapping[str, Any]) -> Any:
        """Render every template string inside a JSON value."""
        if isinstance(value, str):
            return self.render_string(value, context) if is_template(value) else value
        if isinstance(value, list):
            return [self.render_value(v, context) for v in value]
        if isinstance(value, dict):
            return {k: self.render_value(v, context) for k, v in value.items()}
        return value

    def render_string(self, source: str, context: Mapping[str, Any]) -> Any:
        compiled = self._template(source)
        try:
            if isinstance(compiled, _Expression):
                result = compiled.fn(**context)
                if isinstance(result, jinja2.Undefined):
                    result._fail_with_undefined_error()
                return _to_json_value(result, source)
            return compiled.render(**context)
        except SecurityError as exc:
            raise SandboxViolation(f"template `{_short(source)}` was refused by the sandbox: {exc}") from None
        except UndefinedError as exc:
            raise TemplateError(f"template `{_short(source)}`: {_undefined_message(exc)}") from None
        except TemplateError:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure inside user template code is the user's
            raise TemplateError(f"template `{_short(source)}` failed: {type(exc).__name__}: {exc}") from None

    def _template(self, source: str) -> Any:
        compiled = self._compiled.get(source)
        if compiled is not None:
            return compiled
        match = _SINGLE_EXPRESSION.match(source)
        try:
            if match and _is_single_output(self._parse(source)):
                compiled = _Expression(self._env.compile_expression(match.group("expr"), undefined_to_none=False))
            else:
                compiled = self._env.from_string(source)
        except TemplateSyntaxError as exc:
            raise TemplateError(f"template syntax error in `{_short(source)}` (line {exc.lineno}): {exc.message}") from None
        except RecursionError:
            raise TemplateError(f"template syntax error in `{_short(source)}`: {_TOO_DEEP}") from None
        self._compiled[source] = compiled
        return compiled


@dataclass(frozen=True, slots=True)
class _Expression:
    fn: Any


def _is_single_output(ast: nodes.Template) -> bool:
    if len(ast.body) != 1 or not isinstance(ast.body[0], nodes.Output):
        return False
    parts = [n for n in ast.body[0].nodes if not (isinstance(n, nodes.TemplateData) and not n.data.strip())]
    return len(parts) == 1 and not isinstance(parts[0], nodes.TemplateData)


def _static_attr(node: nodes.Node) -> str | None:
    if isinstance(node, nodes.Getattr):
        return str(node.attr)
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
        return node.arg.value
    return None


def _repeat_size(left: Any, right: Any) -> int:
    for seq, count in ((left, right), (right, left)):
        if isinstance(seq, (str, list, tuple)) and isinstance(count, int) and not isinstance(count, bool):
            return len(seq) * count
    return 0


def _to_json_value(value: Any, source: str) -> Any:
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError):
        raise TemplateError(
            f"template `{_short(source)}` produced a {type(value).__name__}, which is not a JSON value"
        ) from None


def _tojson(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _undefined_message(exc: UndefinedError) -> str:
    return str(exc.message or exc).replace("'", "`")


def _short(source: str) -> str:
    flat = " ".join(source.split())
    return flat if len(flat) <= 80 else flat[:77] + "..."
