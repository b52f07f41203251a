"""Every script carries its contract header, and every wrapper honours it."""

from __future__ import annotations

import re
from typing import Any

import pytest

from ottermq.errors import StoreError
from ottermq.store.redis_store import RedisStore
from ottermq.store.scripts import SCRIPT_NAMES, declared_keys, load_source


@pytest.mark.parametrize("name", SCRIPT_NAMES)
def test_header_has_every_section(name: str) -> None:
    header = load_source(name).header
    for section in ("KEYS[1]", "ARGV[", "Returns", "Emits"):
        assert section in header, f"{name}.lua header lacks {section}"


@pytest.mark.parametrize("name", SCRIPT_NAMES)
def test_script_reads_no_undeclared_key(name: str) -> None:
    source = load_source(name)
    used = {int(i) for i in re.findall(r"KEYS\[(\d+)\]", source.text.replace(source.header, ""))}
    assert used <= set(range(1, declared_keys(source) + 1))


def test_includes_resolved_once() -> None:
    text = load_source("ack").text
    assert "@include" not in text
    assert text.count("local function bp_meta") == 1


def test_every_wrapper_passes_the_declared_number_of_keys(store: RedisStore) -> None:
    from store_helpers import chain

    bp = chain("a", "b")
    calls: list[tuple[str, int]] = []
    real = store._scripts._scripts  # the registered Script objects

    def recording(name: str) -> Any:
        def call(keys: list[str], args: list[Any]) -> Any:
            calls.append((name, len(keys)))
            return real[name](keys=keys, args=args)

        return call

    store._scripts._scripts = {name: recording(name) for name in real}
    store.install(bp)
    from ottermq.store.types import Ack, Failure, RunRequest

    run = store.create_run(bp, RunRequest())
    lease = store.lease(["q"], 5, worker="w")
    store.extend([t.ref for t in lease.tasks])
    store.fail([Failure(t.unit_id, t.token, "error", "x", 0) for t in lease.tasks])
    lease = store.lease(["q"], 5, worker="w")
    store.ack([Ack(t.unit_id, t.token, "1") for t in lease.tasks])
    with pytest.raises(StoreError):
        store.expand(lease.tasks[0].ref, [])
    store.reap()
    store.promote()
    store.dlq_requeue(["nope|a"])
    store.dlq_purge(["nope|a"])
    store.cancel_run(run.run_id)
    seen = {name for name, _ in calls}
    assert seen == set(SCRIPT_NAMES)
    for name, count in calls:
        assert count == declared_keys(load_source(name)), name
