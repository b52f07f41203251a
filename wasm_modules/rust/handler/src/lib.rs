//! OtterMQ handler support for Rust: the core-module shape.
//!
//! A handler crate (a `cdylib`) writes `fn handle(input: &str) -> Outcome`
//! and invokes `ottermq_handler::export_handler!(handle)`, which exports
//! `memory`, `cabi_realloc`, `handle` and `cabi_post_handle`: the canonical-ABI
//! lowering of `handle: func(input: string) -> result<string, string>`.

use serde_json::Value;

pub mod abi;

/// What a handler returns: JSON output text, or a failure.
pub enum Outcome {
    Ok(String),
    Err { message: String, permanent: bool },
}

/// A failure that retrying cannot fix: the task is dead-lettered.
pub fn permanent(message: impl Into<String>) -> Outcome {
    Outcome::Err { message: message.into(), permanent: true }
}

/// A failure worth retrying (with the pipeline's backoff).
pub fn retryable(message: impl Into<String>) -> Outcome {
    Outcome::Err { message: message.into(), permanent: false }
}

pub fn ok(output: Value) -> Outcome {
    Outcome::Ok(output.to_string())
}

/// Parses the input, or returns the permanent "invalid JSON" failure.
pub fn parse(input: &str) -> Result<Value, Outcome> {
    serde_json::from_str(input).map_err(|e| permanent(format!("invalid JSON: {e}")))
}

/// A non-empty string.
pub fn non_empty_str(value: Option<&Value>) -> Option<&str> {
    value.and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// A JSON number with an integral value in [-2^53, 2^53], such as 3 or 3.0.
pub fn integer(value: Option<&Value>) -> Option<i64> {
    const LIMIT: f64 = 9_007_199_254_740_992.0;
    let x = value?.as_f64()?;
    if (-LIMIT..=LIMIT).contains(&x) && x.floor() == x {
        Some(x as i64)
    } else {
        None
    }
}

/// Money: an amount in currency units to integer cents, half away from zero.
pub fn cents(amount: f64) -> i64 {
    let scaled = amount * 100.0;
    let rounded = (scaled.abs() + 0.5).floor() as i64;
    if scaled < 0.0 {
        -rounded
    } else {
        rounded
    }
}
