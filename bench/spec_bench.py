"""Validate and compile a generated repository of pipeline files, and time it.

    .venv/bin/python bench/spec_bench.py                  # 200 files x 50 tasks, best of 3
    .venv/bin/python bench/spec_bench.py --files 20 --tasks 10 --rounds 5

The repository is generated in a temporary directory from a fixed seed: each file is one
pipeline with params, queues (some shared by every file, with identical settings), handlers
(pointing at a few shared placeholder modules), schedules, and tasks whose `needs` form a DAG,
with templated inputs (params, upstream outputs, run fields), retries, timeouts, fan-out and
fan-in. The timed call is `validate_paths` on the directory: load, schema, semantic and
template checks, cross-file checks, then compile. After the rounds, one more run in this
process alone is split by phase (CPU time) to show where the time goes. The machine may be
shared: the load average is printed, and the CPU time of a run in one process
(`--processes 1`) is close to what it takes on an idle machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ottermq.spec.parallel import process_count
from ottermq.spec.repository import validate_paths

TARGET_SECONDS = 3.0
MODULES = ("validate.wasm", "price.wasm", "charge.wasm", "notify.wasm")


def generate_repository(root: Path, files: int, tasks: int, seed: int = 7) -> int:
    """Write ``files`` pipelines of ``tasks`` tasks under ``root``; return the number of tasks written."""
    rng = random.Random(seed)
    modules = root / "modules"
    modules.mkdir(parents=True)
    for i, name in enumerate(MODULES):
        # A module header and a body of a few kilobytes, so that digests read real bytes.
        (modules / name).write_bytes(b"\0asm\x01\0\0\0" + bytes([i]) * 4096)
    for f in range(files):
        team = ("payments", "data", "growth", "ops")[f % 4]
        folder = root / "pipelines" / team
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"pipeline_{f:03d}.yaml").write_text(_pipeline(rng, f, tasks, team), encoding="utf-8")
    return files * tasks


def _pipeline(rng: random.Random, index: int, tasks: int, team: str) -> str:
    out = [
        f"# Generated pipeline {index}: {tasks} tasks.",
        f"name: flow-{index:03d}",
        f"description: Generated pipeline {index} for the spec benchmark.",
        f"labels: {{team: {team}, tier: {rng.choice(['critical', 'standard'])}}}",
        "",
        "params:",
        "  order_id: {type: string, pattern: '^[A-Z]-[0-9]+$', description: The order}",
        "  region: {type: string, enum: [eu, us, uk], default: eu}",
        "  lines: {type: array, items: {type: object}, default: []}",
        "  limit: {type: integer, minimum: 1, maximum: 100, default: 10}",
        "  dry_run: {type: boolean, default: false}",
        "",
        "queues:",
        "  shared-orders: {type: priority, levels: 10, max_size: 100000, on_full: reject}",
        "  shared-payments: {type: fifo, concurrency: 8, rate_limit: 200/s, dead_letter: {enabled: true, retention: 30d}}",
        f"  local-{index:03d}:",
        "    type: fifo",
        "    concurrency: 4",
        "    retention: 3d",
        f"  slow-{index:03d}: {{type: delayed, delay: 30s}}",
        f"  all-{index:03d}:",
        "    type: composite",
        "    strategy: weighted",
        f"    members: [{{queue: local-{index:03d}, weight: 3}}, {{queue: shared-payments, weight: 1}}]",
        "",
        "handlers:",
    ]
    for name in MODULES:
        stem = name.removesuffix(".wasm")
        out += [
            f"  {stem}:",
            f"    module: ../../modules/{name}",
            f"    memory: {rng.choice(['16Mi', '32Mi', '64Mi'])}",
            f"    timeout: {rng.choice(['2s', '5s', '10s'])}",
        ]
    out += [
        "",
        "defaults:",
        f"  queue: local-{index:03d}",
        "  timeout: 5s",
        "  retry: {max_attempts: 3, backoff: exponential, initial: 200ms, max: 10s, jitter: 0.2}",
        "",
        "tasks:",
    ]
    for t in range(tasks):
        out += _task(rng, index, t)
    out += [
        "",
        "schedules:",
        "  nightly:",
        f"    cron: \"{rng.randrange(60)} {rng.randrange(24)} * * 1-5\"",
        "    timezone: Europe/Berlin",
        "    params: {order_id: \"N-{{ schedule.date | replace('-', '') }}\"}",
        "    catch_up: all",
        "    max_catch_up: 3",
        "  live: {interval: 15m, params: {order_id: \"L-1\"}, catch_up: none, overlap: skip}",
    ]
    return "\n".join(out) + "\n"


VERBS = ("load", "check", "price", "charge", "ship", "notify", "merge", "split", "score", "store", "fetch", "render")
NOUNS = ("order", "invoice", "line", "customer", "refund", "parcel", "report", "batch", "quote", "ledger", "stock")
FIELDS = ("total", "count", "amount", "status", "id", "items", "summary", "score", "tax", "weight", "region", "ok")


def task_name(pipeline: int, t: int) -> str:
    """Task names differ between pipelines, as in a real repository, so templates differ too."""
    return f"{VERBS[(pipeline + t) % len(VERBS)]}_{NOUNS[(pipeline * 7 + t) % len(NOUNS)]}_{t:02d}"


def _task(rng: random.Random, pipeline: int, t: int) -> list[str]:
    name = task_name(pipeline, t)
    needs = sorted(rng.sample(range(t), k=min(t, rng.randint(1, 3)))) if t else []
    lines = [f"  {name}:", f"    handler: {rng.choice(MODULES).removesuffix('.wasm')}"]
    if needs:
        lines.append(f"    needs: [{', '.join(task_name(pipeline, n) for n in needs)}]")
    kind = t % 10
    if kind == 3:
        lines += [
            "    for_each: \"{{ params.lines }}\"",
            "    input:",
            "      sku: \"{{ item.sku }}\"",
            "      line: \"{{ index }}\"",
            "      region: \"{{ params.region }}\"",
        ]
    else:
        upstream = task_name(pipeline, needs[-1]) if needs else None
        lines += [
            "    input:",
            "      order_id: \"{{ params.order_id }}\"",
            "      currency: \"{{ 'USD' if params.region == 'us' else 'EUR' }}\"",
            f"      limit: \"{{{{ params.limit * {t % 7 + 1} }}}}\"",
        ]
        if upstream:
            field = rng.choice(FIELDS)
            lines.append(f"      previous: \"{{{{ tasks.{upstream}.output }}}}\"")
            lines.append(f"      {field}: \"{{{{ tasks.{upstream}.output.{field} | default(0) | round({t % 4}) }}}}\"")
            if len(needs) > 1:
                other = task_name(pipeline, needs[0])
                lines.append(f"      note: \"{{{{ tasks.{other}.output.{rng.choice(FIELDS)} ~ ' of ' ~ params.order_id }}}}\"")
        lines.append("      started: \"{{ run.created_at[:10] }} attempt {{ attempt }}\"")
    if kind in (1, 6):
        lines += ["    retry:", "      max_attempts: 5", "      backoff: fixed", "      initial: 1s"]
        lines.append("      on: [error, timeout, trap]")
    if kind == 2:
        lines += ["    queue: shared-orders", f"    priority: {rng.randrange(10)}"]
    if kind == 5:
        lines += [f"    queue: slow-{pipeline:03d}", "    on_failure: continue"]
    if kind == 7:
        lines += ["    timeout: 30s", "    delay: 2s"]
    if kind == 8:
        lines.append("    queue: shared-payments")
    return lines


def cpu_timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    _, cpu, value = timed_cpu(fn)
    return cpu, value


def timed_cpu(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall and CPU seconds: on a shared machine the CPU time is what an idle one would take."""
    cpu, wall = time.process_time(), time.perf_counter()
    value = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, value


