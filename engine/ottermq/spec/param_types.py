"""The JSON types a run param may have, and how values are told against them in messages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["PARAM_TYPES", "value_fits", "type_phrase", "value_phrase", "param_is_required"]

PARAM_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}
_ARTICLES = {"integer": "an integer", "array": "an array", "object": "an object"}


def value_fits(kind: str, value: Any) -> bool:
    if kind in ("integer", "number") and isinstance(value, bool):
        return False
    return isinstance(value, PARAM_TYPES.get(kind, (object,)))


def type_phrase(kind: str) -> str:
    """`a string`, `an integer`: a param type with its article."""
    return _ARTICLES.get(kind, f"a {kind}")


def value_phrase(value: Any) -> str:
    """What a YAML value is, in the words of param types."""
    if value is None:
        return "null"
    for kind in ("boolean", "integer", "number", "string", "array", "object"):
        if value_fits(kind, value):
            return type_phrase(kind)
    return type(value).__name__


def param_is_required(spec: Mapping[str, Any]) -> bool:
    """As the compiler decides it: `required` when given, else required when there is no default."""
    required = spec.get("required")
    return required if isinstance(required, bool) else "default" not in spec
