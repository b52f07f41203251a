from __future__ import annotations

from pathlib import Path

import pytest

from ottermq.compiler import params_json_schema
from ottermq.errors import ParamsError
from ottermq.params import parse_param_flags, read_params_file, resolve_params
from ottermq.plan import ExecutionPlan

PARAMS = {
    "order_id": {"type": "string", "pattern": "^[A-Z]-[0-9]+$"},
    "count": {"type": "integer", "minimum": 1, "default": 1},
    "region": {"type": "string", "enum": ["eu", "us"], "default": "eu"},
    "express": {"type": "boolean", "default": False},
    "lines": {"type": "array", "default": []},
}


def plan() -> ExecutionPlan:
    return ExecutionPlan(pipeline="shop", params_schema=params_json_schema(PARAMS), queues=(), handlers=(), tasks=())


def test_flags_are_read_by_declared_type() -> None:
    flags = ["order_id=A-1", "count=3", "express=yes", 'lines=[{"sku": "x"}]', "region=us"]
    assert parse_param_flags(flags, plan()) == {
        "order_id": "A-1", "count": 3, "express": True, "lines": [{"sku": "x"}], "region": "us",
    }


def test_defaults_are_applied() -> None:
    assert resolve_params(plan(), {"order_id": "A-1"}) == {
        "order_id": "A-1", "count": 1, "region": "eu", "express": False, "lines": [],
    }


def test_every_problem_is_reported_and_names_the_param() -> None:
    with pytest.raises(ParamsError) as info:
        resolve_params(plan(), {"count": 0, "region": "asia", "colour": "red", "express": "no"})
    text = str(info.value)
    assert "missing required param `order_id` (string)" in text
    assert "param `count`: 0 is less than the minimum of 1" in text
    assert "param `region`: `asia` is not one of eu, us" in text
    assert "unknown param `colour`" in text
    assert 'param `express`: expected boolean, got "no"' in text


def test_bad_flag_syntax_and_bad_json_values() -> None:
    with pytest.raises(ParamsError, match="expected NAME=VALUE"):
        parse_param_flags(["order_id"], plan())
    with pytest.raises(ParamsError, match="`many` is not a valid integer"):
        parse_param_flags(["count=many"], plan())


def test_params_file_json_and_yaml(tmp_path: Path) -> None:
    (tmp_path / "p.json").write_text('{"order_id": "A-2"}')
    (tmp_path / "p.yaml").write_text("order_id: A-3\ncount: 2\n")
    (tmp_path / "bad.yaml").write_text("- 1\n")
    assert read_params_file(tmp_path / "p.json") == {"order_id": "A-2"}
    assert read_params_file(tmp_path / "p.yaml") == {"order_id": "A-3", "count": 2}
    with pytest.raises(ParamsError, match="must hold one object"):
        read_params_file(tmp_path / "bad.yaml")
    with pytest.raises(ParamsError, match="cannot read params file"):
        read_params_file(tmp_path / "missing.json")
