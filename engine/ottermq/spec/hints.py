"""What to write instead: the endings of schema messages for mistakes users make often.

Each function returns text to append to a message (starting with a space or a
comma), or the empty string when it has nothing likely to say.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ottermq.spec.schema import load_schema
from ottermq.suggest import closest
from ottermq.templating import is_template

__all__ = ["key_suggestion", "nesting_hint", "type_hint", "list_for_mapping", "resolve"]

# Keys other tools use for the same thing (Airflow, Celery, GitHub Actions, compose files).
_KEY_ALIASES = {
    "depends_on": "needs",
    "dependencies": "needs",
    "requires": "needs",
    "after": "needs",
    "with": "input",
    "args": "input",
    "arguments": "input",
    "params": "input",
    "payload": "input",
    "uses": "handler",
    "max_retries": "max_attempts",
    "retries": "max_attempts",
    "attempts": "max_attempts",
    "every": "interval",
    "tz": "timezone",
    "time_zone": "timezone",
    "wasm": "module",
    "path": "module",
    "file": "module",
}
_YAML11_BOOLEANS = {"yes": True, "y": True, "on": True, "no": False, "n": False, "off": False}
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


@functools.cache
def _defs() -> Mapping[str, Any]:
    defs: Mapping[str, Any] = load_schema("pipeline.schema.json").get("$defs", {})
    return defs


def resolve(node: Any) -> Mapping[str, Any]:
    """A subschema with its local `$ref` followed (the pipeline schema only refers to its own $defs)."""
    seen = 0
    while isinstance(node, Mapping) and isinstance(node.get("$ref"), str) and seen < 10:
        ref = node["$ref"]
        if not ref.startswith("#/$defs/"):
            break
        node = _defs().get(ref.removeprefix("#/$defs/"), {})
        seen += 1
    return node if isinstance(node, Mapping) else {}


def key_suggestion(key: str, allowed: Sequence[str]) -> str | None:
    """The key the user most likely meant: another tool's name for it, or a close spelling."""
    alias = _KEY_ALIASES.get(key)
    if alias in allowed:
        return alias
    return closest(key, allowed)


def nesting_hint(key: str, instance: Mapping[str, Any], properties: Mapping[str, Any]) -> tuple[str, str | None]:
    """For a key that is a setting of a nested mapping: the hint, and the empty parent it belongs under (if any)."""
    owners = [name for name, sub in properties.items() if key in resolve(sub).get("properties", {})]
    if not owners:
        return "", None
    empty = [name for name in owners if name in instance and instance[name] is None]
    if empty:
        return f" (it belongs under `{empty[0]}`, which is empty here: indent it below `{empty[0]}`)", empty[0]
    if len(owners) == 1:
        return f" (it is a setting of `{owners[0]}`: write it under `{owners[0]}:`)", None
    return "", None


def type_hint(path: Sequence[str | int], expected: Sequence[str], value: Any) -> str:
    """For a value of the wrong JSON type: the same value written the right way, when that is clear."""
    if isinstance(value, str):
        if "array" in expected and not is_template(value):
            parts = [p for p in re.split(r"[,\s]+", value.strip()) if p]
            if parts:
                return f" (write a list: `[{', '.join(parts)}]`)"
        if "boolean" in expected and value.lower() in _YAML11_BOOLEANS:
            word = "true" if _YAML11_BOOLEANS[value.lower()] else "false"
            return f" (OtterMQ reads YAML 1.2, where `{value}` is text: write `{word}`)"
        if ("integer" in expected or "number" in expected) and _NUMBER.match(value.strip()):
            return " (remove the quotes)"
        if "object" in expected and len(path) == 2 and path[0] == "handlers":
            return f" (write `{path[1]}: {{module: {value}}}`)"
    return ""


def list_for_mapping(noun: str, value: list[Any]) -> str:
    """A collection written as a list of entries with `name:` keys, as other tools do."""
    first = next((item.get("name") for item in value if isinstance(item, Mapping) and isinstance(item.get("name"), str)), None)
    if first is not None:
        return (
            f"expected a mapping of {noun}s by name, got a list: write `{first}:` as a key with its settings "
            f"indented below it, instead of `- name: {first}`"
        )
    return f"expected a mapping of {noun}s by name, got a list: write each {noun} as `NAME:` with its settings indented below it"
