"""Worker child processes: how a supervisor starts them, and how a child follows its supervisor.

A child is `python -m ottermq worker --child ...`: the ordinary single-process worker,
configured by the same resolved settings as its supervisor (passed as ``OTTERMQ_*``
environment variables, which outrank any config file the child would find). Children run
in their own session, so a Ctrl-C at the terminal reaches only the supervisor, which
forwards it; and each asks the kernel for a SIGTERM if its supervisor dies, so no child
outlives a supervisor killed with `kill -9`.
"""

from __future__ import annotations

import ctypes
import dataclasses
import logging
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from typing import IO

from ottermq.settings import Settings

__all__ = ["ChildCommand", "ProcessLauncher", "describe_exit", "follow_parent", "settings_env"]

log = logging.getLogger("ottermq.supervisor")

_PR_SET_PDEATHSIG = 1


def settings_env(settings: Settings) -> dict[str, str]:
    """The settings as the ``OTTERMQ_*`` variables that reproduce them exactly."""
    env: dict[str, str] = {}
    for field in dataclasses.fields(Settings):
        value = getattr(settings, field.name)
        if value is None:
            continue
        public = field.name.removesuffix("_ms")
        env["OTTERMQ_" + public.upper()] = f"{value}ms" if field.name.endswith("_ms") else str(value)
    return env


@dataclass(frozen=True, slots=True)
class ChildCommand:
    settings: Settings
    queues: tuple[str, ...]
    concurrency: int
    grace_s: float
    burst: bool = False
    python: str = sys.executable

    def argv(self, name: str) -> list[str]:
        argv = [self.python, "-m", "ottermq", "worker", "--child", str(os.getpid()), "--name", name,
                "--queues", ",".join(self.queues), "--concurrency", str(self.concurrency), "--grace", f"{self.grace_s:g}"]
        return [*argv, "--burst"] if self.burst else argv

    def env(self) -> dict[str, str]:
        return {**os.environ, **settings_env(self.settings)}


class ProcessLauncher:
    """Starts one child per call; its output goes where the supervisor's goes unless told otherwise."""

    def __init__(self, command: ChildCommand, *, stdout: IO[bytes] | int | None = None,
                 stderr: IO[bytes] | int | None = None) -> None:
        self.command = command
        self._stdout = stdout
        self._stderr = stderr

    def __call__(self, name: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(self.command.argv(name), env=self.command.env(), stdin=subprocess.DEVNULL,
                                stdout=self._stdout, stderr=self._stderr, start_new_session=True)


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exited with code {returncode}"


def follow_parent(parent: int) -> None:
    """Have the kernel send SIGTERM to this process when its parent, pid ``parent``, dies (Linux only)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0) != 0:
            log.debug("prctl(PR_SET_PDEATHSIG) failed: errno %d", ctypes.get_errno())
            return
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:
        # The parent died before the request took effect: act as if the signal had come.
        os.kill(os.getpid(), signal.SIGTERM)
