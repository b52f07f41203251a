"""The Lua scripts: read once from package data, includes resolved, registered by SHA.

Each ``lua/<name>.lua`` is one state transition. A line ``-- @include "lib/x.lua"``
is replaced by that file (once per script), so shared code lives in ``lua/lib/`` and
every script is still one static text, hashed and loaded once (EVALSHA, with redis-py's
NOSCRIPT fallback). Nothing is generated or interpolated at run time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

__all__ = ["SCRIPT_NAMES", "ScriptSource", "Scripts", "declared_keys", "expand_includes", "load_source"]

SCRIPT_NAMES: tuple[str, ...] = (
    "install_blueprint",
    "create_runs",
    "lease",
    "extend",
    "ack",
    "fail",
    "expand",
    "cancel",
    "reap",
    "promote",
    "dlq_requeue",
    "dlq_purge",
)

_INCLUDE = re.compile(r'^--\s*@include\s+"([^"]+)"\s*$', re.MULTILINE)
_KEYS_LINE = re.compile(r"^\s*KEYS\[(\d+)\]", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class ScriptSource:
    name: str
    text: str
    header: str


def _read(path: str) -> str:
    return resources.files("ottermq.store").joinpath("lua").joinpath(path).read_text(encoding="utf-8")


def _expand(text: str, seen: set[str]) -> str:
    def include(match: re.Match[str]) -> str:
        path = match.group(1)
        if path in seen:
            return ""
        seen.add(path)
        return _expand(_read(path), seen)

    return _INCLUDE.sub(include, text)


def expand_includes(text: str) -> str:
    """``text`` with its ``-- @include`` lines replaced by the library files."""
    return _expand(text, set())


def load_source(name: str) -> ScriptSource:
    raw = _read(f"{name}.lua")
    header = raw.split("]]", 1)[0] if raw.startswith("--[[") else ""
    return ScriptSource(name=name, text=expand_includes(raw), header=header)


def declared_keys(source: ScriptSource) -> int:
    """How many KEYS the script's header declares (KEYS[1] .. KEYS[n])."""
    indexes = [int(i) for i in _KEYS_LINE.findall(source.header)]
    return max(indexes, default=0)


class Scripts:
    """The registered scripts of one client (one redis-py Script object per transition)."""

    def __init__(self, client: Any) -> None:
        self._scripts = {name: client.register_script(load_source(name).text) for name in SCRIPT_NAMES}

    def __getitem__(self, name: str) -> Any:
        return self._scripts[name]
