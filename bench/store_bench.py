"""Execution-core benchmark: bulk run creation, lease+ack cycles, the Redis ceiling, wake-up latency.

One process. By default it starts a private server (unix socket, AOF off) with OtterMQ's
own launcher; ``--redis-url`` points it at another (it must be a throwaway server: the
benchmark flushes it). ``--write`` replaces the "Execution core" section of bench/RESULTS.md.

    .venv/bin/python bench/store_bench.py [--redis-url URL] [--scale 1.0] [--write]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import redis

from ottermq.clock import SystemClock
from ottermq.settings import Settings
from ottermq.store.blueprint import QueueConfig, RunBlueprint, TaskBlueprint
from ottermq.store.connection import client_from_url
from ottermq.store.redis_store import RedisStore
from ottermq.store.types import Ack, RunRequest

SECTION = "## Execution core (bench/store_bench.py)"
RESULTS = Path(__file__).with_name("RESULTS.md")
NOOP = "return 0"


def one_task() -> RunBlueprint:
    return RunBlueprint("bench", 1, "h1", (TaskBlueprint("work", "q"),), (QueueConfig("q"),))


def make_store(url: str) -> RedisStore:
    # A short retention, so the finished runs of a long benchmark do not pile up.
    settings = Settings(redis_url=url, retention_ms=60_000, events_maxlen=10_000)
    return RedisStore(client_from_url(url), settings, SystemClock())


def server_cpu(client: redis.Redis) -> float:
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


# CPU seconds per item, client (this process) and server, of the last timed() workload:
# unlike rates, they barely move with the load other users put on a shared machine.
CPU: dict[str, tuple[float, float]] = {}


def timed(fn: Callable[[], int], label: str = "", client: redis.Redis | None = None) -> tuple[int, float]:
    server0 = server_cpu(client) if client is not None else 0.0
    cpu0 = time.process_time()
    start = time.perf_counter()
    count = fn()
    seconds = time.perf_counter() - start
    if client is not None and count:
        CPU[label] = ((time.process_time() - cpu0) / count, (server_cpu(client) - server0) / count)
    return count, seconds


def bulk_create(store: RedisStore, runs: int, chunk: int = 1000) -> float:
    bp = one_task()
    store.install(bp)

    def go() -> int:
        for start in range(0, runs, chunk):
            store.create_runs(bp, [RunRequest() for _ in range(min(chunk, runs - start))])
        return runs

    count, seconds = timed(go, "create", store.client)
    return count / seconds


def lease_ack(store: RedisStore, tasks: int, batch: int) -> float:
    bp = one_task()
    store.client.flushall()
    for start in range(0, tasks, 1000):
        store.create_runs(bp, [RunRequest() for _ in range(min(1000, tasks - start))])

    def go() -> int:
        done = 0
        while True:
            lease = store.lease(["q"], batch, worker="bench")
            if not lease.tasks:
                return done
            store.ack([Ack(t.unit_id, t.token, "null") for t in lease.tasks])
            done += len(lease.tasks)

    count, seconds = timed(go, f"cycle{batch}", store.client)
    assert count == tasks, (count, tasks)
    return count / seconds


def fan_out() -> RunBlueprint:
    return RunBlueprint("bench-items", 1, "h2", (TaskBlueprint("each", "q", fan_out=True),), (QueueConfig("q"),))


def lease_ack_items(store: RedisStore, tasks: int, batch: int, per_run: int = 1000) -> float:
    """The same cycle for items of fanned-out tasks: most acks do not end their run."""
    bp = fan_out()
    store.client.flushall()
    runs = max(1, tasks // per_run)
    store.create_runs(bp, [RunRequest() for _ in range(runs)])
    for unit in store.lease(["q"], runs, worker="bench").tasks:
        store.expand(unit.ref, ["null"] * per_run)

    def go() -> int:
        done = 0
        while True:
            lease = store.lease(["q"], batch, worker="bench")
            if not lease.tasks:
                return done
            store.ack([Ack(t.unit_id, t.token, "null") for t in lease.tasks])
            done += len(lease.tasks)

    count, seconds = timed(go, "items", store.client)
    assert count == runs * per_run, (count, runs * per_run)
    return count / seconds


def ceiling(url: str, calls: int, pipeline: int = 100) -> float:
    """Pipelined no-op Lua calls per second: the most any one-call-per-task design could reach."""
    client = client_from_url(url)
    script = client.register_script(NOOP)
    script(keys=["{ottermq:s0.0}:events"], args=[])

    def go() -> int:
        for _ in range(calls // pipeline):
            pipe = client.pipeline(transaction=False)
            for _ in range(pipeline):
                script(keys=["{ottermq:s0.0}:events"], args=[], client=pipe)
            pipe.execute()
        return calls // pipeline * pipeline

    count, seconds = timed(go, "noop", client)
    return count / seconds


def wake_latency(url: str, samples: int) -> tuple[list[float], list[float]]:
    """Producer thread creates a run; the idle consumer measures when its wait returns and
    when its lease returns the task (perf_counter deltas, one process)."""
    consumer, producer = make_store(url), make_store(url)
    bp = one_task()
    consumer.client.flushall()
    consumer.install(bp)
    wakes: list[float] = []
    leases: list[float] = []
    sent: list[float] = []
    with consumer.wake_listener(["q"]) as listener:
        for i in range(samples):
            ready = threading.Event()

            def produce(run_id: str = f"wake{i}", ready: threading.Event = ready) -> None:
                ready.wait()
                time.sleep(0.003)
                sent.append(time.perf_counter())
                producer.create_run(bp, RunRequest(run_id=run_id))

            thread = threading.Thread(target=produce)
            thread.start()
            ready.set()
            got = listener.wait(5.0)
            woke = time.perf_counter()
            lease = consumer.lease(["q"], 1, worker="bench", shards=got)
            leased = time.perf_counter()
            thread.join()
            assert lease.tasks, "woken without work"
            consumer.ack([Ack(t.unit_id, t.token, "null") for t in lease.tasks])
            wakes.append((woke - sent[-1]) * 1000)
            leases.append((leased - sent[-1]) * 1000)
    return wakes, leases


def raw_wake(url: str, samples: int) -> dict[str, list[float]]:
    """The two wake-up mechanisms alone (a script publishing / pushing, a blocked client):
    pub/sub (what OtterMQ uses: every idle consumer hears it) and BLPOP (one consumer per push)."""
    producer, consumer = client_from_url(url), client_from_url(url)
    publish = producer.register_script("redis.call('PUBLISH', KEYS[1], '0') return 0")
    push = producer.register_script("redis.call('LPUSH', KEYS[1], '0') return 0")
    out: dict[str, list[float]] = {"pub/sub": [], "BLPOP": []}
    pubsub = consumer.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe("bench:wake")
    pubsub.get_message(timeout=1.0)
    for mechanism, wait, fire in (
        ("pub/sub", lambda: pubsub.get_message(timeout=5.0), lambda: publish(keys=["bench:wake"])),
        ("BLPOP", lambda: consumer.blpop(["bench:list"], timeout=5), lambda: push(keys=["bench:list"])),
    ):
        for _ in range(samples):
            sent: list[float] = []

            def produce(sent: list[float] = sent, fire: Callable[[], object] = fire) -> None:
                time.sleep(0.003)
                sent.append(time.perf_counter())
                fire()

            thread = threading.Thread(target=produce)
            thread.start()
            wait()
            woke = time.perf_counter()
            thread.join()
            out[mechanism].append((woke - sent[0]) * 1000)
    pubsub.close()
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def machine() -> dict[str, str]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "redis-py": redis.__version__,
        "date": subprocess.run(["date"], capture_output=True, text=True).stdout.strip(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-url", help="a throwaway server (flushed); default: start a private one")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every workload size")
    parser.add_argument("--write", action="store_true", help=f"replace the section in {RESULTS.name}")
    args = parser.parse_args(argv)
    server = None
    url = args.redis_url
    if url is None:
        from ottermq.embedded import start_private

        server = start_private(Path(tempfile.mkdtemp(prefix="ottermq-bench-")), appendonly=False)
        url = server.url
    try:
        text = run_all(url, args.scale, " ".join([os.path.relpath(sys.executable), *sys.argv]))
    finally:
        if server is not None:
            server.stop()
    print(text)
    if args.write:
        write_section(text)
    return 0


ANALYSIS = """\
Targets: lease+ack at batch 100 >= 20,000 tasks/s and >= 50% of the ceiling; bulk creation >= 20,000 runs/s;
wake-up p50 <= 2 ms. What was measured while profiling the misses:

