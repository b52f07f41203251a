"""validate_order: checks an order and prices it (see ../README.md)."""

from __future__ import annotations

from typing import Any

from ottermq_handler import cents, handler_world, integer, is_number, non_empty_str, permanent


def check_line(line: Any) -> tuple[int, int]:
    """(qty, price in cents) of one order line; raises ValueError with the problem."""
    if not isinstance(line, dict):
        raise ValueError("must be an object")
    if non_empty_str(line.get("sku")) is None:
        raise ValueError("sku must be a non-empty string")
    qty = integer(line.get("qty"))
    if qty is None or not 1 <= qty <= 10_000:
        raise ValueError("qty must be an integer between 1 and 10000")
    price = line.get("unit_price")
    if not is_number(price) or not 0 <= price <= 1_000_000:
        raise ValueError("unit_price must be a number between 0 and 1000000")
    return qty, cents(price)


def validate_order(order: Any) -> dict[str, Any]:
    if not isinstance(order, dict):
        raise permanent("order must be a JSON object")
    order_id = non_empty_str(order.get("order_id"))
    if order_id is None:
        raise permanent("order_id must be a non-empty string")
    customer = non_empty_str(order.get("customer"))
    if customer is None:
        raise permanent("customer must be a non-empty string")
    currency = order.get("currency")
    if not (isinstance(currency, str) and len(currency) == 3 and all("A" <= c <= "Z" for c in currency)):
        raise permanent("currency must be a 3-letter upper-case code")
    lines = order.get("lines")
    if not isinstance(lines, list):
        raise permanent("lines must be an array")
    if not lines:
        raise permanent("order has no lines")
    items = subtotal_cents = 0
    for index, line in enumerate(lines, start=1):
        try:
            qty, price_cents = check_line(line)
        except ValueError as problem:
            raise permanent(f"line {index}: {problem}") from None
        items += qty
        subtotal_cents += qty * price_cents
    return {
        "order_id": order_id,
        "customer": customer,
        "currency": currency,
        "valid": True,
        "line_count": len(lines),
        "item_count": items,
        "subtotal_cents": subtotal_cents,
    }


WitWorld = handler_world(validate_order)
