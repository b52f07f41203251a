"""Nothing from the host reaches a handler unless granted: environment, directories, stdio."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ottermq.errors import ConfigError
from ottermq.wasm import CallResult, DirGrant, FailureKind, SandboxSpec, WasmRuntime

from .conftest import load, module

# WASI errno values the probe reports.
ERRNO_BADF = 8
ERRNO_PERM = 63


def _out(result: CallResult) -> object:
    assert result.ok, result.error
    return json.loads(result.output or "")


def test_no_environment_without_a_grant(runtime: WasmRuntime) -> None:
    assert _out(load(runtime, "command_probe.wat").call('{"op":"env"}')) == {"count": 0, "first": None}
    assert _out(load(runtime, "component_env.wat").call("{}")) == {"env": None}


def test_granted_variables_only(runtime: WasmRuntime) -> None:
    probe = load(runtime, "command_probe.wat", env=("SECRET_TOKEN",))
    assert _out(probe.call('{"op":"env"}')) == {"count": 1, "first": "SECRET_TOKEN=abc123"}
    component = load(runtime, "component_env.wat", env=("SECRET_TOKEN",))
    assert _out(component.call("{}")) == {"env": "SECRET_TOKEN=abc123"}


def test_a_granted_variable_missing_on_the_host_is_simply_absent(runtime: WasmRuntime) -> None:
    probe = load(runtime, "command_probe.wat", env=("NOT_SET_ANYWHERE",))
    assert _out(probe.call('{"op":"env"}')) == {"count": 0, "first": None}


def test_default_environment_is_the_process_environment_at_call_time(monkeypatch: pytest.MonkeyPatch) -> None:
    with WasmRuntime() as rt:
        probe = rt.load(module("command_probe.wat"), SandboxSpec(env=("OTTERMQ_TEST_GRANT",)))
        monkeypatch.setenv("OTTERMQ_TEST_GRANT", "later")
        assert _out(probe.call('{"op":"env"}')) == {"count": 1, "first": "OTTERMQ_TEST_GRANT=later"}


def test_no_file_access_without_a_grant(runtime: WasmRuntime, tmp_path: Path) -> None:
    (tmp_path / "in.txt").write_text("secret")
    result = load(runtime, "command_probe.wat").call('{"op":"read"}')
    assert result.kind is FailureKind.EXIT
    assert result.error == f"cannot open in.txt: errno {ERRNO_BADF}"


def test_read_only_grant_allows_reads_and_refuses_writes(runtime: WasmRuntime, tmp_path: Path) -> None:
    (tmp_path / "in.txt").write_text("hello from the host")
    probe = load(runtime, "command_probe.wat", dirs=(DirGrant(str(tmp_path), "/data"),))
    assert _out(probe.call('{"op":"read"}')) == {"content": "hello from the host"}
    refused = probe.call('{"op":"write"}')
    assert refused.kind is FailureKind.EXIT
    assert refused.error == f"cannot create out.txt: errno {ERRNO_PERM}"
    assert not (tmp_path / "out.txt").exists()


def test_read_write_grant_allows_writes(runtime: WasmRuntime, tmp_path: Path) -> None:
    probe = load(runtime, "command_probe.wat", dirs=(DirGrant(str(tmp_path), "/data", read_only=False),))
    assert _out(probe.call('{"op":"write"}')) == {"written": True}
    assert (tmp_path / "out.txt").read_text() == "written by the probe\n"


def test_a_grant_of_a_missing_directory_is_refused_at_load(runtime: WasmRuntime, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load(runtime, "command_probe.wat", dirs=(DirGrant(str(tmp_path / "missing"), "/data"),))
    with pytest.raises(ConfigError, match="must be absolute"):
        load(runtime, "command_probe.wat", dirs=(DirGrant(str(tmp_path), "data"),))


def test_guest_stdio_never_reaches_the_host_process(runtime: WasmRuntime, capfd: pytest.CaptureFixture[str]) -> None:
    logs = load(runtime, "core_wasi_logs.wat").call("{}")
    exit_ = load(runtime, "command_exit.wat").call("{}")
    total = load(runtime, "command_total.wat").call('{"n": 1}')
    captured = capfd.readouterr()
    assert (captured.out, captured.err) == ("", "")
    assert "validating order" in logs.stderr and "ledger unreachable" in exit_.stderr and total.ok


def test_stdin_is_the_input_only(runtime: WasmRuntime) -> None:
    # Each call's stdin holds that call's input and nothing else (no host stdin).
    handler = load(runtime, "command_total.wat")
    assert _out(handler.call('{"a": 5}')) == {"total": 5}
    assert _out(handler.call('{"a": 7}')) == {"total": 7}
