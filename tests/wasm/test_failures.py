"""Every failure kind is a CallResult with a clear message, and the next call runs normally."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest

from ottermq.errors import HandlerModuleError
from ottermq.wasm import CallResult, FailureKind, SandboxSpec, WasmRuntime

from .conftest import ORDER, ORDER_TOTAL, load, module

TIMEOUT_MS = 200
# The deadline is enforced by epoch ticks of 10 ms; the contract is timeout + 100 ms.
TIMEOUT_SLACK_MS = 100


@dataclass(frozen=True)
class Hostile:
    module: str
    kind: FailureKind
    message: str  # a substring of the error
    spec: tuple[tuple[str, object], ...] = ()


HOSTILE = [
    Hostile("core_loop.wat", FailureKind.TIMEOUT, "timed out", (("timeout_ms", TIMEOUT_MS),)),
    Hostile("command_loop.wat", FailureKind.TIMEOUT, "timed out", (("timeout_ms", TIMEOUT_MS),)),
    Hostile("component_loop.wat", FailureKind.TIMEOUT, "timed out", (("timeout_ms", TIMEOUT_MS),)),
    Hostile("command_sleep.wat", FailureKind.TIMEOUT, "timed out", (("timeout_ms", TIMEOUT_MS),)),
    Hostile("command_oversleep.wat", FailureKind.TIMEOUT, "timed out", (("timeout_ms", TIMEOUT_MS),)),
    Hostile("core_memory_bomb.wat", FailureKind.OUT_OF_MEMORY, "of its 8.0 MiB limit", (("memory_bytes", 8 << 20),)),
    Hostile("command_memory_bomb.wat", FailureKind.OUT_OF_MEMORY, "allocation failed", (("memory_bytes", 8 << 20),)),
    Hostile("core_big_memory.wat", FailureKind.OUT_OF_MEMORY, "200 pages exceeds memory limits", (("memory_bytes", 8 << 20),)),
    Hostile("core_huge_output.wat", FailureKind.OUTPUT_TOO_LARGE, "2097152 bytes exceeds the limit of 1048576"),
    Hostile("command_huge_output.wat", FailureKind.OUTPUT_TOO_LARGE, "stdout exceeded the limit of 1048576 bytes"),
    Hostile("core_invalid_json.wat", FailureKind.INVALID_OUTPUT, "not valid JSON"),
    Hostile("core_invalid_utf8.wat", FailureKind.INVALID_OUTPUT, "not UTF-8"),
    Hostile("command_invalid_json.wat", FailureKind.INVALID_OUTPUT, "'Hello, world!\\n'"),
    Hostile("core_bad_pointer.wat", FailureKind.INVALID_OUTPUT, "outside the guest's memory"),
    Hostile("core_trap.wat", FailureKind.TRAP, "unreachable"),
    Hostile("command_exit.wat", FailureKind.EXIT, "ledger unreachable: connection refused"),
    Hostile("core_recursion.wat", FailureKind.TRAP, "call stack exhausted"),
    Hostile("core_exit.wat", FailureKind.EXIT, "fatal: configuration missing"),
    Hostile("core_out_of_fuel.wat", FailureKind.OUT_OF_FUEL, "instruction budget", (("fuel", 100_000),)),
]


def _call(runtime: WasmRuntime, case: Hostile) -> CallResult:
    return load(runtime, case.module, **dict(case.spec)).call("{}")


@pytest.mark.parametrize("case", HOSTILE, ids=lambda case: case.module.removesuffix(".wat"))
def test_hostile_module_fails_cleanly_and_the_next_call_runs(runtime: WasmRuntime, case: Hostile) -> None:
    good = load(runtime, "core_total.wat")
    with ThreadPoolExecutor(max_workers=1) as executor:  # one executor thread, as in a worker
        result = executor.submit(_call, runtime, case).result()
        assert not result.ok
        assert result.output is None
        assert result.kind is case.kind, result.error
        assert case.message in (result.error or ""), result.error
        assert result.permanent is False
        # The same thread, the same runtime: the next call is normal...
        after = executor.submit(good.call, ORDER).result()
        assert after.ok and json.loads(after.output or "") == {"total": ORDER_TOTAL}
        # ...and the hostile handler fails the same way again, not worse.
        assert executor.submit(_call, runtime, case).result().kind is case.kind


@pytest.mark.parametrize(
    "name", ["core_loop.wat", "command_loop.wat", "component_loop.wat", "command_sleep.wat", "command_oversleep.wat"]
)
def test_timeout_stops_the_guest_within_the_deadline(runtime: WasmRuntime, name: str) -> None:
    handler = load(runtime, name, timeout_ms=TIMEOUT_MS)
    result = handler.call("{}")
    assert result.kind is FailureKind.TIMEOUT
    assert TIMEOUT_MS - 10 <= result.elapsed_ms < TIMEOUT_MS + TIMEOUT_SLACK_MS, result.elapsed_ms


def test_per_call_timeout_overrides_the_spec(runtime: WasmRuntime) -> None:
    handler = load(runtime, "core_loop.wat", timeout_ms=30_000)
    result = handler.call("{}", timeout_ms=50)
    assert result.kind is FailureKind.TIMEOUT
    assert result.elapsed_ms < 50 + TIMEOUT_SLACK_MS


def test_trap_carries_the_wasm_backtrace(runtime: WasmRuntime) -> None:
    result = load(runtime, "core_trap.wat").call("{}")
    assert result.kind is FailureKind.TRAP
    error = result.error or ""
    assert error.startswith("trap: wasm `unreachable` instruction executed")
    assert "wasm backtrace:" in error
    # Innermost frame first, with the function names of the module.
    assert error.index("crashy!check_items") < error.index("crashy!validate_order")


def test_exit_message_is_the_last_stderr_line_and_the_tail_is_attached(runtime: WasmRuntime) -> None:
    result = load(runtime, "command_exit.wat").call("{}")
    assert result.kind is FailureKind.EXIT and not result.permanent
    assert result.error == "ledger unreachable: connection refused"
    assert result.stderr.startswith("connecting to ledger\nretrying\n")


def test_stderr_is_capped_keeping_the_tail(runtime: WasmRuntime) -> None:
    result = load(runtime, "command_chatty_stderr.wat", max_stderr_bytes=4096).call("{}")
    assert result.ok, result.error
    assert result.stderr.endswith("the last log line\n")
    assert result.stderr.startswith("[... ")
    assert "earlier bytes of log output dropped" in result.stderr
    assert len(result.stderr) < 4096 + 100


def test_output_limit_is_configurable(runtime: WasmRuntime) -> None:
    result = load(runtime, "core_total.wat", max_output_bytes=8).call(ORDER)
    assert result.kind is FailureKind.OUTPUT_TOO_LARGE
    assert load(runtime, "command_total.wat", max_output_bytes=8).call(ORDER).kind is FailureKind.OUTPUT_TOO_LARGE


def test_without_a_fuel_budget_fuel_is_still_reported(runtime: WasmRuntime) -> None:
    result = load(runtime, "core_total.wat").call(ORDER)
    with_budget = load(runtime, "core_total.wat", fuel=1_000_000).call(ORDER)
    assert result.fuel_used == with_budget.fuel_used and (result.fuel_used or 0) > 100


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (b"\0asm\x01\x00\x00\x00\xff\xff", "cannot compile handler module: failed to parse WebAssembly module"),
        (b'(module (func (export "handle") (i32.add)))', "cannot compile handler module"),
        (b"this is not wasm", "cannot parse WebAssembly text"),
        (b"\x00\x01\x02 binary junk", "not a WebAssembly module"),
    ],
)
def test_uncompilable_module_is_a_load_error(runtime: WasmRuntime, source: bytes, message: str) -> None:
    with pytest.raises(HandlerModuleError, match=message):
        runtime.inspect(source)
    with pytest.raises(HandlerModuleError, match=message):
        runtime.load(source, SandboxSpec())


def test_module_of_no_known_shape_lists_what_it_exports(runtime: WasmRuntime) -> None:
    with pytest.raises(HandlerModuleError) as info:
        runtime.inspect(module("no_shape.wat"))
    message = str(info.value)
    assert "no known handler shape" in message
    assert "memory: memory" in message and "run: func(i32) -> i32" in message
    assert "`_start`" in message and "`cabi_realloc" in message and "result<string, string>" in message


def test_unknown_import_is_a_load_error(runtime: WasmRuntime) -> None:
    with pytest.raises(HandlerModuleError, match=r"`env::send_email` has not been defined.*only WASI preview 1"):
        runtime.load(module("core_unknown_import.wat"), SandboxSpec())