- The machine is shared: the load average (above) was above the 2 cores during these runs and the rates
  move 2-3x from run to run; the CPU table is the steadier measure.
- A lease+ack of a single-task run is the whole life of a run: created, started, leased, acked, finished,
  given its expiry, moved between the active and finished indexes, six events. Best-of-four CPU while
  profiling (10,000 queued runs; with the 50,000 above and the finished runs kept, caches miss more):
  lease ~17 us and ack ~23 us of server Lua per task (about 10 keyspace operations at 2-4 us
  each on this VM, plus the Lua around them), and ~17-19 us of Python per task in the client (parsing
  the leased task, building the batch, redis-py packing): ~57 us, i.e. ~17k tasks/s on an idle machine.
  A pipelined no-op call costs ~2-5 us of server and ~7-13 us of client, so 50% of that ceiling would
  leave ~25-35 us for a task's whole share of two script calls plus its Python: not reachable while
  every transition is fenced, indexed, evented and given a retention.
- Items of fanned-out tasks (runs of 1000 tasks) skip the per-run work and cost ~30% less on the server.
- Done to get here (server CPU per single-task-run cycle ~90 us -> ~40-45 us best case): one script call
  per batch per shard; all of a run's units kept as fields of its one hash (one key, one expiry); index
  writes collected and applied in one variadic call per key; events as positional JSON arrays built in
  one concatenation and packed into one stream entry per call; run fields derivable from the blueprint
  not stored per run; blueprint and queue configs decoded once per call.
