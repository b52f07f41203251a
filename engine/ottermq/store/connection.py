"""Build a Redis client from settings: one place for URL forms, timeouts and the embedded default.

Accepted URLs::

    redis://[user:password@]host:port[/db]          plain TCP (ACL user and password)
    rediss://…                                      TLS
    unix:///path/to/redis.sock[?db=N]               unix socket
    redis+cluster://host:port[,host:port…]          Redis Cluster (rediss+cluster:// with TLS);
    redis://host:port?cluster=true                  the same
    redis+sentinel://[user:password@]host:port[,host:port…]/service[/db]
                                                    Sentinel: the current master of `service`

No URL (``settings.redis_url is None``) means the embedded server: its URL comes from
``ottermq.embedded.ensure_running(settings)``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import redis
from redis.cluster import ClusterNode, RedisCluster
from redis.exceptions import RedisClusterException
from redis.sentinel import Sentinel

from ottermq.errors import ConfigError, StoreUnavailable
from ottermq.settings import Settings

__all__ = ["Client", "client_from_url", "connect", "is_cluster"]

Client = redis.Redis | RedisCluster

_COMMON: dict[str, Any] = {
    "decode_responses": True,
    "socket_connect_timeout": 5.0,
    "socket_timeout": 30.0,
    "health_check_interval": 15,
}


def connect(settings: Settings, **overrides: Any) -> Client:
    """A client for the configured Redis, starting the embedded server when none is configured."""
    url = settings.redis_url
    if url is None:
        from ottermq.embedded import ensure_running

        url = ensure_running(settings)
    return client_from_url(url, **overrides)


def is_cluster(client: Client) -> bool:
    return isinstance(client, RedisCluster)


def client_from_url(url: str, **overrides: Any) -> Client:
    options = {**_COMMON, **overrides}
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    query = parse_qs(parts.query)
    try:
        if scheme in ("redis+cluster", "rediss+cluster") or _truthy(query.get("cluster")):
            return _cluster(url, scheme, options)
        if scheme in ("redis+sentinel", "rediss+sentinel"):
            return _sentinel(parts, scheme, options)
        if scheme in ("redis", "rediss", "unix"):
            return redis.Redis.from_url(url, **options)
    except (redis.ConnectionError, redis.TimeoutError, RedisClusterException) as exc:
        raise StoreUnavailable(f"cannot connect to {_redact(url)}: {exc}") from None
    except ValueError as exc:
        raise ConfigError(f"invalid Redis URL {_redact(url)}: {exc}") from None
    raise ConfigError(
        f"unsupported Redis URL scheme `{parts.scheme}` in {_redact(url)} "
        "(use redis://, rediss://, unix://, redis+cluster:// or redis+sentinel://)"
    )


def _truthy(values: list[str] | None) -> bool:
    return values is not None and bool(values) and values[-1].lower() in ("1", "true", "yes")


def _hosts(netloc: str) -> tuple[str | None, str | None, list[tuple[str, int]]]:
    creds, _, hostpart = netloc.rpartition("@")
    user = password = None
    if creds:
        user_raw, sep, pass_raw = creds.partition(":")
        user = unquote(user_raw) or None
        password = unquote(pass_raw) if sep else None
    hosts = []
    for item in hostpart.split(","):
        host, _, port = item.rpartition(":")
        if not host:
            host, port = item, "6379"
        hosts.append((host.strip("[]"), int(port)))
    return user, password, hosts


def _cluster(url: str, scheme: str, options: dict[str, Any]) -> RedisCluster:
    parts = urlsplit(url)
    user, password, hosts = _hosts(parts.netloc)
    options = {k: v for k, v in options.items() if k != "health_check_interval"}
    return RedisCluster(
        startup_nodes=[ClusterNode(h, p) for h, p in hosts],  # type: ignore[no-untyped-call]
        username=user,
        password=password,
        ssl=scheme.startswith("rediss"),
        **options,
    )


def _sentinel(parts: Any, scheme: str, options: dict[str, Any]) -> redis.Redis:
    user, password, hosts = _hosts(parts.netloc)
    path = [p for p in parts.path.split("/") if p]
    if not path:
        raise ConfigError("a redis+sentinel:// URL needs the service name as its path: …/mymaster")
    service = path[0]
    db = int(path[1]) if len(path) > 1 else 0
    sentinel = Sentinel(  # type: ignore[no-untyped-call]
        hosts,
        sentinel_kwargs={"socket_connect_timeout": options["socket_connect_timeout"]},
        username=user,
        password=password,
        ssl=scheme.startswith("rediss"),
        **{k: v for k, v in options.items() if k != "health_check_interval"},
    )
    master: redis.Redis = sentinel.master_for(service, db=db, decode_responses=True)  # type: ignore[no-untyped-call]
    return master


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"***@{host}").geturl()
