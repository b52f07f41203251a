"""Spelling suggestions for unknown names: "did you mean `retries`?"."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["closest", "did_you_mean"]


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate most like ``word``, if any is close enough to be a likely typo."""
    pool = [c for c in candidates if c != word]
    matches = difflib.get_close_matches(word, pool, n=1, cutoff=0.6)
    if matches:
        return matches[0]
    lowered = {c.lower(): c for c in pool}
    return lowered.get(word.lower())


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """``", did you mean `x`?"`` or the empty string."""
    match = closest(word, candidates)
    return f", did you mean `{match}`?" if match else ""
