"""Errors of the comparative benchmark.

The harness runs in its own virtualenv (bench/.venv-peers), beside but apart
from the engine, so it keeps a tiny hierarchy of its own::

    BenchError                  any failure the harness reports on purpose
    ├── SetupError              the virtualenv or the private server could not be prepared
    ├── PeerTimeout             a peer did not finish a step within its time bound
    └── PeerFailed              a peer answered wrongly, or its worker exited early

The driver catches these (and anything a peer library raises) per peer and
workload, records the reason and carries on with the next one.
"""

from __future__ import annotations

__all__ = ["BenchError", "PeerFailed", "PeerTimeout", "SetupError"]


class BenchError(Exception):
    """Base of every error the benchmark harness raises on purpose."""


class SetupError(BenchError):
    """The peers' virtualenv or the private Redis server could not be prepared."""


class PeerTimeout(BenchError):
    """A peer did not finish a step (setup, enqueue, drain, round trip) in time."""


class PeerFailed(BenchError):
    """A peer misbehaved: a worker process exited early or a step failed."""
