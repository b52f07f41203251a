"""Each handler shape: success, retryable error and permanent error; shape detection and forcing."""

from __future__ import annotations

import hashlib
import json

import pytest
import wasmtime

from ottermq.errors import ConfigError, HandlerModuleError
from ottermq.wasm import FailureKind, ModuleInfo, SandboxSpec, WasmRuntime

from .conftest import ORDER, ORDER_TOTAL, load, module

SHAPES = [("core_total.wat", "core"), ("command_total.wat", "command"), ("component_total.wat", "component")]


@pytest.mark.parametrize(("name", "shape"), SHAPES)
def test_success_returns_the_handlers_json(any_runtime: WasmRuntime, name: str, shape: str) -> None:
    handler = load(any_runtime, name)
    assert handler.shape == shape
    result = handler.call(ORDER)
    assert result.ok, result.error
    assert json.loads(result.output or "") == {"total": ORDER_TOTAL}
    assert (result.error, result.kind, result.permanent) == (None, None, False)
    assert result.elapsed_ms > 0
    assert result.fuel_used is not None and result.fuel_used > 0


@pytest.mark.parametrize(("name", "shape"), SHAPES)
def test_error_is_retryable_with_the_handlers_message(any_runtime: WasmRuntime, name: str, shape: str) -> None:
    result = load(any_runtime, name).call('{"fail": true}')
    assert not result.ok and result.output is None
    assert result.permanent is False
    assert "payment service unavailable" in (result.error or "")
    if shape == "command":
        assert result.kind is FailureKind.EXIT
        assert result.error == "payment service unavailable"
        assert result.stderr == "reading order\npayment service unavailable\n"
    else:
        assert result.kind is FailureKind.ERROR
        assert result.error == "payment service unavailable"


@pytest.mark.parametrize(("name", "shape"), SHAPES)
def test_permanent_error_is_marked_permanent(any_runtime: WasmRuntime, name: str, shape: str) -> None:
    result = load(any_runtime, name).call('{"decline": true}')
    assert not result.ok
    assert result.permanent is True
    assert "card declined" in (result.error or "")
    assert result.kind is (FailureKind.EXIT if shape == "command" else FailureKind.ERROR)
    if shape != "command":
        # The object's "message" is the message, not the raw JSON.
        assert result.error == "card declined"


@pytest.mark.parametrize(("name", "shape"), SHAPES)
def test_inspect_reports_shape_exports_imports_and_digest(runtime: WasmRuntime, name: str, shape: str) -> None:
    source = module(name).read_bytes()
    info = runtime.inspect(module(name))
    assert isinstance(info, ModuleInfo)
    assert info.shape == shape
    assert info.digest == hashlib.sha256(source).hexdigest()
    assert "handle" in info.exports or "_start" in info.exports
    if shape == "command":
        assert "wasi_snapshot_preview1::fd_read" in info.imports
    else:
        assert info.imports == ()


def test_binary_and_text_forms_behave_alike(runtime: WasmRuntime) -> None:
    binary = bytes(wasmtime.wat2wasm(module("core_total.wat").read_text()))
    handler = runtime.load(binary, SandboxSpec())
    assert handler.shape == "core"
    assert handler.digest == hashlib.sha256(binary).hexdigest()
    assert json.loads(handler.call('{"n": 40, "m": 2}').output or "") == {"total": 42}


def test_core_module_with_wasi_gets_initialize_and_its_logs_kept(runtime: WasmRuntime) -> None:
    result = load(runtime, "core_wasi_logs.wat").call("{}")
    assert result.ok
    assert json.loads(result.output or "") == {"initialized": True}
    # stdout and stderr of a core module are both its log.
    assert result.stderr == "validating order\nprinted on stdout\n"


def test_a_command_may_sleep_within_its_deadline(runtime: WasmRuntime) -> None:
    result = load(runtime, "command_nap.wat", timeout_ms=2_000).call("{}")
    assert result.ok, result.error
    assert json.loads(result.output or "") == {"slept": True}
    assert result.elapsed_ms >= 19


def test_forced_abi_must_fit(runtime: WasmRuntime) -> None:
    assert load(runtime, "core_total.wat", abi="core").shape == "core"
    assert load(runtime, "component_total.wat", abi="component").shape == "component"
    with pytest.raises(HandlerModuleError, match=r"abi `command` was requested.*no `_start: func\(\)` export.*handle"):
        load(runtime, "core_total.wat", abi="command")
    with pytest.raises(HandlerModuleError, match=r"abi `core` was requested.*`cabi_realloc` is not exported.*_start"):
        load(runtime, "command_total.wat", abi="core")
    with pytest.raises(HandlerModuleError, match=r"abi `component` was requested, but this is a core"):
        load(runtime, "core_total.wat", abi="component")
    with pytest.raises(HandlerModuleError, match=r"abi `core` was requested, but this is a component"):
        load(runtime, "component_total.wat", abi="core")


def test_wrong_signature_is_named(runtime: WasmRuntime) -> None:
    with pytest.raises(HandlerModuleError, match=r"`handle` has type func\(i64\) -> i32, expected func\(i32, i32\) -> i32"):
        load(runtime, "core_wrong_types.wat", abi="core")


def test_missing_module_file(runtime: WasmRuntime) -> None:
    with pytest.raises(HandlerModuleError, match="does not exist"):
        runtime.load(module("core_total.wat").with_name("nope.wasm"), SandboxSpec())


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (SandboxSpec(abi="wasi"), "abi must be one of"),
        (SandboxSpec(memory_bytes=1000), "at least 65536 bytes"),
        (SandboxSpec(timeout_ms=0), "timeout must be positive"),
        (SandboxSpec(fuel=0), "fuel must be positive"),
        (SandboxSpec(env=("NOT-A-NAME",)), "not an environment variable name"),
    ],
)
def test_invalid_specs_are_refused_at_load(runtime: WasmRuntime, spec: SandboxSpec, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        runtime.load(module("core_total.wat"), spec)


@pytest.mark.parametrize("name", ["core_echo.wat", "component_echo.wat"])
@pytest.mark.parametrize(
    "text",
    [
        '{"name":"Zoë the otter 🦦","tags":["ü","中文"]}',
        "[]",
        '"' + "x" * 100_000 + '"',
        json.dumps({"big": list(range(20_000))}),
    ],
    ids=["unicode", "empty-array", "100k-string", "big-array"],
)
def test_text_passes_through_byte_exact(any_runtime: WasmRuntime, name: str, text: str) -> None:
    for reuse in (False, True):
        result = load(any_runtime, name, reuse_instance=reuse).call(text)
        assert result.ok, result.error
        assert result.output == text
