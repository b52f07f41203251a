"""A real Redis Cluster of N masters on loopback, for tests and benchmarks.

Each master gets a free client port and an explicit bus port (``--cluster-port``),
so nothing depends on port + 10000 being free. The cluster is formed with
``redis-cli --cluster create`` when a cli is available, otherwise by assigning
slot ranges and introducing the nodes ourselves (what the cli does, minus its
one-second polling).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import redis
from redis.cluster import ClusterNode

from ottermq.embedded.binary import ServerBinary, find_cli, find_server
from ottermq.embedded.private import ServerProcess
from ottermq.embedded.probe import Endpoint, connect
from ottermq.embedded.process import ServerConfig, free_port, launch_on_free_ports, pid_alive
from ottermq.errors import EmbeddedServerError

__all__ = ["ClusterProcess", "start_cluster"]

SLOTS = 16384
FORM_TIMEOUT = 20.0


@dataclass(frozen=True, slots=True)
class ClusterProcess:
    """The masters of a local cluster, in slot order (node 0 owns slot 0)."""

    nodes: tuple[ServerProcess, ...]

    @property
    def url(self) -> str:
        return self.nodes[0].url

    @property
    def addresses(self) -> tuple[tuple[str, int], ...]:
        return tuple((node.endpoint.host, node.port) for node in self.nodes)

    @property
    def startup_nodes(self) -> list[ClusterNode]:
        """Fresh ``ClusterNode`` objects for ``RedisCluster(startup_nodes=...)``."""
        return [ClusterNode(host, port) for host, port in self.addresses]

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM every master, then wait for all of them (in parallel, not one by one)."""
        for node in self.nodes:
            if node.is_alive():
                _signal_term(node.pid)
        failures = []
        for node in self.nodes:
            try:
                node.stop(timeout)
            except EmbeddedServerError as exc:
                failures.append(str(exc))
        if failures:
            raise EmbeddedServerError("; ".join(failures))

    def kill(self) -> None:
        for node in self.nodes:
            node.kill()

    def __enter__(self) -> ClusterProcess:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            self.stop()
        except EmbeddedServerError:
            self.kill()


def start_cluster(
    directory: Path,
    masters: int = 3,
    *,
    binary: ServerBinary | None = None,
    use_cli: bool | None = None,
    timeout: float = FORM_TIMEOUT,
) -> ClusterProcess:
    """Start ``masters`` nodes under ``directory`` and return once every slot is served.

    ``use_cli`` None means: use redis-cli/valkey-cli if one is found.
    """
    if masters < 1:
        raise ValueError("a cluster needs at least one master")
    server = binary or find_server()
    cli = find_cli(server.path) if use_cli is not False else None
    if use_cli and cli is None:
        raise EmbeddedServerError(f"no redis-cli or valkey-cli next to {server.path} or on PATH")
    directory = directory.resolve()
    nodes: list[ServerProcess] = []
    try:
        for index in range(masters):
            nodes.append(_start_node(server, directory / f"node-{index}"))
        cluster = ClusterProcess(tuple(nodes))
        if cli is not None:
            _create_with_cli(cli, cluster, timeout)
        else:
            _create_by_hand(cluster)
        _wait_formed(cluster, timeout)
    except BaseException:
        ClusterProcess(tuple(nodes)).kill()
        raise
    return cluster


def _start_node(server: ServerBinary, directory: Path) -> ServerProcess:
    def make() -> ServerConfig:
        port = free_port()
        bus = free_port()
        while bus == port:
            bus = free_port()
        return ServerConfig(
            binary=server,
            directory=directory,
            endpoint=Endpoint(port=port),
            pidfile=directory / "redis.pid",
            logfile=directory / "redis.log",
            appendonly=False,
            extra_args=(
                "--cluster-enabled", "yes",
                "--cluster-port", str(bus),
                "--cluster-config-file", "nodes.conf",
                "--cluster-node-timeout", "5000",
            ),
        )  # fmt: skip

    config, pid = launch_on_free_ports(make)
    return ServerProcess(config, pid)


def _create_with_cli(cli: Path, cluster: ClusterProcess, timeout: float) -> None:
    argv = [str(cli), "--cluster", "create", *(f"{h}:{p}" for h, p in cluster.addresses)]
    argv += ["--cluster-replicas", "0", "--cluster-yes"]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise EmbeddedServerError(f"`{cli.name} --cluster create` did not finish within {timeout:g} s") from None
    if done.returncode != 0:
        output = (done.stdout + done.stderr).strip().splitlines()[-10:]
        raise EmbeddedServerError(f"`{cli.name} --cluster create` failed:\n  " + "\n  ".join(output))


def _create_by_hand(cluster: ClusterProcess) -> None:
    count = len(cluster.nodes)
    clients = [connect(node.endpoint, timeout=5.0) for node in cluster.nodes]
    try:
        for index, client in enumerate(clients):
            first, last = index * SLOTS // count, (index + 1) * SLOTS // count - 1
            client.execute_command("CLUSTER", "ADDSLOTSRANGE", first, last)
            # Distinct epochs up front spare the nodes an epoch-collision round.
            client.execute_command("CLUSTER", "SET-CONFIG-EPOCH", index + 1)
        for node in cluster.nodes[1:]:
            bus = _bus_port(node)
            clients[0].execute_command("CLUSTER", "MEET", node.endpoint.host, node.port, bus)
    except redis.exceptions.RedisError as exc:
        raise EmbeddedServerError(f"cannot form the cluster: {exc}") from None
    finally:
        for client in clients:
            client.close()


def _bus_port(node: ServerProcess) -> int:
    args = node.config.extra_args
    return int(args[args.index("--cluster-port") + 1])


def _wait_formed(cluster: ClusterProcess, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    pending = list(cluster.nodes)
    last: dict[str, Any] = {}
    while pending:
        node = pending[0]
        if not pid_alive(node.pid):
            raise EmbeddedServerError(f"cluster node {node.url} exited while the cluster was forming")
        last = _cluster_info(node)
        if _formed(last, len(cluster.nodes)):
            pending.pop(0)
            continue
        if time.monotonic() >= deadline:
            raise EmbeddedServerError(f"the cluster did not become ready within {timeout:g} s: {node.url} says {last}")
        time.sleep(0.05)


def _formed(facts: dict[str, Any], masters: int) -> bool:
    return (
        facts.get("cluster_state") == "ok"
        and int(facts.get("cluster_slots_ok", 0)) == SLOTS
        and int(facts.get("cluster_known_nodes", 0)) == masters
    )


def _cluster_info(node: ServerProcess) -> dict[str, Any]:
    client = connect(node.endpoint, timeout=1.0)
    try:
        raw = client.execute_command("CLUSTER", "INFO")
    except redis.exceptions.RedisError:
        return {}
    finally:
        client.close()
    if isinstance(raw, dict):  # parsed by redis-py already
        return raw
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


def _signal_term(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
