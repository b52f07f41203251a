"""The pipelines shipped in pipelines/ and examples/ are valid and together use the whole format."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_repository_pipelines_are_valid() -> None:
    root = ROOT
    proc = subprocess.run(
        [sys.executable, "-m", "ottermq", "validate", "pipelines/", "examples/"], cwd=root, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_repository_pipelines_use_every_feature_of_the_format() -> None:
    """Every property the schema defines appears somewhere in pipelines/ or examples/."""
    from ottermq.spec.loader import load_paths
    from ottermq.spec.schema import load_schema

    root = ROOT
    docs, _ = load_paths([root / "pipelines", root / "examples"])
    used: set[str] = set()

    def walk(value: object) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                used.add(k)
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    for doc in docs:
        walk(doc.data)
    schema = load_schema("pipeline.schema.json")
    declared: set[str] = set()

    def props(node: object) -> None:
        if isinstance(node, dict):
            declared.update(node.get("properties", {}))
            for v in node.values():
                props(v)
        elif isinstance(node, list):
            for v in node:
                props(v)

    props(schema)
    assert sorted(declared - used) == []
    enums = {
        "type": {"fifo", "lifo", "priority", "delayed", "composite"},
        "on_failure": {"fail", "continue", "skip"},
        "overlap": {"allow", "skip", "cancel_previous"},
        "catch_up": {"none", "latest", "all"},
        "abi": {"auto", "command", "core", "component"},
        "on_full": {"reject", "drop_oldest"},
        "backoff": {"fixed", "exponential"},
        "strategy": {"strict", "weighted"},
        "mode": {"ro", "rw"},
    }
    seen: dict[str, set[str]] = {k: set() for k in enums}

    def values(value: object) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                if k in seen and isinstance(v, str):
                    seen[k].add(v)
                values(v)
        elif isinstance(value, list):
            for v in value:
                values(v)

    for doc in docs:
        values(doc.data)
    missing = {k: sorted(v - seen[k]) for k, v in enums.items() if v - seen[k]}
    assert missing == {}
