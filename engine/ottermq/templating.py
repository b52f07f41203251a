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

__all__ = ["TemplateEngine", "Reference", "TemplateInfo", "is_template"]

MAX_TEMPLATE_REPEAT = 1_000_000
_SINGLE_EXPRESSION = re.compile(r"^\s*\{\{(?P<expr>.*)\}\}\s*$", re.DOTALL)
_MARKERS = ("{{", "{%", "{#")


def is_template(value: str) -> bool:
    return any(marker in value for marker in _MARKERS)


@dataclass(frozen=True, slots=True)
class Reference:
    """A statically visible use of `params.NAME`, `tasks.NAME`, or another root variable."""

    root: str
    name: str | None


@dataclass(frozen=True, slots=True)
class TemplateInfo:
    free_names: frozenset[str]
    references: frozenset[Reference]
    private_attributes: tuple[str, ...]


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

    def analyse(self, source: str) -> TemplateInfo:
        """Parse ``source`` and list what it refers to. Raises TemplateSyntaxError."""
        ast = self._env.parse(source)
        refs: set[Reference] = set()
        private: list[str] = []
        for node in ast.find_all((nodes.Getattr, nodes.Getitem)):
            attr = _static_attr(node)
            if attr is not None and attr.startswith("_"):
                private.append(attr)
            target = node.node
            if isinstance(target, nodes.Name) and attr is not None:
                refs.add(Reference(target.name, attr))
        free = frozenset(meta.find_undeclared_variables(ast))
        for name in free:
            refs.add(Reference(name, None))
        return TemplateInfo(free, frozenset(refs), tuple(private))

    def check_syntax(self, source: str) -> None:
        self._template(source)

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
            if match and _is_single_output(self._env.parse(source)):
                compiled = _Expression(self._env.compile_expression(match.group("expr"), undefined_to_none=False))
            else:
                compiled = self._env.from_string(source)
        except TemplateSyntaxError as exc:
            raise TemplateError(f"template syntax error in `{_short(source)}` (line {exc.lineno}): {exc.message}") from None
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
