// enrich_record: normalises one ETL record (see ../README.md).
import { Kind, Outcome, call, cents, isNumber, isString, ok, parseInput, permanent, quote } from "./lib/handler";

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

function run(input: string): Outcome {
  const parsed = parseInput(input);
  const failure = parsed.failure;
  if (failure != null) return failure;
  const record = parsed.value;
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
