"""The JSON Schemas shipped inside the package, loaded with importlib.resources."""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator

__all__ = ["load_schema", "pipeline_validator", "inline_refs"]

# Keywords that only annotate: beside a `$ref` they may be merged into the referenced schema.
_ANNOTATIONS = frozenset({"description", "title", "default", "examples", "$comment"})


@functools.cache
def load_schema(name: str) -> dict[str, Any]:
    text = resources.files("ottermq").joinpath("schemas", name).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@functools.cache
def pipeline_validator() -> Draft202012Validator:
    schema = load_schema("pipeline.schema.json")
    Draft202012Validator.check_schema(schema)
    # The same schema with its `$ref`s replaced by what they refer to: jsonschema resolves a
    # reference on every use, which was two thirds of the time spent validating a repository.
    inlined = inline_refs(schema)
    Draft202012Validator.check_schema(inlined)
    return Draft202012Validator(inlined)


def inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with every local `#/$defs/NAME` reference replaced by its target (the schema has no cycles)."""
    defs = schema.get("$defs", {})

    def walk(node: Any, trail: tuple[str, ...]) -> Any:
        if isinstance(node, list):
            return [walk(item, trail) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            name = ref.removeprefix("#/$defs/")
            if name in trail:
                raise ValueError(f"recursive reference {ref} cannot be inlined")
            target = walk(defs[name], (*trail, name))
            rest = {k: walk(v, trail) for k, v in node.items() if k != "$ref"}
            if all(k in _ANNOTATIONS for k in rest):
                return {**target, **rest}
            return {"allOf": [target], **rest}
        return {k: walk(v, trail) for k, v in node.items() if k != "$defs"}

    return walk(schema, ())
