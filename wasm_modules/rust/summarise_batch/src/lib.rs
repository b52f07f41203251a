//! summarise_batch: totals a batch of enriched records (see ../../README.md).

use std::collections::BTreeMap;

use ottermq_handler::{integer, non_empty_str, ok, parse, permanent, Outcome};
use serde_json::{json, Value};

ottermq_handler::export_handler!(handle);

const MAX_CENTS: i64 = 1_000_000_000_000;

#[derive(Default)]
struct Totals {
    count: i64,
    total_cents: i64,
}

impl Totals {
    fn add(&mut self, cents: i64) {
        self.count += 1;
        self.total_cents += cents;
    }
}

fn check_record(record: &Value) -> Result<(i64, &str), &'static str> {
    if !record.is_object() {
        return Err("must be an object");
    }
    let cents = match integer(record.get("amount_cents")) {
        Some(c) if (-MAX_CENTS..=MAX_CENTS).contains(&c) => c,
        _ => return Err("amount_cents must be an integer between -1000000000000 and 1000000000000"),
    };
    match non_empty_str(record.get("category")) {
        Some(category) => Ok((cents, category)),
        None => Err("category must be a non-empty string"),
    }
}

fn handle(input: &str) -> Outcome {
    let batch = match parse(input) {
        Ok(value) => value,
        Err(failure) => return failure,
    };
    let records = match batch.as_array() {
        Some(value) => value,
        None => return permanent("batch must be a JSON array of records"),
    };
    let mut totals = Totals::default();
    let mut by_category: BTreeMap<&str, Totals> = BTreeMap::new();
    for (index, record) in records.iter().enumerate() {
        match check_record(record) {
            Ok((cents, category)) => {
                totals.add(cents);
                by_category.entry(category).or_default().add(cents);
            }
            Err(problem) => return permanent(format!("record {}: {problem}", index + 1)),
        }
    }
    let by_category: serde_json::Map<String, Value> = by_category
        .into_iter()
        .map(|(name, t)| (name.to_string(), json!({"count": t.count, "total_cents": t.total_cents})))
        .collect();
    ok(json!({
        "count": totals.count,
        "total_cents": totals.total_cents,
        "by_category": by_category,
    }))
}
