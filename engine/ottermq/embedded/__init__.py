"""The embedded Redis server: a real Redis-compatible server run for the user.

With no ``redis_url`` configured, OtterMQ runs a server of its own under the
data dir (``./.ottermq`` by default): found by :func:`find_server`, listening on
a unix socket only, with its AOF on, started by the first command that needs it
(:func:`ensure_running`) and left running until ``ottermq server stop``.

The same launcher starts the test suite's private servers (:func:`start_private`)
and local clusters (:func:`start_cluster`).
"""

from __future__ import annotations

from ottermq.embedded.binary import MIN_VERSION, ServerBinary, find_cli, find_server
from ottermq.embedded.cluster import ClusterProcess, start_cluster
from ottermq.embedded.manager import ServerStatus, ensure_running, ensure_running_verbose, status, stop
from ottermq.embedded.private import ServerProcess, start_private

__all__ = [
    "MIN_VERSION",
    "ClusterProcess",
    "ServerBinary",
    "ServerProcess",
    "ServerStatus",
    "ensure_running",
    "ensure_running_verbose",
    "find_cli",
    "find_server",
    "start_cluster",
    "start_private",
    "status",
    "stop",
]
