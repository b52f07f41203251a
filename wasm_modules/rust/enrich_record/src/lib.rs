//! enrich_record: normalises one ETL record (see ../../README.md).

use ottermq_handler::{cents, non_empty_str, ok, parse, permanent, Outcome};
use serde_json::{json, Value};

ottermq_handler::export_handler!(handle);

/// Trims, collapses runs of whitespace to one space and upper-cases ASCII letters.
fn normalise_name(name: &str) -> String {
    name.split(|c| matches!(c, ' ' | '\t' | '\n' | '\r'))
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_uppercase()
}

fn category(amount_cents: i64) -> &'static str {
    match amount_cents {
        c if c < 0 => "refund",
        c if c < 10_000 => "small",
        c if c < 100_000 => "medium",
        _ => "large",
    }
}

fn handle(input: &str) -> Outcome {
    let record = match parse(input) {
        Ok(value) => value,
        Err(failure) => return failure,
    };
    if !record.is_object() {
        return permanent("record must be a JSON object");
    }
    let id = match non_empty_str(record.get("id")) {
        Some(value) => value,
        None => return permanent("id must be a non-empty string"),
    };
    let raw_name = match record.get("name").and_then(Value::as_str) {
        Some(value) => value,
        None => return permanent("name must be a string"),
    };
    let name = normalise_name(raw_name);
    if name.is_empty() {
        return permanent("name is empty");
    }
    let amount = match record.get("amount").and_then(Value::as_f64) {
        Some(a) if (-1e9..=1e9).contains(&a) => a,
        _ => return permanent("amount must be a number between -1000000000 and 1000000000"),
    };
    let amount_cents = cents(amount);
    ok(json!({
        "id": id,
        "name": name,
        "amount_cents": amount_cents,
        "category": category(amount_cents),
    }))
}
