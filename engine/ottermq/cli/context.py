"""What every subcommand receives besides its own arguments."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TextIO

from ottermq.settings import Settings


@dataclass(frozen=True, slots=True)
class Context:
    settings: Settings
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)
