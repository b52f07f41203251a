"""Worker and supervisor processes for the tests: start them as a user would, find their children."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from ottermq.settings import Settings
from ottermq.worker.children import settings_env


def ottermq_process(settings: Settings, args: list[str], log: Path, cwd: Path) -> subprocess.Popen[bytes]:
    """`ottermq ARGS` in its own process, configured through the environment, output to ``log``."""
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "ottermq", *args], cwd=cwd, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **settings_env(settings)})


def children_of(pid: int) -> list[int]:
    """Live child processes of ``pid`` (from /proc), oldest first."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append((int(fields[19]), int(entry.name)))  # field 22 of stat: start time
    return [p for _, p in sorted(found)]


def stop(process: subprocess.Popen[bytes], timeout: float = 30) -> int:
    """SIGTERM and wait; SIGKILL (and fail) if it does not exit in time."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise AssertionError(f"pid {process.pid} did not exit within {timeout}s of SIGTERM") from None


def kill_tree(process: subprocess.Popen[bytes]) -> None:
    """Last resort after a failed test: no process of ours outlives it."""
    for child in children_of(process.pid):
        try:
            os.kill(child, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if process.poll() is None:
        process.kill()
        process.wait()
