"""The WASI command shape: JSON on stdin, JSON on stdout, logs on stderr, an exit code.

Exit code 0 is success (stdout must then be JSON), 100 a permanent failure, any
other code a retryable one whose message is the last non-empty line of stderr.
A command runs once per instance (``_start`` leaves libc state behind), so every
call gets a fresh instance whatever ``reuse_instance`` says.
"""

from __future__ import annotations

from collections.abc import Mapping

import wasmtime

from ottermq.wasm.model import FailureKind, SandboxSpec
from ottermq.wasm.outcome import Outcome, failure, from_exception, from_exit, from_output
from ottermq.wasm.session import CallEnv, StoreBudget
from ottermq.wasm.shapes import CoreLayout
from ottermq.wasm.wasi import LogSink, OutputSink, build_wasi

__all__ = ["CommandProgram"]


class CommandProgram:
    shape = "command"
    reusable = False

    def __init__(self, env: CallEnv, pre: wasmtime.InstancePre, layout: CoreLayout) -> None:
        self.env = env
        self.pre = pre
        self.layout = layout

    def open(self, spec: SandboxSpec, environ: Mapping[str, str], data: str) -> _CommandRun:
        return _CommandRun(self, spec, environ, data)


class _CommandRun:
    def __init__(self, program: CommandProgram, spec: SandboxSpec, environ: Mapping[str, str], data: str) -> None:
        self._program = program
        self._spec = spec
        self._budget = StoreBudget(program.env, spec)
        self._log = LogSink(spec.max_stderr_bytes)
        self._stdout = OutputSink(spec.max_output_bytes)
        wasi = build_wasi(spec, environ, log=self._log, stdin=data.encode("utf-8"), stdout=self._stdout)
        self._budget.store.set_wasi(wasi)
        self._memory_size: int | None = None

    def arm(self, ticks: int, fuel: int | None) -> None:
        self._budget.arm(ticks, fuel)

    def logs(self) -> str:
        return self._log.text()

    def fuel_used(self) -> int | None:
        return self._budget.fuel_used()

    def close(self) -> None:
        self._budget.close()

    def invoke(self, data: str) -> Outcome:
        code, error = self._run()
        if self._stdout.overflowed:
            limit = self._spec.max_output_bytes
            return failure(FailureKind.OUTPUT_TOO_LARGE, f"stdout exceeded the limit of {limit} bytes")
        limit = self._spec.memory_bytes
        if error is not None:
            return from_exception(
                error, timed_out=self._program.env.clock.cut_short, memory_limit=limit, memory_size=self._memory_size
            )
        if code != 0:
            return from_exit(code, self._log.text(), memory_size=self._memory_size, memory_limit=limit)
        return from_output(self._stdout.getvalue(), self._spec.max_output_bytes)

    def _run(self) -> tuple[int, Exception | None]:
        """Run ``_start``; returns (exit code, the trap or error if it did not exit)."""
        store = self._budget.store
        calls = None
        memory = None
        try:
            instance = self._program.pre.instantiate(store)
            calls = self._program.env.calls(store, instance)
            layout = self._program.layout
            memory = calls.memory(layout.memory) if layout.memory is not None else None
            assert layout.start is not None
            calls.call(calls.func(layout.start), (), 0)
            return 0, None
        except wasmtime.ExitTrap as exc:
            return exc.code, None
        except (wasmtime.Trap, wasmtime.WasmtimeError) as exc:
            return -1, exc
        finally:
            if calls is not None and memory is not None:
                self._memory_size = calls.memory_size(memory)
