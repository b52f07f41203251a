"""The store boundary: script status codes become typed results and errors, Redis errors StoreUnavailable."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import redis
from redis.exceptions import (
    BusyLoadingError,
    ClusterError,
    MasterDownError,
    NoScriptError,
    OutOfMemoryError,
    ReadOnlyError,
    RedisClusterException,
    TryAgainError,
)

from ottermq.errors import InternalError, LeaseLost, NotFound, QueueFull, RunCancelled, StoreError, StoreUnavailable
from ottermq.keys import is_valid_name
from ottermq.store.codes import Code
from ottermq.store.types import (
    AckStatus,
    ExtendStatus,
    FailStatus,
    RequeueStatus,
    RunCreated,
    RunRequest,
    RunState,
)

__all__ = ["ACK", "EXTEND", "FAIL", "REQUEUE", "check_run_id", "created", "raise_for", "run_args", "translate_errors"]

RUN_ID_MAX = 200
# Errors that describe the server's condition (memory, a replica, loading, a cluster
# reconfiguring), even when a command inside a script met them: the store is unavailable.
_SERVER_CONDITIONS = (OutOfMemoryError, ReadOnlyError, BusyLoadingError, MasterDownError, TryAgainError, ClusterError)
_SERVER_PREFIXES = ("BUSY", "NOREPLICAS", "MISCONF", "LOADING")

ACK: dict[int, AckStatus] = {
    Code.OK: AckStatus.DONE,
    Code.ALREADY: AckStatus.DUPLICATE,
    Code.LEASE_LOST: AckStatus.LOST,
    Code.CANCELLED: AckStatus.CANCELLED,
    Code.NOT_FOUND: AckStatus.NOT_FOUND,
    Code.WRONG_STATE: AckStatus.WRONG_KIND,
}
FAIL: dict[int, FailStatus] = {
    Code.OK: FailStatus.RETRIED,
    Code.ALREADY: FailStatus.DEAD,
    Code.LEASE_LOST: FailStatus.LOST,
    Code.CANCELLED: FailStatus.CANCELLED,
    Code.NOT_FOUND: FailStatus.NOT_FOUND,
}
EXTEND: dict[int, ExtendStatus] = {
    Code.LEASE_LOST: ExtendStatus.LOST,
    Code.CANCELLED: ExtendStatus.CANCELLED,
    Code.NOT_FOUND: ExtendStatus.NOT_FOUND,
}
REQUEUE: dict[int, RequeueStatus] = {
    Code.OK: RequeueStatus.REQUEUED,
    Code.CANCELLED: RequeueStatus.CANCELLED,
    Code.NOT_FOUND: RequeueStatus.NOT_FOUND,
    Code.WRONG_STATE: RequeueStatus.NOT_DEAD,
}


@contextlib.contextmanager
def translate_errors(operation: str) -> Iterator[None]:
    """Redis failures become StoreUnavailable; a failing script is a bug (InternalError)."""
    try:
        yield
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        raise StoreUnavailable(f"Redis unreachable: {exc}", operation) from None
    except NoScriptError as exc:
        raise StoreUnavailable(f"script cache lost: {exc}", operation) from None
    except redis.ResponseError as exc:
        text = str(exc)
        condition = isinstance(exc, _SERVER_CONDITIONS) or text.startswith(_SERVER_PREFIXES)
        if not condition and ("user_script" in text or "Error running script" in text):
            raise InternalError(f"{operation}: script failed: {text}") from None
        raise StoreUnavailable(f"Redis refused the command: {text}", operation) from None
    except redis.RedisError as exc:
        raise StoreUnavailable(str(exc), operation) from None
    except RedisClusterException as exc:
        # Raised by the cluster client itself (no reachable node, slots not covered).
        raise StoreUnavailable(f"Redis Cluster unusable: {exc}", operation) from None


def check_run_id(run_id: str) -> None:
    if len(run_id) > RUN_ID_MAX or not is_valid_name(run_id):
        raise ValueError(
            f"run id {run_id!r}: 1 to {RUN_ID_MAX} characters, no braces, '|', quotes, backslashes, spaces or control characters"
        )


def run_args(run_id: str, request: RunRequest) -> list[Any]:
    args: list[Any] = [
        run_id,
        request.params_json,
        "" if request.priority is None else int(request.priority),
        json.dumps(dict(request.labels), separators=(",", ":"), sort_keys=True) if request.labels else "{}",
        len(request.inputs),
    ]
    for task, text in request.inputs.items():
        args += [task, text]
    return args


def created(run_id: str, code: int, detail: str) -> RunCreated:
    if code == Code.OK:
        return RunCreated(run_id, created=True, state=RunState.PENDING)
    if code == Code.ALREADY:
        return RunCreated(run_id, created=False, state=RunState(detail))
    return RunCreated(run_id, created=False, state=None, rejected_by=detail)


def raise_for(code: Code, unit_id: str, operation: str, detail: str = "") -> None:
    if code == Code.OK:
        return
    if code == Code.LEASE_LOST:
        raise LeaseLost(f"the lease on {unit_id} is no longer held by this token", operation)
    if code == Code.CANCELLED:
        raise RunCancelled(f"the run of {unit_id} was cancelled", operation)
    if code == Code.NOT_FOUND:
        raise NotFound(f"{operation}: task {unit_id} does not exist (or has expired)")
    if code == Code.QUEUE_FULL:
        raise QueueFull(f"{operation}: queue {detail!r} is full (max_size reached, overflow policy reject)")
    raise StoreError(f"{unit_id} is not in a state that allows this", operation)
