"""Runs every (peer, workload) case: repetitions, time bounds, clean-up, failures recorded."""

from __future__ import annotations

import enum
import os
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import redis

from peers import load_runner
from peers.errors import BenchError
from peers.interface import PeerConfig, Runner
from peers.redis_server import RedisServer
from peers.signals import URL_ENV
from peers.timing import Stat, deadline
from peers.workloads import CommandCounter, Sizes, bulk, chains, drain, latency

__all__ = ["WORKLOADS", "Case", "Outcome", "Plan", "Status", "cases_for", "run_plan"]

WORKLOADS = ("drain", "latency", "chains", "bulk")
SETUP_TIMEOUT_S = 60.0
TEARDOWN_TIMEOUT_S = 30.0
# Per repetition. The slowest peers (RQ, arq) drain 10,000 tasks in 60-90 s on a
# busy 2-core machine; 300 s leaves room for a busier one.
REP_TIMEOUT_S = {"drain": 300.0, "latency": 180.0, "chains": 300.0, "bulk": 120.0}
_MAX_ERROR_CHARS = 3000


class Status(enum.StrEnum):
    OK = "ok"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Case:
    """One workload at one worker count (0 for the client-only bulk enqueue)."""

    workload: str
    processes: int

    @property
    def label(self) -> str:
        return f"{self.workload}/{self.processes}p" if self.processes else self.workload


def cases_for(workloads: Sequence[str]) -> tuple[Case, ...]:
    table = {
        "drain": (Case("drain", 1), Case("drain", 2)),
        "latency": (Case("latency", 1),),
        "chains": (Case("chains", 2),),
        "bulk": (Case("bulk", 0),),
    }
    return tuple(case for name in workloads for case in table[name])


@dataclass(frozen=True, slots=True)
class Plan:
    peers: tuple[str, ...]
    workloads: tuple[str, ...]
    sizes: Sizes
    repetitions: int


@dataclass(frozen=True, slots=True)
class Outcome:
    peer: str
    case: Case
    status: Status
    metrics: dict[str, Stat] = field(default_factory=dict)
    error: str = ""
    config: PeerConfig | None = None
    seconds: float = 0.0
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)


def _command_counter(conn: redis.Redis) -> CommandCounter:
    """The server's total_commands_processed, read over one connection kept open.

    The counter includes commands run inside Lua scripts and MULTI/EXEC, so it
    measures the server's work, not round trips. Each read adds its own INFO,
    which the workloads subtract.
    """

    def read() -> int:
        return int(conn.info("stats")["total_commands_processed"])

    return read


def _one_repetition(runner: Runner, case: Case, sizes: Sizes, commands: CommandCounter) -> dict[str, float]:
    timeout = REP_TIMEOUT_S[case.workload]
    if case.workload == "drain":
        return drain(runner, commands, sizes.drain_tasks, case.processes, timeout)
    if case.workload == "chains":
        return chains(runner, commands, sizes.chains, case.processes, timeout)
    if case.workload == "latency":
        return latency(runner, commands, sizes.latency_warmup, sizes.latency_iterations)
    return bulk(runner, commands, sizes.bulk_tasks)


def _describe_error(exc: BaseException) -> str:
    if isinstance(exc, BenchError):
        text = f"{type(exc).__name__}: {exc}"
    else:  # a peer library's own exception: keep where it came from
        text = "".join(traceback.format_exception(exc, limit=-4)).strip()
    return text[-_MAX_ERROR_CHARS:]


def run_case(peer: str, case: Case, plan: Plan, server: RedisServer, log_dir: Path) -> Outcome:
    """Setup, ``plan.repetitions`` repetitions each on a flushed server, teardown; never raises a peer's error."""
    load_before = os.getloadavg()
    started = time.monotonic()
    runs: list[dict[str, float]] = []
    config: PeerConfig | None = None
    runner: Runner | None = None
    try:
        with deadline(SETUP_TIMEOUT_S, f"{peer} setup"):
            server.flushall()
            runner = load_runner(peer)
            runner.setup(server.url, log_dir)
            config = runner.describe()
        with server.client() as counter_conn:
            commands = _command_counter(counter_conn)
            for rep in range(plan.repetitions):
                server.flushall()
                with deadline(REP_TIMEOUT_S[case.workload] + 30.0, f"{peer} {case.label} repetition {rep + 1}"):
                    runs.append(_one_repetition(runner, case, plan.sizes, commands))
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:  # noqa: BLE001 - any peer failure is recorded, and the run goes on
        return Outcome(peer, case, Status.FAILED, error=_describe_error(exc), config=config,
                       seconds=time.monotonic() - started, load_before=load_before, load_after=os.getloadavg())
    finally:
        if runner is not None:
            _teardown(runner)
        server.flushall()
    metrics = {key: Stat(tuple(run[key] for run in runs)) for key in runs[0]} if runs else {}
    return Outcome(peer, case, Status.OK, metrics=metrics, config=config,
                   seconds=time.monotonic() - started, load_before=load_before, load_after=os.getloadavg())


def _teardown(runner: Runner) -> None:
    try:
        with deadline(TEARDOWN_TIMEOUT_S, f"{runner.name} teardown"):
            runner.teardown()
    except Exception:  # noqa: BLE001 - teardown is best effort; the measurement is already recorded
        pass


def run_plan(plan: Plan, server: RedisServer, log_dir: Path, progress: Callable[[Outcome], None]) -> list[Outcome]:
    """Every case of every peer, in order; ``progress`` sees each outcome as it is recorded."""
    os.environ[URL_ENV] = server.url  # peer modules read it at import, as their workers do
    outcomes: list[Outcome] = []
    for peer in plan.peers:
        for case in cases_for(plan.workloads):
            outcome = run_case(peer, case, plan, server, log_dir)
            outcomes.append(outcome)
            progress(outcome)
    return outcomes
