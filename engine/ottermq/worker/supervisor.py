"""The supervisor: keeps N worker processes alive and scales them with the backlog.

Each ``tick()`` is one pass: collect the children that exited (logging why, and scheduling
a replacement unless they were meant to stop), take a load sample and let the autoscaler
decide when a scaling pass is due, then start or retire processes to match. ``run()``
ticks until stopped, waking early when ``wake()`` is called (on SIGCHLD).

Stopping (``stop()``, on SIGTERM or SIGINT) forwards SIGTERM to every child once: each
stops leasing, finishes its running tasks within its grace period and exits. A second
``stop()`` forwards a second SIGTERM, which makes the children abandon what still runs.
Children still alive ``kill_after_s`` after their grace period are killed. The supervisor
returns when no child is left.

A child that keeps exiting by itself soon after it starts (a bad configuration, a crash)
is restarted with exponential backoff, so a crash loop does not spin.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass

from ottermq.clock import Clock, SystemClock
from ottermq.errors import OtterError
from ottermq.worker.autoscale import LoadSample, ScalePolicy, ScaleState, decide
from ottermq.worker.children import describe_exit

__all__ = ["Child", "Supervisor"]

log = logging.getLogger("ottermq.supervisor")

Launch = Callable[[str], "subprocess.Popen[bytes]"]
Probe = Callable[[], LoadSample]

QUICK_EXIT_S = 5.0
MAX_RESTART_DELAY_S = 30.0


@dataclass(slots=True)
class Child:
    name: str
    process: subprocess.Popen[bytes]
    started: float
    # SIGTERMs sent: 1 = stopping gracefully (retired or shutting down), 2 = abandon running tasks.
    signalled: int = 0

    @property
    def pid(self) -> int:
        return self.process.pid


class Supervisor:
    def __init__(
        self,
        launch: Launch,
        *,
        minimum: int,
        maximum: int | None = None,
        name: str = "worker",
        grace_s: float = 30.0,
        probe: Probe | None = None,
        policy: ScalePolicy | None = None,
        concurrency: int = 1,
        burst: bool = False,
        tick_s: float = 0.5,
        scale_every_s: float = 2.0,
        kill_after_s: float = 10.0,
        clock: Clock | None = None,
    ) -> None:
        self._launch = launch
        self._name = name
        self.minimum = minimum
        self.maximum = maximum if maximum is not None else minimum
        self.desired = minimum
        self._grace_s = grace_s
        self._probe = probe if self.maximum > self.minimum else None
        self._policy = policy or ScalePolicy(minimum, self.maximum, concurrency)
        self._scale_state = ScaleState()
        self._burst = burst
        self._tick_s = tick_s
        self._scale_every_s = scale_every_s
        self._kill_after_s = kill_after_s
        self._clock = clock or SystemClock()
        self.children: list[Child] = []
        self._spawned = 0
        self._crashes = 0
        self._restart_at = 0.0
        self._next_scale = 0.0
        self._probe_failing = False
        self._stop_requests = 0
        self._stops_handled = 0
        self._kill_at: float | None = None
        self._finishing = False  # burst: a child found no work left; start nothing more
        self._wake = threading.Event()
        self.restarts = 0
        self.exits: list[tuple[str, int]] = []  # (name, return code) of every child that exited

    # --- control (safe to call from signal handlers) -----------------------------------------

    def stop(self) -> None:
        self._stop_requests += 1
        self._wake.set()

    def wake(self) -> None:
        self._wake.set()

    @property
    def stopping(self) -> bool:
        return self._stops_handled > 0

    # --- loop -----------------------------------------------------------------------------

    def run(self) -> int:
        log.info("%s: supervising %s worker process(es)", self._name,
                 self.minimum if self.maximum == self.minimum else f"{self.minimum} to {self.maximum}")
        while True:
            self._wake.clear()
            self.tick()
            if (self.stopping or self._finishing) and not self.children:
                break
            self._wake.wait(self._tick_s)
        log.info("%s: all worker processes have exited (%d restarted)", self._name, self.restarts)
        return 0

    def tick(self) -> None:
        now = self._clock.monotonic()
        self._handle_stop(now)
        self._collect(now)
        if self.stopping:
            self._kill_stragglers(now)
            return
        if self._crashes and self.children and all(now - c.started >= QUICK_EXIT_S for c in self.children):
            self._crashes = 0  # the children stay up now: a later crash starts the backoff afresh
        if self._probe is not None and not self._finishing and now >= self._next_scale:
            self._next_scale = now + self._scale_every_s
            self._scale(self._probe)
        self._fill(now)

    # --- children -------------------------------------------------------------------------

    def _active(self) -> list[Child]:
        return [c for c in self.children if c.signalled == 0]

    def _fill(self, now: float) -> None:
        active = len(self._active())
        while active < self.desired and now >= self._restart_at and not self._finishing:
            self._spawned += 1
            name = f"{self._name}-{self._spawned}"
            try:
                process = self._launch(name)
            except OSError as exc:
                log.error("%s: cannot start a worker process: %s", self._name, exc)
                self._backoff(now)
                return
            self.children.append(Child(name, process, now))
            log.info("%s: started %s (pid %d)", self._name, name, process.pid)
            active += 1

    def _collect(self, now: float) -> None:
        for child in list(self.children):
            code = child.process.poll()
            if code is None:
                continue
            self.children.remove(child)
            self.exits.append((child.name, code))
            lived = now - child.started
            if child.signalled or self.stopping:
                log.info("%s: %s (pid %d) stopped (%s)", self._name, child.name, child.pid, describe_exit(code))
            elif self._burst and code == 0:
                log.info("%s: %s (pid %d) found no work left", self._name, child.name, child.pid)
                self._finishing = True
            else:
                self.restarts += 1
                quick = code > 0 and lived < QUICK_EXIT_S
                delay = self._backoff(now) if quick else 0.0
                if not quick:
                    self._crashes = 0
                log.warning("%s: %s (pid %d) %s after %.1fs; starting a replacement%s", self._name, child.name,
                            child.pid, describe_exit(code), lived, f" in {delay:.1f}s" if delay else "")

    def _backoff(self, now: float) -> float:
        self._crashes += 1
        delay = min(MAX_RESTART_DELAY_S, 0.5 * 2.0 ** (self._crashes - 1))
        self._restart_at = max(self._restart_at, now + delay)
        return delay

    def _signal(self, child: Child) -> None:
        child.signalled += 1
        try:
            child.process.send_signal(signal.SIGTERM)
        except ProcessLookupError:
            pass  # exited meanwhile; collected on the next pass

    # --- stopping -------------------------------------------------------------------------

    def _handle_stop(self, now: float) -> None:
        while self._stops_handled < self._stop_requests:
            self._stops_handled += 1
            if self._stops_handled == 1:
                log.info("%s: stopping %d worker process(es) (grace %gs)", self._name, len(self.children),
                         self._grace_s)
                self._kill_at = now + self._grace_s + self._kill_after_s
            else:
                log.warning("%s: stopping now: running tasks are abandoned and run again elsewhere", self._name)
            for child in self.children:
                # A retired child already has its first SIGTERM; only a second stop sends it another.
                if child.signalled < self._stops_handled:
                    self._signal(child)

    def _kill_stragglers(self, now: float) -> None:
        if self._kill_at is None or now < self._kill_at:
            return
        for child in self.children:
            if child.process.poll() is None:
                log.error("%s: %s (pid %d) did not stop in time; killing it", self._name, child.name, child.pid)
                child.process.kill()
        self._kill_at = None

    # --- scaling --------------------------------------------------------------------------

    def _scale(self, probe: Probe) -> None:
        try:
            sample = probe()
        except OtterError as exc:
            if not self._probe_failing:
                log.warning("%s: cannot sample the queues (%s); not scaling until it can", self._name, exc)
            self._probe_failing = True
            return
        if self._probe_failing:
            log.info("%s: sampling the queues again", self._name)
            self._probe_failing = False
        decision = decide(self.desired, sample, self._scale_state, self._policy)
        self._scale_state = decision.state
        if decision.target == self.desired:
            return
        log.info("%s: scaling from %d to %d worker processes: %s", self._name, self.desired, decision.target,
                 decision.reason)
        self.desired = decision.target
        active = self._active()
        # Retire the newest first: the oldest have warm caches.
        for child in reversed(active[self.desired:]):
            self._signal(child)
