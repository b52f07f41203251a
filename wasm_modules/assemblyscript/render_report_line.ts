// render_report_line: one line of the nightly report (see ../README.md).
import { Kind, Outcome, call, formatCents, isInteger, isString, ok, parseInput, permanent, quote } from "./lib/handler";

export { cabi_realloc, cabi_post_handle } from "./lib/handler";

export function handle(ptr: usize, len: usize): usize {
  return call(ptr, len, run);
}

const DAYS: StaticArray<i32> = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function digits(text: string, start: i32, count: i32): i32 {
  let v = 0;
  for (let i = start; i < start + count; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    v = v * 10 + (c - 0x30);
  }
  return v;
}

function isCalendarDate(text: string): bool {
  if (text.length != 10 || text.charCodeAt(4) != 0x2d || text.charCodeAt(7) != 0x2d) return false;
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return day <= DAYS[month - 1] + (month == 2 && leap ? 1 : 0);
}

function run(input: string): Outcome {
  const parsed = parseInput(input);
  const failure = parsed.failure;
  if (failure != null) return failure;
  const data = parsed.value;
  if (data.kind != Kind.Object) return permanent("input must be a JSON object");
  const date = data.get("date");
  const count = data.get("count");
  const total = data.get("total_cents");
  if (date == null || !isString(date) || !isCalendarDate(date.str)) return permanent("date must be a YYYY-MM-DD calendar date");
  if (count == null || !isInteger(count) || count.num < 0) return permanent("count must be a non-negative integer");
  if (total == null || !isInteger(total)) return permanent("total_cents must be an integer");

  const n = <i64>count.num;
  const line = date.str + ": " + n.toString() + (n == 1 ? " record, " : " records, ") + formatCents(<i64>total.num) + " total";
  return ok("{\"line\":" + quote(line) + "}");
}
