"""OtterMQ handler support for Python: the component shape.

componentize-py builds a component from a module that defines
``class WitWorld`` with ``handle(self, input: str) -> str``. Returning a
string is ``ok``; raising ``Err`` is ``err``. ``handler_world`` turns a plain
function ``(input: str) -> dict`` into that class, so a handler only raises
:class:`Failure` (``permanent=True`` means: do not retry).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from componentize_py_types import Err

MAX_SAFE_INTEGER = 2**53


class Failure(Exception):
    """A handler failure; permanent ones are dead-lettered without retries."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent


def permanent(message: str) -> Failure:
    return Failure(message, permanent=True)


def retryable(message: str) -> Failure:
    return Failure(message, permanent=False)


def parse(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise permanent(f"invalid JSON: {exc}") from None


def is_number(value: Any) -> bool:
    # bool is an int subclass in Python, but true/false are not numbers in JSON.
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def integer(value: Any) -> int | None:
    """A JSON number with an integral value in [-2^53, 2^53], such as 3 or 3.0."""
    if not is_number(value) or not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER or value != math.floor(value):
        return None
    return int(value)


def non_empty_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def cents(amount: float) -> int:
    """Money: an amount in currency units to integer cents, half away from zero."""
    scaled = float(amount) * 100.0
    return int(math.copysign(math.floor(abs(scaled) + 0.5), scaled))


def handler_world(handle: Callable[[Any], Any]) -> type:
    """The ``WitWorld`` class componentize-py exports, around ``handle(parsed_input) -> output``."""

    class WitWorld:
        def handle(self, input: str) -> str:
            try:
                output = handle(parse(input))
            except Failure as failure:
                raise Err(json.dumps({"message": failure.message, "permanent": failure.permanent})) from None
            return json.dumps(output, ensure_ascii=False, separators=(",", ":"))

    return WitWorld
