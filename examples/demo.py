"""The README's main job: the checkout pipeline end to end on the embedded Redis.

It drives the real command line, as a user would: `ottermq apply pipelines/`, a worker
process, and two templated runs of the checkout DAG (validate, a fan-out pricing each
order line, a fan-in charge, a receipt):

- order A-1001: the payment gateway fails on the first attempt, the charge is retried
  with backoff and succeeds; the run succeeds;
- order B-2002: the card is declined, a permanent failure: the charge is dead-lettered
  at once, the receipt is skipped and the run fails.

Then it shows the dead-lettered task with its error and history. The embedded Redis
keeps running afterwards (`ottermq server stop` stops it).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "ottermq"]
LINES = '[{"sku": "OTTER-PLUSH", "qty": 2, "unit_price": 12.5}, {"sku": "KELP-SNACK", "qty": 5, "unit_price": 3.2}, ' \
        '{"sku": "RIVER-MAP", "qty": 1, "unit_price": 9.9}]'


def step(title: str) -> None:
    print(f"\n== {title}", flush=True)


def ottermq(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    print("$ ottermq " + " ".join(args), flush=True)
    proc = subprocess.run([*CLI, *args], cwd=ROOT, text=True, capture_output=True)
    sys.stdout.write(proc.stdout)
    sys.stderr.write(proc.stderr)
    if check and proc.returncode != 0:
        raise SystemExit(f"demo: `ottermq {' '.join(args)}` failed with exit code {proc.returncode}")
    return proc


def main() -> int:
    step("the embedded Redis server (data under .ottermq/)")
    ottermq("server", "start")
    step("apply the repository's pipelines")
    ottermq("apply", "pipelines/")
    step("start a worker on the checkout queues")
    log = open(ROOT / ".ottermq" / "demo-worker.log", "w")  # noqa: SIM115 - closed in finally
    worker = subprocess.Popen([*CLI, "worker", "--queues", "orders,payments", "--concurrency", "4", "--name", "demo-worker"],
                              cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, text=True)
    print(f"worker pid {worker.pid}, log in .ottermq/demo-worker.log")
    try:
        step("order A-1001: the gateway fails once, the charge is retried")
        ok = ottermq("run", "checkout", "--param", "order_id=A-1001", "--param", "customer=ada@example.com",
                     "--param", f"lines={LINES}", "--param", "fail_until=2", "--wait", "--timeout", "120", check=False)
        step("order B-2002: the card is declined (a permanent failure)")
        declined = ottermq("run", "checkout", "--param", "order_id=B-2002", "--param", "customer=grace@example.com",
                           "--param", "card=declined", "--wait", "--timeout", "120", check=False)
        step("the dead-letter queue of `payments`")
        show_dead_letters()
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
        log.close()
    step("worker log")
    sys.stdout.write((ROOT / ".ottermq" / "demo-worker.log").read_text())
    step("outcome")
    print(f"order A-1001: {'succeeded after a retry' if ok.returncode == 0 else 'FAILED'}")
    print(f"order B-2002: {'failed, its charge dead-lettered' if declined.returncode == 1 else 'UNEXPECTED'}")
    return 0 if ok.returncode == 0 and declined.returncode == 1 else 1


def show_dead_letters() -> None:
    from ottermq.client import Client
    from ottermq.settings import load_settings

    os.chdir(ROOT)
    with Client(settings=load_settings()) as client:
        for dead in client.inspect.dead_letters("payments", limit=5):
            print(f"{dead.unit_id}: {dead.error_kind}: {dead.error} (after {dead.attempts} attempt(s), "
                  f"died {time.strftime('%H:%M:%S', time.localtime(dead.died_ms / 1000))})")
            for entry in dead.history:
                print(f"  attempt {entry.get('attempt')}: {entry.get('kind')}: {entry.get('error')}")
            if dead.input:
                print(f"  input: {json.dumps(json.loads(dead.input))}")


if __name__ == "__main__":
    sys.exit(main())
