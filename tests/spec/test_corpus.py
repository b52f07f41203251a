"""The corpus of invalid pipelines: each file is one mistake users make, and states what `ottermq validate` must say.

A file's header holds its expected diagnostics, one per `# expect: LINE:COLUMN: PATH: MESSAGE`
line, exactly as `ottermq validate` prints them after the `FILE:` prefix. A subdirectory is
one case whose files are validated together (mistakes across files, such as two pipelines
with the same name). Handlers point at `corpus/handlers/noop.wasm`, a placeholder module, so
that only the intended mistake is reported. The files are validated from inside the corpus
directory, so file names in messages are relative to it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ottermq.spec.repository import validate_paths
from ottermq.spec.schedule_checks import cron_problem, cron_trigger_fields

CORPUS = Path(__file__).resolve().parent / "corpus"
EXPECT = "# expect: "
CASES = sorted(
    [p.name for p in CORPUS.glob("*.yaml")]
    + [p.name for p in CORPUS.iterdir() if p.is_dir() and p.name != "handlers" and not p.name.startswith(".")]
)
MODULE = CORPUS / "handlers" / "noop.wasm"


def case_files(case: str) -> list[str]:
    path = CORPUS / case
    if path.is_dir():
        return [f"{case}/{p.name}" for p in sorted(path.glob("*.yaml"))]
    return [case]


def expected_lines(case: str) -> list[str]:
    out = []
    for name in case_files(case):
        # Latin-1 reads every byte; the corpus holds a file that is deliberately not UTF-8.
        for line in (CORPUS / name).read_bytes().decode("latin-1").splitlines():
            if line.startswith(EXPECT):
                out.append(f"{name}:{line[len(EXPECT):]}")
    return out


def run_cli(*args: str, cwd: Path = CORPUS) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ottermq", "validate", *args], cwd=cwd, capture_output=True, text=True, timeout=60
    )


def test_the_corpus_is_large_and_its_placeholder_module_is_a_wasm_module() -> None:
    assert len(CASES) >= 45
    assert MODULE.read_bytes() == b"\0asm\x01\0\0\0"


@pytest.mark.parametrize("case", CASES)
def test_corpus_case_reports_exactly_its_expected_diagnostics(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CORPUS)
    expected = expected_lines(case)
    assert expected, f"{case} states no `# expect:` line"
    result = validate_paths([case])
    assert [str(d) for d in result.diagnostics] == expected
    assert result.pipelines == ()


def test_a_file_of_zero_bytes_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("empty.yaml").write_bytes(b"")
    result = validate_paths(["empty.yaml"])
    assert [str(d) for d in result.diagnostics] == [
        "empty.yaml:1:1: $: the file holds no pipeline (it is empty or only comments)"
    ]


# Near misses of corpus mistakes that are valid: the checks must not be broader than the mistakes.
VALID_VARIANTS = {
    "standard_cron_weekdays": """\
schedules:
  weekdays: {cron: "0 9 * * 1-5", timezone: America/Los_Angeles}
  sundays: {cron: "0 9 * * 7"}
  weekend: {cron: "*/15 6-18 * * sat,sun"}
""",
    "template_in_a_literal_block": """\
params:
  users: {type: array, default: []}
tasks:
  send:
    handler: h
    input:
      body: |
        {% for user in params.users %}
        - {{ user }}
        {% endfor %}
        {% set greeting %}Hello{% endset %}{{ greeting }}
""",
    "task_fields_and_fan_in": """\
params:
  lines: {type: array, default: []}
tasks:
  price:
    handler: h
    for_each: "{{ params.lines }}"
    input: {line: "{{ item }}", n: "{{ index }}"}
  total:
    handler: h
    needs: [price]
    input: {sum: "{{ tasks.price.output | sum }}", state: "{{ tasks.price.state }}", err: "{{ tasks.price.error }}"}
""",
    "schedule_gives_every_required_param": """\
params:
  date: {type: string}
  regions: {type: array, default: [eu]}
schedules:
  nightly: {cron: "30 2 * * *", params: {date: "{{ schedule.date }}", regions: [eu, us]}}
""",
    "quoted_values_that_are_strings": """\
params:
  code: {type: string, default: "007", pattern: '^\\d+$'}
  flag: {type: string, default: "yes"}
tasks:
  t:
    handler: h
    description: "Step 2: charge the card"
