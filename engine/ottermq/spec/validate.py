"""Validate documents against the pipeline JSON Schema and turn every error into a located diagnostic.

jsonschema finds the errors; this module only decides where each one points and
how it reads. Unknown keys are reported one per key, at the key, with a suggestion;
`anyOf`/`oneOf` failures use the schema's `errorMessage` or the most relevant branch.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from jsonschema import ValidationError
from jsonschema.exceptions import best_match

from ottermq.spec.diagnostics import Diagnostic, JsonPath
from ottermq.spec.loader import SourceDocument
from ottermq.spec.schema import pipeline_validator
from ottermq.suggest import did_you_mean

__all__ = ["schema_diagnostics"]

_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping",
    "null": "null",
}

# What the entries of a mapping are called, for messages about their names.
_ENTRY_NOUNS = {
    "tasks": "task",
    "queues": "queue",
    "handlers": "handler",
    "schedules": "schedule",
    "params": "param",
    "labels": "label",
}


def schema_diagnostics(document: SourceDocument) -> list[Diagnostic]:
    """Every schema violation in ``document``."""
    out: list[Diagnostic] = []
    for error in pipeline_validator().iter_errors(document.data):
        out.extend(_translate(document, error))
    return out


def _translate(doc: SourceDocument, error: ValidationError) -> Iterator[Diagnostic]:
    path: JsonPath = tuple(error.absolute_path)
    validator = error.validator
    schema = error.schema if isinstance(error.schema, dict) else {}
    if validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = sorted(schema.get("properties", {}))
        for key in error.instance:
            if key not in schema.get("properties", {}):
                hint = did_you_mean(key, allowed)
                where = _where(path)
                yield doc.diagnostic((*path, key), f"unknown key `{key}`{where}{hint}", key=True)
        return
    if "propertyNames" in error.absolute_schema_path:
        # jsonschema reports a bad key at its parent mapping, with the key as the instance.
        name = str(error.instance)
        noun = _ENTRY_NOUNS.get(str(path[-1]) if path else "", "key")
        detail = schema.get("errorMessage") or _message_for(error, name)
        yield doc.diagnostic((*path, name), f"{noun} name `{name}` {detail}", key=True)
        return
    if validator in ("anyOf", "oneOf") and error.context:
        branch = _matching_branch(error)
        if branch is not None:
            for sub in branch:
                yield from _translate(doc, sub)
            return
    if validator == "required":
        missing = [k for k in schema.get("required", ()) if isinstance(error.instance, dict) and k not in error.instance]
        for key in missing:
            yield doc.diagnostic(path, f"missing required key `{key}`", key=True)
        return
    yield doc.diagnostic(path, _message_for(error, error.instance), key=False)


def _matching_branch(error: ValidationError) -> list[ValidationError] | None:
    """The errors of the one alternative whose type fits the value, if exactly one fits.

    `{queue: q2, wieght: 2}` against "a name or {queue, weight}" should say `wieght` is
    unknown, not that the whole item is neither alternative.
    """
    branches: dict[int, list[ValidationError]] = {}
    for sub in error.context or ():
        branches.setdefault(int(sub.relative_schema_path[0]), []).append(sub)
    fitting = [
        errs
        for errs in branches.values()
        if not any(e.validator == "type" and len(e.relative_schema_path) == 2 for e in errs)
    ]
    total = len(error.validator_value)
    if len(branches) == total and len(fitting) == 1 and error.validator == "anyOf":
        branch = fitting[0]
        # Only when the mistakes are inside the value; a scalar that fits no branch reads better whole.
        if all(len(e.absolute_path) > len(error.absolute_path) or e.validator in ("required", "additionalProperties") for e in branch):
            return branch
    return None


def _where(path: JsonPath) -> str:
    if not path:
        return " at the top level"
    return ""


def _message_for(error: ValidationError, value: Any) -> str:
    """A human message for one failing keyword."""
    schema = error.schema if isinstance(error.schema, dict) else {}
    custom = schema.get("errorMessage")
    validator = error.validator
    if custom and validator == "oneOf":
        return str(custom)
    if custom and validator in ("pattern", "anyOf", "type", "minimum"):
        return f"`{_show(value)}` {custom}"
    if validator == "type":
        expected = error.validator_value
        names = [expected] if isinstance(expected, str) else list(expected)
        wanted = " or ".join(_TYPE_NAMES.get(n, n) for n in names)
        return f"expected {wanted}, got {_describe(value)}"
    if validator == "enum":
        options = [str(o) for o in error.validator_value]
        hint = did_you_mean(str(value), options) if isinstance(value, str) else ""
        return f"`{_show(value)}` is not one of {', '.join(options)}{hint}"
    if validator == "minimum":
        return f"must be at least {error.validator_value} (got {_show(value)})"
    if validator == "maximum":
        return f"must be at most {error.validator_value} (got {_show(value)})"
    if validator == "minItems":
        return f"must have at least {error.validator_value} item{'s' if error.validator_value != 1 else ''}"
    if validator == "minProperties":
        return f"must have at least {error.validator_value} entr{'ies' if error.validator_value != 1 else 'y'}"
    if validator == "minLength":
        return "must not be empty" if error.validator_value == 1 else f"must be at least {error.validator_value} characters"
    if validator == "uniqueItems":
        return "has duplicate items"
    if validator == "pattern":
        return f"`{_show(value)}` does not match the pattern {error.validator_value}"
    if validator in ("anyOf", "oneOf") and error.context:
        return _message_for(best_match(error.context), value)
    return error.message


def _describe(value: Any) -> str:
    if value is None:
        return "null (an empty value)"
    if isinstance(value, bool):
        return f"a boolean `{_show(value)}`"
    if isinstance(value, int):
        return f"an integer `{value}`"
    if isinstance(value, float):
        return f"a number `{value}`"
    if isinstance(value, str):
        return f"a string `{_show(value)}`"
    if isinstance(value, list):
        return "a list"
    return "a mapping"


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 60 else text[:57] + "..."
