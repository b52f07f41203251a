"""OtterMQ: declarative, Redis-backed task pipelines with WebAssembly handlers."""

from __future__ import annotations

from ottermq.errors import OtterError, SpecError, UserError

__all__ = ["OtterError", "SpecError", "UserError", "__version__"]

__version__ = "0.1.0"
