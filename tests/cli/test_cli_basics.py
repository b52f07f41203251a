"""The CLI boundary: exit codes, error output, crash logs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ottermq.cli import main as cli_main

VALID = "name: ok\nhandlers: {h: {module: h.wasm}}\ntasks: {a: {handler: h}}\n"
INVALID = "name: bad\nhandlers: {h: {module: h.wasm}}\ntasks:\n  a: {handler: hh, retires: 2}\n"


def ottermq(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OTTERMQ_DATA_DIR": str(cwd / ".ottermq")}
    return subprocess.run([sys.executable, "-m", "ottermq", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=60)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "h.wasm").write_bytes(b"\0asm\x01\0\0\0")
    (tmp_path / "ok.yaml").write_text(VALID)
    (tmp_path / "bad.yaml").write_text(INVALID)
    return tmp_path


def test_validate_success_exits_0(repo: Path) -> None:
    proc = ottermq("validate", "ok.yaml", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "1 pipeline valid: ok\n"


def test_validate_failure_prints_every_error_and_exits_1(repo: Path) -> None:
    proc = ottermq("validate", ".", cwd=repo)
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [
        "bad.yaml:4:16: tasks.a.handler: unknown handler `hh`, did you mean `h`?",
        "bad.yaml:4:20: tasks.a.retires: unknown key `retires`, did you mean `retry`?",
        "2 errors in 1 file",
    ]
    assert proc.stderr == ""


def test_validate_json_output(repo: Path) -> None:
    proc = ottermq("validate", "bad.yaml", "--output", "json", cwd=repo)
    assert proc.returncode == 1
    payload = json.loads(proc.stdout)
    assert payload["ok"] is False and payload["error_count"] == 2
    assert payload["errors"][0] == {
        "file": "bad.yaml", "line": 4, "column": 16, "path": "tasks.a.handler",
        "message": "unknown handler `hh`, did you mean `h`?",
    }
    ok = json.loads(ottermq("validate", "ok.yaml", "-o", "json", cwd=repo).stdout)
    assert ok == {"ok": True, "error_count": 0, "errors": [], "pipelines": ["ok"]}


def test_usage_errors_exit_2(repo: Path) -> None:
    for args in (("validate",), ("frobnicate",), ("validate", "--output", "xml", "ok.yaml"), ()):
        proc = ottermq(*args, cwd=repo)
        assert proc.returncode == 2, (args, proc.stderr)


def test_bad_config_file_exits_1_with_location(repo: Path) -> None:
    (repo / "ottermq.yaml").write_text("shards: 1\nshardz: 2\n")
    proc = ottermq("validate", "ok.yaml", cwd=repo)
    assert proc.returncode == 1
    assert "ottermq.yaml:2:1: unknown setting `shardz`, did you mean `shards`?" in proc.stderr


def test_plan_with_params_renders_root_inputs(repo: Path) -> None:
    (repo / "p.yaml").write_text(
        "name: p\nparams: {n: {type: integer}}\nhandlers: {h: {module: h.wasm}}\n"
        "tasks: {a: {handler: h, input: {double: '{{ params.n * 2 }}'}}}\n"
    )
    proc = ottermq("plan", "p.yaml", "--param", "n=21", "-o", "json", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert payload["root_inputs"] == {"a": {"double": 42}}
    assert payload["plans"][0]["hash"].startswith("sha256:")
    bad = ottermq("plan", "p.yaml", "--param", "n=x", cwd=repo)
    assert bad.returncode == 1 and "param `n`" in bad.stderr
    missing = ottermq("plan", "p.yaml", "--param", "m=1", cwd=repo)
    assert missing.returncode == 1
    assert "missing required param `n` (integer)" in missing.stderr and "unknown param `m`" in missing.stderr


def test_internal_errors_exit_3_and_log_the_traceback(repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def boom(*_: object) -> int:
        raise RuntimeError("simulated bug")

    monkeypatch.chdir(repo)
    monkeypatch.setattr("ottermq.cli.validate.run", boom)
    monkeypatch.setenv("OTTERMQ_DATA_DIR", str(repo / "state"))
    code = cli_main.main(["validate", "ok.yaml"])
    err = capsys.readouterr().err
    assert code == 3
    assert "internal error" in err and "Traceback" not in err
    log = (repo / "state" / "logs" / "crash.log").read_text()
    assert "RuntimeError: simulated bug" in log and "Traceback" in log


def test_keyboard_interrupt_exits_130(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*_: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.chdir(repo)
    monkeypatch.setattr("ottermq.cli.validate.run", interrupted)
    assert cli_main.main(["validate", "ok.yaml"]) == 130
