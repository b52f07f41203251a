"""Compile once: precompiled modules on disk (checked, rebuilt when corrupt) and in memory."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ottermq.wasm import SandboxSpec, WasmRuntime
from ottermq.wasm.cache import MAGIC, CacheStats, DiskCache
from ottermq.wasm.engine import EngineOptions, engine_fingerprint

from .conftest import module

SPEC = SandboxSpec()


def _entries(cache: Path) -> list[Path]:
    return sorted(cache.glob("*.cwasm"))


def _works(rt: WasmRuntime, name: str = "core_total.wat") -> None:
    result = rt.load(module(name), SPEC).call('{"a": 40, "b": 2}')
    assert result.ok and json.loads(result.output or "") == {"total": 42}, result.error


def _fresh_runtime_stats(cache: Path, name: str = "core_total.wat", **kw: object) -> CacheStats:
    with WasmRuntime(cache, **kw) as rt:  # type: ignore[arg-type]
        _works(rt, name)
        return rt.cache_stats()


def test_second_runtime_loads_from_disk_without_compiling(tmp_path: Path) -> None:
    assert _fresh_runtime_stats(tmp_path) == CacheStats(compiled=1)
    assert len(_entries(tmp_path)) == 1
    assert _fresh_runtime_stats(tmp_path) == CacheStats(disk_hits=1)


@pytest.mark.parametrize("name", ["core_total.wat", "command_total.wat", "component_total.wat"])
def test_every_shape_is_cached(tmp_path: Path, name: str) -> None:
    assert _fresh_runtime_stats(tmp_path, name).compiled == 1
    assert _fresh_runtime_stats(tmp_path, name) == CacheStats(disk_hits=1)
    kind = "component" if name.startswith("component") else "module"
    assert [p.name.split(".")[1] for p in _entries(tmp_path)] == [kind]


def test_loading_twice_in_one_runtime_hits_memory(tmp_path: Path) -> None:
    with WasmRuntime(tmp_path) as rt:
        first = rt.load(module("core_total.wat"), SPEC)
        second = rt.load(module("core_total.wat"), SandboxSpec(timeout_ms=5_000))
        assert first.digest == second.digest
        assert rt.cache_stats() == CacheStats(compiled=1, memory_hits=1)


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: data[: len(data) // 2], id="truncated"),
        pytest.param(lambda data: data[:-1] + bytes([data[-1] ^ 0xFF]), id="flipped-payload-byte"),
        pytest.param(lambda data: b"NOT-OUR-MAGIC!" + data[len(MAGIC) :], id="bad-magic"),
        pytest.param(lambda data: b"", id="empty"),
        pytest.param(lambda data: data + b"trailing", id="extra-bytes"),
    ],
)
def test_corrupt_entry_is_detected_and_rebuilt(tmp_path: Path, damage: object) -> None:
    _fresh_runtime_stats(tmp_path)
    (entry,) = _entries(tmp_path)
    good = entry.read_bytes()
    entry.write_bytes(damage(good))  # type: ignore[operator]
    assert _fresh_runtime_stats(tmp_path) == CacheStats(compiled=1, rebuilt=1)
    # The rebuilt entry is whole again, and used by the next runtime.
    assert entry.read_bytes()[: len(MAGIC)] == MAGIC
    assert _fresh_runtime_stats(tmp_path) == CacheStats(disk_hits=1)


def test_cache_key_changes_with_engine_configuration(tmp_path: Path) -> None:
    metered, unmetered = EngineOptions(), EngineOptions(consume_fuel=False)
    assert engine_fingerprint(metered) != engine_fingerprint(unmetered)
    assert engine_fingerprint(metered) == engine_fingerprint(EngineOptions())
    _fresh_runtime_stats(tmp_path, engine_options=metered)
    assert _fresh_runtime_stats(tmp_path, engine_options=unmetered).compiled == 1
    names = [p.name for p in _entries(tmp_path)]
    assert len(names) == 2
    assert {name.split("-")[1].split(".")[0] for name in names} == {
        engine_fingerprint(metered),
        engine_fingerprint(unmetered),
    }


def test_an_artifact_of_another_engine_configuration_is_rebuilt_not_trusted(tmp_path: Path) -> None:
    _fresh_runtime_stats(tmp_path, engine_options=EngineOptions())
    (entry,) = _entries(tmp_path)
    # Plant the fuel-metered artifact, with a valid checksum, under the unmetered key.
    metered, unmetered = engine_fingerprint(EngineOptions()), engine_fingerprint(EngineOptions(consume_fuel=False))
    planted = entry.with_name(entry.name.replace(metered, unmetered))
    shutil.copy(entry, planted)
    stats = _fresh_runtime_stats(tmp_path, engine_options=EngineOptions(consume_fuel=False))
    assert stats == CacheStats(compiled=1, rebuilt=1)


def test_writes_are_atomic_and_leave_no_temporary_files(tmp_path: Path) -> None:
    for name in ("core_total.wat", "command_total.wat", "component_total.wat"):
        _fresh_runtime_stats(tmp_path, name)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    assert len(_entries(tmp_path)) == 3


def test_unwritable_cache_only_costs_speed(tmp_path: Path) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache directory should be")
    assert _fresh_runtime_stats(blocker).compiled == 1
    assert _fresh_runtime_stats(blocker).compiled == 1


def test_no_cache_directory_means_memory_only() -> None:
    with WasmRuntime(None) as rt:
        _works(rt)
        _works(rt)
        assert rt.cache_stats() == CacheStats(compiled=1, memory_hits=1)


def test_disk_cache_round_trip(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, "f" * 16)
    assert cache.load("d" * 64, "module") is None
    cache.store("d" * 64, "module", b"payload bytes")
    assert cache.load("d" * 64, "module") == b"payload bytes"
    assert cache.path_for("d" * 64, "module") == tmp_path / f"{'d' * 64}-{'f' * 16}.module.cwasm"
