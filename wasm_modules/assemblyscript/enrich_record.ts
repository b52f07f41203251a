// enrich_record: normalises one ETL record, or a batch of them (see ../README.md).
import { JsonValue, Kind, Outcome, call, cents, isNumber, isString, ok, parseInput, permanent, quote } from "./lib/handler";

export { cabi_realloc, cabi_post_handle } from "./lib/handler";

export function handle(ptr: usize, len: usize): usize {
  return call(ptr, len, run);
}

function isSpace(c: i32): bool {
  return c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d;
}

/** Trims, collapses runs of whitespace to one space and upper-cases ASCII letters. */
function normaliseName(name: string): string {
  const units = new Array<i32>();
  let pendingSpace = false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (isSpace(c)) {
      pendingSpace = units.length > 0;
      continue;
    }
    if (pendingSpace) units.push(0x20);
    pendingSpace = false;
    units.push(c >= 0x61 && c <= 0x7a ? c - 0x20 : c);
  }
  return String.fromCharCodes(units);
}

function category(amountCents: i64): string {
  if (amountCents < 0) return "refund";
  if (amountCents < 10000) return "small";
  if (amountCents < 100000) return "medium";
  return "large";
}

/** One record's output, or the permanent failure of its first failed check. */
function enrich(record: JsonValue): Outcome {
  if (record.kind != Kind.Object) return permanent("record must be a JSON object");
  const id = record.get("id");
  const rawName = record.get("name");
  const amount = record.get("amount");
  if (id == null || !isString(id) || id.str.length == 0) return permanent("id must be a non-empty string");
  if (rawName == null || !isString(rawName)) return permanent("name must be a string");
  const name = normaliseName(rawName.str);
  if (name.length == 0) return permanent("name is empty");
  if (amount == null || !isNumber(amount) || !(amount.num >= -1e9 && amount.num <= 1e9)) {
    return permanent("amount must be a number between -1000000000 and 1000000000");
  }
  const amountCents = cents(amount.num);
  return ok("{\"id\":" + quote(id.str) + ",\"name\":" + quote(name) + ",\"amount_cents\":" + amountCents.toString() +
    ",\"category\":" + quote(category(amountCents)) + "}");
}

/**
 * One record (an object) or a batch (an array of records, answered with an
 * array); one invalid record fails the whole batch, naming the record.
 */
function run(input: string): Outcome {
  const parsed = parseInput(input);
  const failure = parsed.failure;
  if (failure != null) return failure;
  const value = parsed.value;
  if (value.kind != Kind.Array) return enrich(value);
  const outputs = new Array<string>(value.items.length);
  for (let i = 0; i < value.items.length; i++) {
    const one = enrich(value.items[i]);
    if (!one.ok) return permanent("record " + (i + 1).toString() + ": " + one.text);
    outputs[i] = one.text;
  }
  return ok("[" + outputs.join(",") + "]");
}