- Next steps that would still pay: a combined "ack these, lease the next batch" script (one round trip
  per batch instead of two) and a leaner lease reply (run parameters once per run, not per task).
"""


def load_average() -> str:
    return " / ".join(Path("/proc/loadavg").read_text().split()[:3])


def run_all(url: str, scale: float, command: str) -> str:
    def n(x: int) -> int:
        return max(100, int(x * scale))

    load_before = load_average()

    store = make_store(url)
    info = store.client.info("server")
    version = f"{'Valkey' if 'valkey_version' in info else 'Redis'} {info.get('valkey_version', info['redis_version'])}"
    store.client.flushall()
    creation = bulk_create(store, n(50_000))
    cycles = {b: lease_ack(store, n(t), b) for b, t in ((1, 3_000), (10, 20_000), (100, 50_000))}
    items = lease_ack_items(store, n(50_000), 100)
    top = ceiling(url, n(100_000))
    wakes, leases = wake_latency(url, n(200) if scale >= 1 else 100)
    raw = raw_wake(url, n(200) if scale >= 1 else 100)
    m = machine()
    load_after = load_average()
    ratio = cycles[100] / top * 100
    lines = [
        SECTION,
        "",
        f"- Machine: {m['nproc']} cores, {m['cpu']}; Python {m['python']}, redis-py {m['redis-py']} (hiredis); "
        f"server {version} on a unix socket, AOF off",
        f"- Command: `{command}`",
        f"- Date: {m['date']}",
        f"- Load average (1/5/15 min) before / after: {load_before} ; {load_after}",
        "",
        "| measure | result |",
        "|---|---|",
        f"| bulk run creation (1-task runs, 1000 per call) | {creation:,.0f} runs/s |",
        *(f"| lease+ack cycle, batch {b} (each task finishes its run) | {r:,.0f} tasks/s |" for b, r in cycles.items()),
        f"| Redis ceiling: pipelined no-op Lua calls (100 per pipeline) | {top:,.0f} calls/s |",
        f"| lease+ack cycle, batch 100, items of fanned-out tasks (1000 per run) | {items:,.0f} tasks/s |",
        f"| lease+ack at batch 100 vs the ceiling: single-task runs / fan-out items | {ratio:.0f}% / {items / top * 100:.0f}% |",
        "",
        "CPU per item (client process / server), from process_time and INFO cpu; less sensitive than the rates",
        "to the load other users put on this shared machine:",
        "",
        "| workload | client µs | server µs |",
        "|---|---|---|",
        *(f"| {name} | {c * 1e6:.1f} | {s * 1e6:.1f} |" for name, (c, s) in cpu_rows()),
        "",
        "| wake-up | result |",
        "|---|---|",
        f"| idle-consumer wake-up (create_run -> wait returns), p50 / p99 | "
        f"{statistics.median(wakes):.2f} ms / {pct(wakes, 0.99):.2f} ms |",
        f"| ... until the lease has returned the task, p50 / p99 | "
        f"{statistics.median(leases):.2f} ms / {pct(leases, 0.99):.2f} ms |",
        *(
            f"| the mechanism alone, {name} (script -> blocked client), p50 / p99 | "
            f"{statistics.median(v):.2f} ms / {pct(v, 0.99):.2f} ms |"
            for name, v in raw.items()
        ),
        "",
        ANALYSIS,
    ]
    return "\n".join(lines)


def cpu_rows() -> list[tuple[str, tuple[float, float]]]:
    names = {
        "create": "run creation (per run)",
        "cycle1": "lease+ack, batch 1 (per task)",
        "cycle10": "lease+ack, batch 10",
        "cycle100": "lease+ack, batch 100",
        "items": "lease+ack, batch 100, fan-out items",
        "noop": "pipelined no-op Lua call (per call)",
    }
    return [(names[k], CPU[k]) for k in names if k in CPU]


def write_section(text: str) -> None:
    current = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n\n"
    start = current.find(SECTION)
    if start == -1:
        updated = current.rstrip("\n") + "\n\n" + text
    else:
        end = current.find("\n## ", start + len(SECTION))
        rest = current[end + 1 :] if end != -1 else ""
        updated = current[:start] + text.rstrip("\n") + ("\n\n" + rest if rest else "\n")
    RESULTS.write_text(updated.rstrip("\n") + "\n")


if __name__ == "__main__":
    sys.exit(main())
