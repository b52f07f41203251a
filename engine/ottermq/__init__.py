"""OtterMQ: declarative, Redis-backed task pipelines with WebAssembly handlers.

The public API is small: :class:`Client` (apply pipelines, start and wait for runs,
subscribe to events) and the error hierarchy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ottermq.errors import NotFound, OtterError, ParamsError, SpecError, StoreUnavailable, UserError

if TYPE_CHECKING:
    from ottermq.client import Client

__all__ = ["Client", "NotFound", "OtterError", "ParamsError", "SpecError", "StoreUnavailable", "UserError", "__version__"]

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # The client pulls in redis and the plan machinery; import it only when asked for.
    if name == "Client":
        from ottermq.client import Client

        return Client
    raise AttributeError(f"module 'ottermq' has no attribute {name!r}")
