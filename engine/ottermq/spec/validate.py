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
from ottermq.spec.hints import key_suggestion, list_for_mapping, nesting_hint, type_hint
from ottermq.spec.loader import SourceDocument
from ottermq.spec.schema import pipeline_validator
from ottermq.suggest import did_you_mean
from ottermq.templating import is_template

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
    # Unknown keys first: one may explain an empty mapping next to it (a key not indented under it).
    errors = sorted(pipeline_validator().iter_errors(document.data), key=lambda e: e.validator != "additionalProperties")
    translator = _Translator(document)
    out: list[Diagnostic] = []
    for error in errors:
        out.extend(translator.translate(error))
    return out


class _Translator:
    def __init__(self, doc: SourceDocument) -> None:
        self.doc = doc
        # Empty mappings whose keys were found next to them (reported at those keys instead).
        self.explained_empty: set[JsonPath] = set()

    def translate(self, error: ValidationError) -> Iterator[Diagnostic]:
        doc = self.doc
        path: JsonPath = tuple(error.absolute_path)
        validator = error.validator
        schema = error.schema if isinstance(error.schema, dict) else {}
        instance = error.instance
        if any(path[: len(broken)] == broken for broken in doc.broken):
            return
        if validator == "additionalProperties" and isinstance(instance, dict):
            yield from self._unknown_keys(path, schema, instance)
            return
        if "propertyNames" in error.absolute_schema_path:
            # jsonschema reports a bad key at its parent mapping, with the key as the instance.
            name = str(instance)
            noun = _ENTRY_NOUNS.get(str(path[-1]) if path else "", "key")
            detail = schema.get("errorMessage") or _message_for(error, name)
            yield doc.diagnostic((*path, name), f"{noun} name `{name}` {detail}", key=True)
            return
        if validator == "oneOf" and _misspelt_alternative(schema, instance):
            return  # the unknown key is reported, with the alternative it meant
        if validator in ("anyOf", "oneOf") and error.context:
            branch = _matching_branch(error)
            if branch is not None:
                for sub in branch:
                    yield from self.translate(sub)
                return
        if validator == "required":
            yield from self._missing_keys(path, schema, instance)
            return
        if validator == "uniqueItems" and isinstance(instance, list):
            yield from _duplicates(doc, path, instance)
            return
        if validator == "type":
            expected = [error.validator_value] if isinstance(error.validator_value, str) else list(error.validator_value)
            if instance is None and "object" in expected and path in self.explained_empty:
                return
            if not path:
                yield doc.diagnostic(path, _root_message(instance))
                return
            if isinstance(instance, list) and "object" in expected and len(path) == 1 and str(path[0]) in _ENTRY_NOUNS:
                yield doc.diagnostic(path, list_for_mapping(_ENTRY_NOUNS[str(path[0])], instance))
                return
            if _is_template(instance):
                yield doc.diagnostic(path, _template_message(instance))
                return
            hint = "" if instance is None else type_hint(path, expected, instance)
            # An empty value has no text of its own to point at: point at its key.
            yield doc.diagnostic(path, _message_for(error, instance) + hint, key=instance is None)
            return
        if _is_template(instance) and validator in ("pattern", "enum", "anyOf", "oneOf", "minLength"):
            yield doc.diagnostic(path, _template_message(instance))
            return
        # A mapping that lacks a choice (`cron` or `interval`) is pointed at by its key.
        yield doc.diagnostic(path, _message_for(error, instance), key=validator == "oneOf" and isinstance(instance, dict))

    def _unknown_keys(self, path: JsonPath, schema: dict[str, Any], instance: dict[str, Any]) -> Iterator[Diagnostic]:
        properties = schema.get("properties", {})
        allowed = sorted(properties)
        for key in instance:
            if key in properties:
                continue
            suggestion = key_suggestion(key, allowed)
            hint = f", did you mean `{suggestion}`?" if suggestion else ""
            if not hint:
                hint, empty = nesting_hint(key, instance, properties)
                if empty is not None:
                    self.explained_empty.add((*path, empty))
            yield self.doc.diagnostic((*path, key), f"unknown key `{key}`{_where(path)}{hint}", key=True)

    def _missing_keys(self, path: JsonPath, schema: dict[str, Any], instance: Any) -> Iterator[Diagnostic]:
        if not isinstance(instance, dict):
            return
        properties = schema.get("properties", {})
        allowed = sorted(properties)
        # A misspelt key is reported once, as unknown with its suggestion, not also as missing.
        meant = {key_suggestion(k, allowed) for k in instance if k not in properties}
        for key in schema.get("required", ()):
            if key not in instance and key not in meant:
                yield self.doc.diagnostic(path, f"missing required key `{key}`", key=True)


def _misspelt_alternative(schema: dict[str, Any], instance: Any) -> bool:
    """`every: 15m` in a schedule: the value has none of the alternatives, but an unknown key meant one."""
    if not isinstance(instance, dict):
        return False
    alternatives = {b["required"][0] for b in schema.get("oneOf", ()) if isinstance(b, dict) and b.get("required")}
    if any(k in instance for k in alternatives):
        return False
    properties = schema.get("properties", {})
    allowed = sorted(properties)
    return any(key_suggestion(k, allowed) in alternatives for k in instance if k not in properties)


def _is_template(value: Any) -> bool:
    return isinstance(value, str) and is_template(value)


def _template_message(value: str) -> str:
    return (
        f"`{_show(value)}` is a template, but this setting is not templated: templates are rendered only "
        "in a task's `input` and `for_each` and in schedule `params` (write the value itself)"
    )


def _root_message(instance: Any) -> str:
    message = f"a pipeline document must be a mapping (name, tasks, ...), got {_describe(instance)}"
    if isinstance(instance, list) and any(isinstance(item, dict) and "tasks" in item for item in instance):
        message += "; write one pipeline per YAML document, separated by `---` lines, instead of a list"
    return message


def _duplicates(doc: SourceDocument, path: JsonPath, items: list[Any]) -> Iterator[Diagnostic]:
    seen: list[str] = []
    for i, item in enumerate(items):
        text = json.dumps(item, sort_keys=True, default=str)
        if text in seen:
            yield doc.diagnostic((*path, i), f"`{_show(item)}` is listed twice")
        seen.append(text)


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
        return str(custom) + _present_keys(error.validator_value, value)
    if custom and validator in ("pattern", "anyOf", "type", "minimum", "maximum") and value is not None:
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


def _present_keys(branches: Any, value: Any) -> str:
    """For "exactly one of `a` or `b`": which of them the value has."""
    keys = [b["required"][0] for b in branches if isinstance(b, dict) and b.get("required")]
    if not isinstance(value, dict) or len(keys) != len(branches):
        return ""
    present = [k for k in keys if k in value]
    if len(present) == len(keys):
        return " (it has both)" if len(keys) == 2 else " (it has all of them)"
    if not present:
        return " (it has neither)" if len(keys) == 2 else " (it has none of them)"
    return ""


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
