"""Fixtures shared by the whole suite.

Redis servers and clusters come from the ``redis_fixtures`` plugin (see its
docstring for every fixture and what it yields); time from ``fake_clock``.
"""

from __future__ import annotations

import pytest

from ottermq.clock import FakeClock

pytest_plugins = ("redis_fixtures",)


@pytest.fixture
def fake_clock() -> FakeClock:
    """A clock that moves only when the test calls ``.advance(ms)`` or ``.set(ms)``."""
    return FakeClock()
