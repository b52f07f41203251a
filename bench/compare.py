"""Comparative benchmark: OtterMQ's peers on one private Valkey server, identical workloads.

    python bench/compare.py --setup                 # create bench/.venv-peers (once)
    python bench/compare.py                         # every peer, every workload, 3 repetitions
    python bench/compare.py --peers huey,rq --workloads drain,latency --quick --json out.json

Any Python 3.11+ can start it: it re-executes itself with the interpreter of
bench/.venv-peers, where the peers are installed. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import venv
from pathlib import Path
from types import FrameType

BENCH_DIR = Path(__file__).resolve().parent
VENV_DIR = BENCH_DIR / ".venv-peers"
REQUIREMENTS = BENCH_DIR / "requirements-peers.txt"
WORKLOADS = ("drain", "latency", "chains", "bulk")


def venv_python() -> Path:
    return VENV_DIR / "bin" / "python"


def setup_venv() -> int:
    """(Re)create bench/.venv-peers and install the pinned peers into it."""
    print(f"creating {VENV_DIR} with {sys.executable} (Python {platform.python_version()})", flush=True)
    venv.EnvBuilder(with_pip=True, clear=True, symlinks=True).create(VENV_DIR)
    # The venv must never be committed; a .gitignore inside it keeps it out without touching the repository's.
    (VENV_DIR / ".gitignore").write_text("*\n")
    python = str(venv_python())
    # A fully pinned lock, installed without dependency resolution: arq pins redis<6
    # while kombu (Celery) needs redis>=6.4 and taskiq-redis redis>=8, so no resolver
    # accepts the set; every peer runs on redis-py 8.1 (see docs/benchmarks.md).
    steps = [
        [python, "-m", "pip", "install", "--quiet", "--upgrade", "pip"],
        [python, "-m", "pip", "install", "--quiet", "--no-deps", "-r", str(REQUIREMENTS)],
    ]
    for step in steps:
        print("$ " + " ".join(step), flush=True)
        if subprocess.run(step, check=False).returncode != 0:
            print("setup failed", file=sys.stderr)
            return 1
    check = subprocess.run([python, "-m", "pip", "check"], capture_output=True, text=True, check=False)
    unexpected = [line for line in check.stdout.splitlines() if line.strip() and not line.startswith("arq ")]
    if unexpected:
        print("pip check reports broken requirements:\n" + "\n".join(unexpected), file=sys.stderr)
        return 1
    print("ready: run `python bench/compare.py`")
    return 0


def ensure_venv_interpreter(argv: list[str]) -> None:
    """Re-execute under the peers' interpreter unless already there."""
    if Path(sys.prefix).resolve() == VENV_DIR.resolve():
        return
    python = venv_python()
    if not python.exists():
        sys.exit(f"{VENV_DIR} does not exist: run `python {Path(__file__).name} --setup` first")
    os.execv(str(python), [str(python), str(Path(__file__).resolve()), *argv])


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--setup", action="store_true", help="create bench/.venv-peers from requirements-peers.txt and exit")
    parser.add_argument("--peers", help="comma-separated peers (default: all)")
    parser.add_argument("--workloads", help=f"comma-separated, of {','.join(WORKLOADS)} (default: all)")
    parser.add_argument("--quick", action="store_true", help="1,000 tasks, 200 chains, 100 round trips, 1 repetition")
    parser.add_argument("--repetitions", type=int, help="repetitions per case (default 3, or 1 with --quick)")
    parser.add_argument("--json", type=Path, help="write the full results (every repetition) here")
    parser.add_argument("--keep-logs", action="store_true", help="keep the worker logs directory and print its path")
    return parser.parse_args(argv)


def _split(value: str | None, known: tuple[str, ...] | list[str], what: str) -> tuple[str, ...]:
    if not value:
        return tuple(known)
    names = tuple(v.strip() for v in value.split(",") if v.strip())
    unknown = [n for n in names if n not in known]
    if unknown:
        sys.exit(f"unknown {what}: {', '.join(unknown)} (known: {', '.join(known)})")
    return names


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # SIGTERM cleans up (workers, server) like Ctrl-C


def run(args: argparse.Namespace) -> int:
    from peers import PEER_MODULES
    from peers.driver import Outcome, Plan, Status, run_plan
    from peers.errors import BenchError
    from peers.redis_server import start_server
    from peers.report import print_table, to_json
    from peers.workloads import Sizes

    plan = Plan(
        peers=_split(args.peers, list(PEER_MODULES), "peer"),
        workloads=_split(args.workloads, WORKLOADS, "workload"),
        sizes=Sizes.quick() if args.quick else Sizes(),
        repetitions=args.repetitions or (1 if args.quick else 3),
    )
    if plan.repetitions < 1:
        sys.exit("--repetitions must be at least 1")
    signal.signal(signal.SIGTERM, _raise_interrupt)
    log_dir = Path(tempfile.mkdtemp(prefix="ottermq-bench-logs-"))
    started_at = datetime.datetime.now(datetime.UTC)
    load_start = os.getloadavg()
    try:
        server = start_server()
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

    def progress(outcome: Outcome) -> None:
        detail = ", ".join(f"{k}={v.median:,.2f}" for k, v in outcome.metrics.items() if not k.endswith("elapsed_s"))
        status = detail if outcome.status is Status.OK else "FAILED: " + outcome.error.splitlines()[-1][:200]
        load = " ".join(f"{x:.2f}" for x in outcome.load_after)
        print(f"{outcome.peer:>9} {outcome.case.label:<10} {outcome.seconds:6.1f}s  load {load}  {status}", flush=True)

    try:
        print(f"valkey {server.version} on {server.url}; load average {' '.join(f'{x:.2f}' for x in load_start)}", flush=True)
        outcomes = run_plan(plan, server, log_dir, progress)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        server.stop()
        if args.keep_logs:
            print(f"worker logs: {log_dir}")
        else:
            shutil.rmtree(log_dir, ignore_errors=True)
    print_table(outcomes, plan, sys.stdout)
    load_end = os.getloadavg()
    print(f"\nload average: start {' '.join(f'{x:.2f}' for x in load_start)}, end {' '.join(f'{x:.2f}' for x in load_end)}"
          f" ({os.cpu_count()} CPUs)")
    if args.json:
        meta = _meta(started_at, load_start, load_end, server.version, args.quick)
        args.json.write_text(json.dumps(to_json(outcomes, plan, meta), indent=2) + "\n")
        print(f"wrote {args.json}")
    return 1 if any(o.status is Status.FAILED for o in outcomes) else 0


def _meta(started_at: datetime.datetime, load_start: tuple[float, float, float], load_end: tuple[float, float, float],
          server_version: str, quick: bool) -> dict[str, object]:
    from peers.base import installed_version

    return {
        "started_at": started_at.isoformat(timespec="seconds"),
        "finished_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "loadavg_start": list(load_start),
        "loadavg_end": list(load_end),
        "server": f"valkey {server_version}, TCP 127.0.0.1, no AOF, no RDB",
        "redis_py": installed_version("redis"),
        "hiredis": installed_version("hiredis"),
        "quick": quick,
    }


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.setup:
        return setup_venv()
    ensure_venv_interpreter(argv)
    return run(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
