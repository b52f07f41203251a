"""`ottermq handler test MODULE`: runs a handler once with the sandbox limits; exit 0 ok, 1 failure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import ottermq.cli.main as cli_main
from ottermq.cli.handler import parse_dir_grant
from ottermq.wasm import DirGrant

from .conftest import ORDER, ORDER_TOTAL, module


@pytest.fixture(autouse=True)
def _handler_subcommand(monkeypatch: pytest.MonkeyPatch) -> None:
    # Registered through cli.main.SUBCOMMANDS; make sure this suite runs it through main() either way.
    if "handler" not in cli_main.SUBCOMMANDS:
        monkeypatch.setattr(cli_main, "SUBCOMMANDS", (*cli_main.SUBCOMMANDS, "handler"))


def _run(tmp_path: Path, *args: str) -> int:
    return cli_main.main(["--data-dir", str(tmp_path / "data"), "handler", "test", *args])


def test_success_prints_output_shape_time_and_fuel(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(tmp_path, str(module("core_total.wat")), "--input", ORDER) == 0
    out = capsys.readouterr().out
    assert "shape:     core (sha256 " in out
    assert "result:    ok" in out
    assert "fuel used: " in out and " ms" in out
    assert f'"total": {ORDER_TOTAL}' in out
    # The module cache lives under the data directory.
    assert list((tmp_path / "data" / "cache" / "modules").glob("*.cwasm"))


def test_failure_exits_1_with_kind_message_and_logs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(tmp_path, str(module("command_exit.wat"))) == 1
    out = capsys.readouterr().out
    assert "result:    failed (exit, retryable)" in out
    assert "error:     ledger unreachable: connection refused" in out
    assert "  connecting to ledger\n  retrying\n" in out


def test_json_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = _run(tmp_path, str(module("component_total.wat")), "--input", '{"decline": 1}', "--output", "json")
    assert code == 1
    report = json.loads(capsys.readouterr().out)
    assert report["shape"] == "component"
    assert (report["ok"], report["kind"], report["permanent"], report["error"]) == (False, "error", True, "card declined")
    assert len(report["digest"]) == 64 and report["fuel_used"] > 0


def test_limits_apply(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(tmp_path, str(module("core_loop.wat")), "--timeout", "100ms", "--output", "json") == 1
    report = json.loads(capsys.readouterr().out)
    assert report["kind"] == "timeout" and report["elapsed_ms"] < 200
    assert _run(tmp_path, str(module("core_memory_bomb.wat")), "--memory", "4Mi", "--output", "json") == 1
    assert json.loads(capsys.readouterr().out)["kind"] == "out_of_memory"
    assert _run(tmp_path, str(module("core_out_of_fuel.wat")), "--fuel", "5000", "--output", "json") == 1
    assert json.loads(capsys.readouterr().out)["kind"] == "out_of_fuel"
    assert _run(tmp_path, str(module("core_total.wat")), "--input", ORDER, "--max-output", "4", "--output", "json") == 1
    assert json.loads(capsys.readouterr().out)["kind"] == "output_too_large"


def test_grants(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTTERMQ_PROBE", "granted")
    probe = str(module("command_probe.wat"))
    assert _run(tmp_path, probe, "--input", '{"op":"env"}', "--env", "OTTERMQ_PROBE", "--output", "json") == 0
    assert json.loads(capsys.readouterr().out)["output"] == {"count": 1, "first": "OTTERMQ_PROBE=granted"}
    data = tmp_path / "shared"
    data.mkdir()
    (data / "in.txt").write_text("from a file")
    assert _run(tmp_path, probe, "--input", '{"op":"read"}', "--dir", f"{data}:/data", "--output", "json") == 0
    assert json.loads(capsys.readouterr().out)["output"] == {"content": "from a file"}
    assert _run(tmp_path, probe, "--input", '{"op":"write"}', "--dir", f"{data}:/data:rw") == 0
    assert (data / "out.txt").exists()


def test_input_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "order.json"
    source.write_text(ORDER)
    assert _run(tmp_path, str(module("command_total.wat")), "--input-file", str(source), "--output", "json") == 0
    assert json.loads(capsys.readouterr().out)["output"] == {"total": ORDER_TOTAL}


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--input", "{not json"], 2, "the input is not valid JSON"),
        (["--dir", "no-guest-path"], 2, "expected HOST:GUEST[:ro|rw]"),
        (["--memory", "lots"], 2, "is not a size"),
        (["--timeout", "soon"], 2, "is not a duration"),
        (["--fuel", "-3"], 2, "must be at least 1"),
        (["--dir", "/definitely/not/here:/data"], 1, "does not exist"),
    ],
)
def test_bad_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], code: int, message: str) -> None:
    assert _run(tmp_path, str(module("core_total.wat")), *args) == code
    assert message in capsys.readouterr().err


def test_unusable_module_exits_1_with_the_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(tmp_path, str(module("no_shape.wat"))) == 1
    assert "no known handler shape: it exports memory: memory, run: func(i32) -> i32" in capsys.readouterr().err
    assert _run(tmp_path, str(tmp_path / "missing.wasm")) == 1
    assert "does not exist" in capsys.readouterr().err


def test_handler_without_subcommand_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main.main(["--data-dir", str(tmp_path), "handler"]) == 2
    assert "a subcommand is required" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "grant"),
    [
        ("/srv/data:/data", DirGrant("/srv/data", "/data", True)),
        ("/srv/data:/data:ro", DirGrant("/srv/data", "/data", True)),
        ("/srv/data:/data:rw", DirGrant("/srv/data", "/data", False)),
        ("C:/odd:path:/in", DirGrant("C:/odd:path", "/in", True)),
    ],
)
def test_parse_dir_grant(text: str, grant: DirGrant) -> None:
    assert parse_dir_grant(text) == grant
