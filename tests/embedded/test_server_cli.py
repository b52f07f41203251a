"""`ottermq server start|status|stop`, run as a user would run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ottermq.cli.main import main
from ottermq.embedded.process import pid_alive
from ottermq.settings import Settings


@pytest.fixture(autouse=True)
def _no_outside_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Neither the developer's OTTERMQ_* variables nor an ottermq.yaml may leak in."""
    for name in [name for name in os.environ if name.startswith("OTTERMQ_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def ottermq(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "ottermq", "--data-dir", str(data_dir), *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)


def test_start_status_stop(settings: Settings) -> None:
    # Run as separate processes: the server must outlive the command that started it.
    data_dir = settings.data_dir
    first = ottermq("server", "start", data_dir=data_dir)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("started the embedded Redis server at unix://")
    url = first.stdout.split(" at ")[1].strip()

    again = ottermq("server", "start", data_dir=data_dir)
    assert again.returncode == 0 and again.stdout.strip() == f"the embedded Redis server is already running at {url}"

    text = ottermq("server", "status", data_dir=data_dir)
    assert text.returncode == 0, text.stderr
    for label in ("pid", "url", "version", "uptime", "memory", "data dir"):
        assert f"  {label} " in text.stdout
    assert url in text.stdout and str(data_dir.resolve()) in text.stdout

    as_json = ottermq("server", "status", "--output", "json", data_dir=data_dir)
    facts = json.loads(as_json.stdout)
    assert facts["running"] is True and facts["url"] == url and pid_alive(facts["pid"])
    assert facts["aof_enabled"] is True and facts["used_memory"] > 0

    stopped = ottermq("server", "stop", data_dir=data_dir)
    assert stopped.returncode == 0 and stopped.stdout.strip() == "stopped the embedded Redis server"
    assert not pid_alive(facts["pid"])

    not_running = ottermq("server", "stop", data_dir=data_dir)
    assert not_running.returncode == 0 and "was not running" in not_running.stdout

    gone_json = ottermq("server", "status", "--output", "json", data_dir=data_dir)
    assert gone_json.returncode == 1 and json.loads(gone_json.stdout)["running"] is False


def in_process(capsys: pytest.CaptureFixture[str], *args: str, data_dir: Path) -> tuple[int, str, str]:
    """The same command through ``main()``, without paying for a new interpreter."""
    code = main(["--data-dir", str(data_dir), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


EXTERNAL = ("--redis-url", "redis://app:s3cret@redis.example:6380/0")


def test_start_refuses_when_an_external_redis_is_configured(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = in_process(capsys, *EXTERNAL, "server", "start", data_dir=settings.data_dir)
    assert code == 1 and out == ""
    assert "an external Redis is configured (redis://app:***@redis.example:6380/0)" in err
    assert "s3cret" not in err and not settings.data_dir.exists()

    code, out, err = in_process(capsys, *EXTERNAL, "server", "stop", data_dir=settings.data_dir)
    assert code == 0 and "external Redis is configured" in err and "was not running" in out


def test_status_reports_the_embedded_server_even_when_an_external_one_is_configured(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = in_process(capsys, *EXTERNAL, "server", "status", data_dir=settings.data_dir)
    assert code == 1 and "external Redis is configured" in err and "not running" in out

    assert in_process(capsys, "server", "start", data_dir=settings.data_dir)[0] == 0
    code, out, err = in_process(capsys, *EXTERNAL, "server", "status", data_dir=settings.data_dir)
    assert code == 0 and "external Redis is configured" in err and "  pid " in out


def test_a_missing_action_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = in_process(capsys, "server", data_dir=tmp_path)
    assert code == 2 and "ottermq server: the following arguments are required: ACTION" in err
