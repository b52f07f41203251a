"""One frozen settings object, resolved from four layers.

Precedence, highest first: CLI flags > ``OTTERMQ_*`` environment variables >
``ottermq.yaml`` in the working directory (or ``--config FILE``) > defaults.
The environment is read when :func:`load_settings` is called, never at import.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ottermq.errors import ConfigError
from ottermq.suggest import did_you_mean
from ottermq.units import parse_duration_ms

__all__ = ["Settings", "load_settings", "CONFIG_FILE_NAME"]

CONFIG_FILE_NAME = "ottermq.yaml"
ENV_PREFIX = "OTTERMQ_"


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a command needs to know about its environment."""

    # Redis URL (redis://, rediss://, unix://, redis+sentinel://, redis+cluster://);
    # None means: use the embedded server under data_dir.
    redis_url: str | None = None
    # Where the embedded server, the module cache and the logs live.
    data_dir: Path = Path(".ottermq")
    # Path to a redis-server/valkey-server binary for the embedded server.
    redis_server: str | None = None
    # Number of keyspace shards (hash tags); a multiple of the cluster masters.
    shards: int = 1
    # Key prefix, so several OtterMQ installations can share one Redis.
    key_prefix: str = "ottermq"
    # How long a leased task is owned before the reaper takes it back.
    lease_ms: int = 30_000
    # How long finished runs and their results are kept.
    retention_ms: int = 7 * 24 * 3600 * 1000
    # Roughly how many events each shard's stream keeps (older ones are trimmed).
    events_maxlen: int = 100_000
    log_level: str = "info"

    @property
    def module_cache_dir(self) -> Path:
        return self.data_dir / "cache" / "modules"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"


_FIELDS: dict[str, dataclasses.Field[Any]] = {f.name: f for f in dataclasses.fields(Settings)}
_DURATION_FIELDS = frozenset({"lease_ms", "retention_ms"})
# The name users write (config key, OTTERMQ_<NAME>, --flag) for each field.
PUBLIC_NAMES: dict[str, str] = {f.removesuffix("_ms"): f for f in _FIELDS}


def load_settings(
    flags: Mapping[str, Any] | None = None,
    *,
    config_file: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Settings:
    """Resolve settings from flags, environment, config file and defaults.

    ``flags`` holds only the values the user actually gave (None means unset).
    """
    env = os.environ if environ is None else environ
    base = cwd or Path.cwd()
    values: dict[str, Any] = {}
    explicit = config_file or env.get(ENV_PREFIX + "CONFIG")
    path = Path(explicit) if explicit else base / CONFIG_FILE_NAME
    if explicit and not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    if path.is_file():
        values.update(_read_config_file(path))
    for public, field in PUBLIC_NAMES.items():
        var = ENV_PREFIX + public.upper()
        raw = env.get(var)
        if raw:
            values[field] = _coerce(field, raw, f"environment variable {var}")
    for public, raw in (flags or {}).items():
        if raw is not None:
            field = PUBLIC_NAMES.get(public, public)
            values[field] = _coerce(field, raw, f"flag --{public.replace('_', '-')}")
    return Settings(**values)


def _read_config_file(path: Path) -> dict[str, Any]:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError

    yaml = YAML(typ="rt")
    try:
        data = yaml.load(path.read_text(encoding="utf-8"))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise ConfigError(f"invalid YAML: {exc.problem}", where) from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file: {exc.strerror}", str(path)) from None
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ConfigError("the config file must be a mapping of setting: value", f"{path}:1:1")
    out: dict[str, Any] = {}
    for key, raw in data.items():
        line, col = _mark(data, key)
        where = f"{path}:{line}:{col}"
        name = PUBLIC_NAMES.get(str(key).replace("-", "_"))
        if name is None:
            hint = did_you_mean(str(key), sorted(PUBLIC_NAMES))
            raise ConfigError(f"unknown setting `{key}`{hint}", where)
        out[name] = _coerce(name, raw, "setting", where)
    return out


def _mark(data: Any, key: Any) -> tuple[int, int]:
    try:
        line, col = data.lc.key(key)
        return line + 1, col + 1
    except (AttributeError, KeyError, TypeError):
        return 1, 1


def _coerce(name: str, raw: Any, source: str, where: str | None = None) -> Any:
    field = _FIELDS[name]
    try:
        if name in _DURATION_FIELDS:
            return raw if isinstance(raw, int) and not isinstance(raw, bool) else parse_duration_ms(str(raw))
        if field.type in ("int",):
            if isinstance(raw, bool):
                raise ValueError("expected an integer")
            value = int(raw)
            if name == "shards" and value < 1:
                raise ValueError("must be at least 1")
            return value
        if field.type in ("Path",):
            return Path(str(raw))
        if name == "log_level":
            level = str(raw).lower()
            if level not in {"debug", "info", "warning", "error"}:
                raise ValueError("expected one of debug, info, warning, error")
            return level
        return None if raw is None else str(raw)
    except ValueError as exc:
        raise ConfigError(f"{source} `{name.removesuffix('_ms')}`: {exc}", where) from None


def settings_flags() -> tuple[str, ...]:
    """The public setting names, for building CLI flags."""
    return tuple(PUBLIC_NAMES)
