//! enrich_record: normalises one ETL record, or a batch of them (see ../../README.md).

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

/// One record's output, or the message of its first failed check.
fn enrich(record: &Value) -> Result<Value, &'static str> {
    if !record.is_object() {
        return Err("record must be a JSON object");
    }
    let id = non_empty_str(record.get("id")).ok_or("id must be a non-empty string")?;
    let raw_name = record.get("name").and_then(Value::as_str).ok_or("name must be a string")?;
    let name = normalise_name(raw_name);
    if name.is_empty() {
        return Err("name is empty");
    }
    let amount = match record.get("amount").and_then(Value::as_f64) {
        Some(a) if (-1e9..=1e9).contains(&a) => a,
        _ => return Err("amount must be a number between -1000000000 and 1000000000"),
    };
    let amount_cents = cents(amount);
    Ok(json!({
        "id": id,
        "name": name,
        "amount_cents": amount_cents,
        "category": category(amount_cents),
    }))
}

/// One record (an object) or a batch (an array of records, answered with an
/// array); one invalid record fails the whole batch, naming the record.
fn handle(input: &str) -> Outcome {
    let value = match parse(input) {
        Ok(value) => value,
        Err(failure) => return failure,
    };
    let records = match value.as_array() {
        Some(records) => records,
        None => {
            return match enrich(&value) {
                Ok(enriched) => ok(enriched),
                Err(message) => permanent(message),
            }
        }
    };
    let mut out = Vec::with_capacity(records.len());
    for (index, record) in records.iter().enumerate() {
        match enrich(record) {
            Ok(enriched) => out.push(enriched),
            Err(message) => return permanent(format!("record {}: {}", index + 1, message)),
        }
    }
    ok(Value::Array(out))
}
