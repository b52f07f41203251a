"""Worker processes, started through each framework's own CLI and always killed.

Each command runs in a session of its own, so killing its process group also
takes down the children that multi-process CLIs fork (dramatiq, huey, saq,
taskiq). Output goes to a log file whose tail is quoted when a worker dies.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from peers.errors import PeerFailed
from peers.signals import URL_ENV

__all__ = ["BENCH_DIR", "WorkerGroup", "console_script", "spawn"]

BENCH_DIR = Path(__file__).resolve().parent.parent
_GROUP_EXIT_WAIT_S = 3.0
_LOG_TAIL_CHARS = 1500
_serial = itertools.count(1)


def console_script(name: str) -> str:
    """A console script of the running virtualenv (e.g. ``rq``), next to its python."""
    return str(Path(sys.executable).parent / name)


class WorkerGroup:
    """The worker commands of one measurement; :meth:`stop` kills them all."""

    def __init__(self, processes: Sequence[subprocess.Popen[bytes]], logs: Sequence[Path]) -> None:
        self._processes = tuple(processes)
        self._logs = tuple(logs)

    @property
    def pids(self) -> tuple[int, ...]:
        return tuple(p.pid for p in self._processes)

    def check_alive(self) -> None:
        """Raise :class:`PeerFailed` with the log tail if a worker command has exited."""
        for process, log in zip(self._processes, self._logs, strict=True):
            code = process.poll()
            if code is not None:
                raise PeerFailed(f"worker {process.args!r} exited with {code}; log tail:\n{_tail(log)}")

    def log_tails(self) -> str:
        return "\n".join(f"--- {log.name}\n{_tail(log)}" for log in self._logs)

    def stop(self) -> None:
        """SIGKILL every process group and wait for it; safe to call twice.

        No graceful shutdown: the measurement is over, and a framework's
        shutdown path (re-queueing prefetched messages, ...) must not write to
        Redis after the driver has flushed it.
        """
        for process in self._processes:
            if process.poll() is None or _group_exists(process.pid):
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for process in self._processes:
            process.wait()
            deadline = time.monotonic() + _GROUP_EXIT_WAIT_S
            while _group_exists(process.pid) and time.monotonic() < deadline:
                time.sleep(0.01)

    def __enter__(self) -> WorkerGroup:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _group_exists(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _tail(log: Path) -> str:
    try:
        return log.read_text(errors="replace")[-_LOG_TAIL_CHARS:]
    except OSError as exc:
        return f"(no log: {exc})"


def spawn(
    commands: Sequence[Sequence[str]],
    *,
    redis_url: str,
    log_dir: Path,
    name: str,
    env: Mapping[str, str] | None = None,
) -> WorkerGroup:
    """Start each command in its own session, cwd bench/, with ``peers`` importable."""
    child_env = dict(os.environ)
    child_env.update(env or {})
    child_env[URL_ENV] = redis_url
    child_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(BENCH_DIR), os.environ.get("PYTHONPATH", "")]))
    processes: list[subprocess.Popen[bytes]] = []
    logs: list[Path] = []
    try:
        for argv in commands:
            log = log_dir / f"{name}-{next(_serial)}.log"
            with log.open("wb") as out:
                processes.append(
                    subprocess.Popen(
                        list(argv),
                        cwd=BENCH_DIR,
                        env=child_env,
                        stdin=subprocess.DEVNULL,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
            logs.append(log)
        return WorkerGroup(processes, logs)
    except BaseException:
        WorkerGroup(processes, logs[: len(processes)]).stop()
        raise
