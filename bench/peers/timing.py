"""Time bounds and small statistics for the driver."""

from __future__ import annotations

import signal
import statistics
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType

from peers.errors import PeerTimeout

__all__ = ["Stat", "deadline", "percentile"]


@contextmanager
def deadline(seconds: float, what: str) -> Iterator[None]:
    """Raise :class:`PeerTimeout` in the main thread if the block runs longer than ``seconds``.

    A SIGALRM interrupts even a client call blocked on a socket inside a peer
    library, which a polling loop of ours could not. Not reentrant: the
    driver uses one around each step. The alarm repeats every second until
    the block ends, in case a library's ``except Exception`` swallows one.
    """

    def expire(signum: int, frame: FrameType | None) -> None:
        raise PeerTimeout(f"{what}: not finished within {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds, 1.0)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def percentile(samples: Sequence[float], pct: int) -> float:
    """The ``pct``-th percentile (1..99), interpolated between the closest ranks."""
    if len(samples) < 2:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[pct - 1]


@dataclass(frozen=True, slots=True)
class Stat:
    """The repetitions of one metric."""

    runs: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def low(self) -> float:
        return min(self.runs)

    @property
    def high(self) -> float:
        return max(self.runs)

    def as_json(self) -> dict[str, object]:
        return {"median": self.median, "min": self.low, "max": self.high, "runs": list(self.runs)}
