"""Run parameters: from `--param k=v` flags and params files, checked against a plan's params schema."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from ottermq.errors import ParamsError
from ottermq.plan import ExecutionPlan
from ottermq.suggest import did_you_mean

__all__ = ["parse_param_flags", "read_params_file", "resolve_params"]


def parse_param_flags(flags: Iterable[str], plan: ExecutionPlan | None = None) -> dict[str, Any]:
    """`name=value` pairs; values are read according to the param's declared type."""
    types = {name: spec.get("type", "string") for name, spec in (plan.params_schema["properties"] if plan else {}).items()}
    out: dict[str, Any] = {}
    for flag in flags:
        name, sep, raw = flag.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ParamsError(f"--param `{flag}`: expected NAME=VALUE")
        out[name] = _coerce(name, raw, types.get(name))
    return out


def _coerce(name: str, raw: str, kind: str | None) -> Any:
    if kind in (None, "string"):
        return raw
    if kind == "boolean" and raw.lower() in ("true", "false", "yes", "no", "1", "0"):
        return raw.lower() in ("true", "yes", "1")
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        raise ParamsError(f"param `{name}`: `{raw}` is not a valid {kind} (write {kind}s as JSON)") from None


def read_params_file(path: str | Path) -> dict[str, Any]:
    """A JSON or YAML object of params."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ParamsError(f"cannot read params file {p}: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        from ruamel.yaml import YAML
        from ruamel.yaml.error import YAMLError

        try:
            data = YAML(typ="safe", pure=True).load(text)
        except YAMLError as exc:
            raise ParamsError(f"params file {p} is neither JSON nor YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ParamsError(f"params file {p} must hold one object of name: value")
    return data


def resolve_params(plan: ExecutionPlan, given: Mapping[str, Any]) -> dict[str, Any]:
    """Apply defaults and check ``given`` against the plan's params schema; every problem in one error."""
    schema = plan.params_schema
    properties: Mapping[str, Any] = schema["properties"]
    params = {name: spec["default"] for name, spec in properties.items() if "default" in spec}
    params.update(given)
    problems: list[str] = []
    for name in given:
        if name not in properties:
            hint = did_you_mean(name, properties) if properties else f" (pipeline `{plan.pipeline}` takes no params)"
            problems.append(f"unknown param `{name}`{hint}")
    for name in schema.get("required", ()):
        if name not in params:
            problems.append(f"missing required param `{name}`{_describe(properties[name])}")
    validator = Draft202012Validator({**schema, "additionalProperties": True, "required": []})
    for error in sorted(validator.iter_errors(params), key=lambda e: list(e.absolute_path)):
        name = str(error.absolute_path[0]) if error.absolute_path else "params"
        problems.append(f"param `{name}`: {_message(error)}")
    if problems:
        raise ParamsError(f"invalid params for pipeline `{plan.pipeline}`:\n  " + "\n  ".join(problems))
    return params


def _describe(spec: Mapping[str, Any]) -> str:
    text = f" ({spec.get('type', 'string')}"
    if "enum" in spec:
        text += f", one of {', '.join(map(str, spec['enum']))}"
    if "description" in spec:
        text += f": {spec['description']}"
    return text + ")"


def _message(error: Any) -> str:
    if error.validator == "type":
        return f"expected {error.validator_value}, got {json.dumps(error.instance)}"
    if error.validator == "enum":
        options = ", ".join(map(str, error.validator_value))
        hint = did_you_mean(str(error.instance), map(str, error.validator_value))
        return f"`{error.instance}` is not one of {options}{hint}"
    return str(error.message)
