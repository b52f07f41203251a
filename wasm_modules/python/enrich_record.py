"""enrich_record: normalises one ETL record, or a batch of them (see ../README.md)."""

from __future__ import annotations

import re
from typing import Any

from ottermq_handler import Failure, cents, handler_world, is_number, non_empty_str, permanent

WHITESPACE = re.compile(r"[ \t\n\r]+")
ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def normalise_name(name: str) -> str:
    """Trims, collapses runs of whitespace to one space and upper-cases ASCII letters only."""
    return WHITESPACE.sub(" ", name).strip(" ").translate(ASCII_UPPER)


def category(amount_cents: int) -> str:
    if amount_cents < 0:
        return "refund"
    if amount_cents < 10_000:
        return "small"
    if amount_cents < 100_000:
        return "medium"
    return "large"


def enrich(record: Any) -> dict[str, Any]:
    if not isinstance(record, dict):
        raise permanent("record must be a JSON object")
    record_id = non_empty_str(record.get("id"))
    if record_id is None:
        raise permanent("id must be a non-empty string")
    raw_name = record.get("name")
    if not isinstance(raw_name, str):
        raise permanent("name must be a string")
    name = normalise_name(raw_name)
    if not name:
        raise permanent("name is empty")
    amount = record.get("amount")
    if not is_number(amount) or not -1e9 <= amount <= 1e9:
        raise permanent("amount must be a number between -1000000000 and 1000000000")
    amount_cents = cents(amount)
    return {"id": record_id, "name": name, "amount_cents": amount_cents, "category": category(amount_cents)}


def enrich_record(value: Any) -> Any:
    """One record (an object) or a batch (an array of records, answered with an
    array); one invalid record fails the whole batch, naming the record."""
    if not isinstance(value, list):
        return enrich(value)
    outputs: list[dict[str, Any]] = []
    for n, record in enumerate(value, start=1):
        try:
            outputs.append(enrich(record))
        except Failure as failure:
            raise permanent(f"record {n}: {failure.message}") from None
    return outputs


WitWorld = handler_world(enrich_record)
