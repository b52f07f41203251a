"""The JSON Schemas shipped inside the package, loaded with importlib.resources."""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator

__all__ = ["load_schema", "pipeline_validator"]


@functools.cache
def load_schema(name: str) -> dict[str, Any]:
    text = resources.files("ottermq").joinpath("schemas", name).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@functools.cache
def pipeline_validator() -> Draft202012Validator:
    schema = load_schema("pipeline.schema.json")
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)