""",
}


@pytest.mark.parametrize("variant", sorted(VALID_VARIANTS))
def test_valid_near_misses_are_accepted(variant: str, tmp_path: Path) -> None:
    body = VALID_VARIANTS[variant]
    text = f"name: near-miss\nhandlers:\n  h: {{module: {MODULE}}}\n"
    if "tasks:" not in body:
        text += "tasks:\n  t: {handler: h}\n"
    (tmp_path / "p.yaml").write_text(text + body)
    result = validate_paths([tmp_path / "p.yaml"])
    assert [str(d) for d in result.diagnostics] == []
    assert [p.plan.pipeline for p in result.pipelines] == ["near-miss"]


@pytest.mark.parametrize(
    ("expression", "weekdays"),
    [
        ("0 9 * * 1-5", "mon,tue,wed,thu,fri"),
        ("0 9 * * 0", "sun"),
        ("0 9 * * 7", "sun"),
        ("0 9 * * 5-7", "sun,fri,sat"),
        ("0 9 * * */2", "sun,tue,thu,sat"),
        ("0 9 * * MON-FRI", "mon,tue,wed,thu,fri"),
        ("0 9 * * *", "*"),
    ],
)
def test_cron_weekdays_are_crontab_numbers_not_apscheduler_ones(expression: str, weekdays: str) -> None:
    # APScheduler numbers weekdays from Monday; crontab from Sunday (and 7 is Sunday too).
    assert cron_trigger_fields(expression)["day_of_week"] == weekdays
    assert cron_problem(expression, "UTC") is None


def test_the_whole_corpus_checked_in_several_processes_gives_the_same_diagnostics(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CORPUS)
    one = validate_paths(["."], processes=1)
    three = validate_paths(["."], processes=3)
    assert len(one.documents) >= 64
    assert three.diagnostics == one.diagnostics
    # Each single-file case's diagnostics are among them: the cases do not hide one another
    # (the corpus as a whole adds pipelines named alike and queues declared differently).
    singles = {line for case in CASES if case.endswith(".yaml") for line in expected_lines(case)}
    assert singles <= {str(d) for d in one.diagnostics}


def test_cli_prints_the_diagnostics_and_a_summary_and_exits_1() -> None:
    proc = run_cli("cycle_three_tasks.yaml", "template_unknown_param.yaml")
    expected = expected_lines("cycle_three_tasks.yaml") + expected_lines("template_unknown_param.yaml")
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.splitlines() == [*expected, "2 errors in 2 files"]
    assert proc.stderr == ""


def test_cli_reports_a_syntax_error_with_its_position() -> None:
    proc = run_cli("unclosed_bracket.yaml")
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [*expected_lines("unclosed_bracket.yaml"), "1 error in 1 file"]


def test_cli_json_output_for_a_mistake_across_two_files() -> None:
    proc = run_cli("--output", "json", "duplicate_pipeline_name")
    assert proc.returncode == 1, proc.stderr
    payload = json.loads(proc.stdout)
    assert payload["ok"] is False
    assert payload["error_count"] == 1
    assert payload["pipelines"] == []
    (error,) = payload["errors"]
    assert set(error) == {"file", "line", "column", "path", "message"}
    assert error["file"] == "duplicate_pipeline_name/refunds.yaml"
    line = f"{error['file']}:{error['line']}:{error['column']}: {error['path']}: {error['message']}"
    assert [line] == expected_lines("duplicate_pipeline_name")


def test_cli_json_output_counts_every_error_of_every_file() -> None:
    cases = ["misspelled_keys_several.yaml", "retry_on_unknown_kind.yaml", "not_utf8.yaml"]
    proc = run_cli("-o", "json", *cases)
    assert proc.returncode == 1, proc.stderr
    payload = json.loads(proc.stdout)
    expected = sorted(line for case in cases for line in expected_lines(case))
    got = [f"{e['file']}:{e['line']}:{e['column']}: {e['path']}: {e['message']}" for e in payload["errors"]]
    assert got == expected
    assert payload["error_count"] == len(expected) == 6


def test_cli_accepts_a_corrected_file(tmp_path: Path) -> None:
    fixed = (CORPUS / "needs_unknown_task.yaml").read_text().replace("chrage", "charge")
    (tmp_path / "handlers").mkdir()
    (tmp_path / "handlers" / "noop.wasm").write_bytes(MODULE.read_bytes())
    (tmp_path / "checkout.yaml").write_text(fixed)
    proc = run_cli("checkout.yaml", cwd=tmp_path)
    assert (proc.returncode, proc.stdout) == (0, "1 pipeline valid: checkout\n"), proc.stderr
