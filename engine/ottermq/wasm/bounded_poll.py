"""WASI preview 1 ``poll_oneoff`` whose sleeps end at the call's deadline.

Epoch interruption stops guest code, but not a host call: a guest that sleeps in
``poll_oneoff`` (``sleep()``, ``nanosleep``, Go's ``time.Sleep``) would hold its
executor thread for as long as it asks. This replacement sleeps at most until the
call's deadline and marks the call as cut short; the guest then traps at its next
epoch check and the call is reported as a timeout.

In this sandbox no file descriptor ever blocks (stdin is in memory, stdout and
stderr are captured, preopened directories hold regular files), so descriptor
subscriptions are reported ready at once. The function never raises: an exception
in a host function would cross threads through wasmtime-py's module-global
"last exception" slot.
"""

from __future__ import annotations

import functools
import math
import struct
import threading
import time

import wasmtime

__all__ = ["CallClock", "define_bounded_poll"]

_SUBSCRIPTION = struct.Struct("<QB7xI4xQQH6x")  # userdata, tag, clock id, timeout, precision, flags
_EVENT = struct.Struct("<QHB5xQH6x")  # userdata, error, type, nbytes, flags
_TAG_CLOCK, _TAG_FD_READ, _TAG_FD_WRITE = 0, 1, 2
_ABSTIME = 1
_ERRNO_FAULT, _ERRNO_INVAL, _ERRNO_NOTSUP = 21, 28, 58
_CLOCKS = {0: time.time_ns, 1: time.monotonic_ns, 2: time.process_time_ns, 3: time.thread_time_ns}


class CallClock(threading.local):
    """The deadline of the call running on this thread, and whether a sleep hit it."""

    deadline: float = math.inf
    cut_short: bool = False

    def begin(self, timeout_ms: int) -> None:
        self.deadline = time.monotonic() + timeout_ms / 1000.0
        self.cut_short = False


def define_bounded_poll(linker: wasmtime.Linker, clock: CallClock) -> None:
    """Shadow WASI's ``poll_oneoff`` in ``linker`` (which must already define WASI)."""
    i32 = wasmtime.ValType.i32()
    ty = wasmtime.FuncType([i32, i32, i32, i32], [i32])
    linker.allow_shadowing = True
    try:
        linker.define_func(
            "wasi_snapshot_preview1", "poll_oneoff", ty, functools.partial(_poll_oneoff, clock), access_caller=True
        )
    finally:
        linker.allow_shadowing = False


def _poll_oneoff(clock: CallClock, caller: wasmtime.Caller, in_ptr: int, out_ptr: int, nsubs: int, nout_ptr: int) -> int:
    try:
        memory = caller.get("memory")
        if not isinstance(memory, wasmtime.Memory):
            return _ERRNO_NOTSUP
        if nsubs <= 0:
            return _ERRNO_INVAL
        size = _SUBSCRIPTION.size * nsubs
        raw = memory.read(caller, in_ptr, in_ptr + size)
        if len(raw) != size or in_ptr < 0:
            return _ERRNO_FAULT
        subs = [_SUBSCRIPTION.unpack_from(raw, i * _SUBSCRIPTION.size) for i in range(nsubs)]
        events = _ready_fds(subs) or _sleep_for_clocks(clock, subs)
        out = b"".join(_EVENT.pack(*event) for event in events)
        if out_ptr < 0 or out_ptr + len(out) > memory.data_len(caller) or nout_ptr < 0:
            return _ERRNO_FAULT
        memory.write(caller, out, out_ptr)
        memory.write(caller, struct.pack("<I", len(events)), nout_ptr)
        return 0
    except Exception:  # noqa: BLE001 - see the module docstring: a host function must not raise
        return _ERRNO_INVAL


def _ready_fds(subs: list[tuple[int, ...]]) -> list[tuple[int, ...]]:
    return [(sub[0], 0, sub[1], 0, 0) for sub in subs if sub[1] in (_TAG_FD_READ, _TAG_FD_WRITE)]


def _sleep_for_clocks(clock: CallClock, subs: list[tuple[int, ...]]) -> list[tuple[int, ...]]:
    waits: list[tuple[int, float]] = []  # (userdata, seconds to wait)
    invalid: list[tuple[int, ...]] = []
    for userdata, tag, clock_id, timeout, _precision, flags in subs:
        now_ns = _CLOCKS.get(clock_id)
        if tag != _TAG_CLOCK or now_ns is None:
            invalid.append((userdata, _ERRNO_INVAL, tag, 0, 0))
            continue
        wait_ns = timeout - now_ns() if flags & _ABSTIME else timeout
        waits.append((userdata, max(0, wait_ns) / 1e9))
    if invalid or not waits:
        return invalid
    shortest = min(wait for _, wait in waits)
    remaining = clock.deadline - time.monotonic()
    if shortest > remaining:
        clock.cut_short = True
        shortest = max(0.0, remaining)
    if shortest > 0:
        time.sleep(shortest)
    fired: list[tuple[int, ...]] = [(userdata, 0, _TAG_CLOCK, 0, 0) for userdata, wait in waits if wait <= shortest]
    # A sleep cut short by the deadline still answers; the guest traps at its next epoch check.
    return fired or [(waits[0][0], 0, _TAG_CLOCK, 0, 0)]
