//! validate_order: checks an order and prices it (see ../../README.md).

use ottermq_handler::{cents, integer, non_empty_str, ok, parse, permanent, Outcome};
use serde_json::{json, Value};

ottermq_handler::export_handler!(handle);

fn is_currency_code(value: Option<&Value>) -> bool {
    match value.and_then(Value::as_str) {
        Some(code) => code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()),
        None => false,
    }
}

/// (qty, price in cents) of one order line.
fn check_line(line: &Value) -> Result<(i64, i64), &'static str> {
    if !line.is_object() {
        return Err("must be an object");
    }
    if non_empty_str(line.get("sku")).is_none() {
        return Err("sku must be a non-empty string");
    }
    let qty = match integer(line.get("qty")) {
        Some(q) if (1..=10_000).contains(&q) => q,
        _ => return Err("qty must be an integer between 1 and 10000"),
    };
    match line.get("unit_price").and_then(Value::as_f64) {
        Some(p) if (0.0..=1_000_000.0).contains(&p) => Ok((qty, cents(p))),
        _ => Err("unit_price must be a number between 0 and 1000000"),
    }
}

fn handle(input: &str) -> Outcome {
    let order = match parse(input) {
        Ok(value) => value,
        Err(failure) => return failure,
    };
    if !order.is_object() {
        return permanent("order must be a JSON object");
    }
    let order_id = match non_empty_str(order.get("order_id")) {
        Some(value) => value,
        None => return permanent("order_id must be a non-empty string"),
    };
    let customer = match non_empty_str(order.get("customer")) {
        Some(value) => value,
        None => return permanent("customer must be a non-empty string"),
    };
    if !is_currency_code(order.get("currency")) {
        return permanent("currency must be a 3-letter upper-case code");
    }
    let lines = match order.get("lines").and_then(Value::as_array) {
        Some(value) => value,
        None => return permanent("lines must be an array"),
    };
    if lines.is_empty() {
        return permanent("order has no lines");
    }
    let (mut items, mut subtotal_cents) = (0i64, 0i64);
    for (index, line) in lines.iter().enumerate() {
        match check_line(line) {
            Ok((qty, price_cents)) => {
                items += qty;
                subtotal_cents += qty * price_cents;
            }
            Err(problem) => return permanent(format!("line {}: {problem}", index + 1)),
        }
    }
    ok(json!({
        "order_id": order_id,
        "customer": customer,
        "currency": order["currency"],
        "valid": true,
        "line_count": lines.len(),
        "item_count": items,
        "subtotal_cents": subtotal_cents,
    }))
}
