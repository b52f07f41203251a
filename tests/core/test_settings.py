from __future__ import annotations

from pathlib import Path

import pytest

from ottermq.errors import ConfigError
from ottermq.settings import Settings, load_settings


def test_defaults_without_any_source(tmp_path: Path) -> None:
    assert load_settings(environ={}, cwd=tmp_path) == Settings()


def test_precedence_flags_over_env_over_file_over_defaults(tmp_path: Path) -> None:
    (tmp_path / "ottermq.yaml").write_text("shards: 2\nlease: 10s\nkey_prefix: fromfile\nlog_level: debug\n")
    env = {"OTTERMQ_SHARDS": "4", "OTTERMQ_KEY_PREFIX": "fromenv"}
    s = load_settings({"shards": 8}, environ=env, cwd=tmp_path)
    assert s.shards == 8  # flag
    assert s.key_prefix == "fromenv"  # env beats file
    assert s.lease_ms == 10_000  # file beats default
    assert s.log_level == "debug"
    assert s.retention_ms == Settings().retention_ms  # default


def test_explicit_config_file_via_flag_and_env(tmp_path: Path) -> None:
    cfg = tmp_path / "custom.yaml"
    cfg.write_text("redis_url: redis://example:6380/0\n")
    assert load_settings(config_file=cfg, environ={}, cwd=tmp_path).redis_url == "redis://example:6380/0"
    assert load_settings(environ={"OTTERMQ_CONFIG": str(cfg)}, cwd=tmp_path).redis_url == "redis://example:6380/0"


def test_missing_explicit_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(config_file=tmp_path / "nope.yaml", environ={}, cwd=tmp_path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("shards: two\n", "ottermq.yaml:1:1: setting `shards`: invalid literal"),
        ("lease: 30x\n", "ottermq.yaml:1:1: setting `lease`: `30x` is not a duration"),
        ("shard: 2\n", "ottermq.yaml:1:1: unknown setting `shard`, did you mean `shards`?"),
        ("log_level: loud\n", "ottermq.yaml:1:1: setting `log_level`: expected one of debug, info, warning, error"),
        ("a: [1\n", "ottermq.yaml:2:1: invalid YAML"),
        ("- 1\n", "ottermq.yaml:1:1: the config file must be a mapping"),
        ("shards: 0\n", "must be at least 1"),
    ],
)
def test_bad_config_file_gets_a_located_error(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "ottermq.yaml").write_text("# settings\n" * 0 + text)
    with pytest.raises(ConfigError) as info:
        load_settings(environ={}, cwd=tmp_path)
    assert message in str(info.value).replace(str(tmp_path) + "/", "")


def test_located_error_points_at_the_offending_line(tmp_path: Path) -> None:
    (tmp_path / "ottermq.yaml").write_text("shards: 2\n\nretention: forever\n")
    with pytest.raises(ConfigError) as info:
        load_settings(environ={}, cwd=tmp_path)
    assert str(info.value).startswith(f"{tmp_path}/ottermq.yaml:3:1: setting `retention`")


def test_bad_environment_value_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="OTTERMQ_SHARDS"):
        load_settings(environ={"OTTERMQ_SHARDS": "many"}, cwd=tmp_path)


def test_settings_are_frozen() -> None:
    with pytest.raises(AttributeError):
        Settings().shards = 3  # type: ignore[misc]