def phase_split(path: Path) -> dict[str, float]:
    """One run, phase by phase, with the same functions validate_paths calls."""
    from ottermq.compiler import compile_pipeline
    from ottermq.spec.checks import document_checks
    from ottermq.spec.loader import load_paths
    from ottermq.spec.repository import _cross_document_checks, _ModuleDigests
    from ottermq.spec.template_checks import template_checks
    from ottermq.spec.validate import schema_diagnostics
    from ottermq.templating import TemplateEngine

    engine = TemplateEngine()
    phases: dict[str, float] = {}
    phases["load (YAML)"], (documents, _) = cpu_timed(lambda: load_paths([path]))
    phases["schema"], _ = cpu_timed(lambda: [schema_diagnostics(d) for d in documents])
    phases["semantic checks"], _ = cpu_timed(lambda: [document_checks(d) for d in documents])
    phases["template checks"], _ = cpu_timed(lambda: [template_checks(d, engine) for d in documents])
    phases["cross-file checks"], _ = cpu_timed(lambda: _cross_document_checks(documents))
    digests = _ModuleDigests()

    def compile_all() -> None:
        for doc in documents:
            names = {name: digests.of((doc.base_dir / spec["module"]).resolve()) for name, spec in doc.data["handlers"].items()}
            compile_pipeline(doc.data, names, engine, source=doc.file)

    phases["compile"], _ = cpu_timed(compile_all)
    return phases


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--tasks", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--processes", type=int, default=None, help="processes checking the documents (default: chosen by validate_paths)"
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="ottermq-spec-bench-") as tmp:
        root = Path(tmp)
        task_count = generate_repository(root, args.files, args.tasks)
        size = sum(p.stat().st_size for p in (root / "pipelines").rglob("*.yaml"))
        times, cpu_times = [], []
        for _ in range(args.rounds):
            # Each round is a fresh start: no parsed templates or module digests carried over.
            elapsed, cpu, result = timed_cpu(lambda: validate_paths([root / "pipelines"], processes=args.processes))
            if result.diagnostics:
                print("\n".join(str(d) for d in result.diagnostics[:20]), file=sys.stderr)
                print("the generated repository is not valid: this is a bug in the benchmark", file=sys.stderr)
                return 1
            assert len(result.pipelines) == args.files
            assert sum(len(p.plan.tasks) for p in result.pipelines) == task_count
            times.append(elapsed)
            cpu_times.append(cpu)
        phases = phase_split(root / "pipelines")

    best, median = min(times), statistics.median(times)
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    loads = " ".join(f"{x:.2f}" for x in load)
    print(f"machine: {os.cpu_count()} CPUs ({cpu_model()}), Python {platform.python_version()}, load {loads}")
    print(f"repository: {args.files} files x {args.tasks} tasks = {task_count} tasks, {size / 1e6:.2f} MB of YAML")
    used = args.processes if args.processes is not None else process_count(args.files)
    print(f"processes checking documents: {used}{'' if args.processes is not None else ' (chosen by validate_paths)'}")
    print(f"validate + compile: best {best:.3f} s, median {median:.3f} s of {args.rounds} rounds "
          f"({', '.join(f'{t:.3f}' for t in times)})")
    cpu_best, cpu_median = min(cpu_times), statistics.median(cpu_times)
    print(f"CPU time of this process (workers not counted): best {cpu_best:.3f} s, median {cpu_median:.3f} s")
    print(f"throughput (best): {args.files / best:,.0f} files/s, {task_count / best:,.0f} tasks/s")
    verdict = "met" if best < TARGET_SECONDS else "MISSED"
    print(f"target: under {TARGET_SECONDS:.0f} s: {verdict}")
    total = sum(phases.values())
    print("phases of one more run (CPU time):")
    for name, seconds in phases.items():
        print(f"  {name:<18} {seconds:7.3f} s  {100 * seconds / total:5.1f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
