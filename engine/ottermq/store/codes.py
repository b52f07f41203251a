"""Status codes returned by the Lua scripts, mirrored here (see each script's header)."""

from __future__ import annotations

from enum import IntEnum

__all__ = ["Code"]


class Code(IntEnum):
    OK = 0
    # ack: duplicate; create: existed; fail: dead-lettered; cancel: already finished
    ALREADY = 1
    LEASE_LOST = -1
    CANCELLED = -2
    NOT_FOUND = -3
    WRONG_STATE = -4
    QUEUE_FULL = -5
    BLUEPRINT_MISSING = -10
