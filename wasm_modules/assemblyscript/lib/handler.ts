// OtterMQ handler support for AssemblyScript: the core-module shape.
//
// A handler file writes `function run(input: string): Outcome` and exports
//
//   export { cabi_realloc, cabi_post_handle } from "./lib/handler";
//   export function handle(ptr: usize, len: usize): usize { return call(ptr, len, run); }
//
// which is the canonical-ABI lowering of
// `handle: func(input: string) -> result<string, string>`.

import { JsonValue, Kind, parse, quote } from "./json";

export { JsonValue, Kind, quote };

export class Outcome {
  constructor(public ok: bool, public text: string, public permanent: bool = false) {}
}

export function ok(json: string): Outcome {
  return new Outcome(true, json);
}

/** A failure that retrying cannot fix: the task is dead-lettered. */
export function permanent(message: string): Outcome {
  return new Outcome(false, message, true);
}

/** A failure worth retrying (with the pipeline's backoff). */
export function retryable(message: string): Outcome {
  return new Outcome(false, message, false);
}

/** Parses the input; on failure `failure` is the permanent "invalid JSON" outcome. */
export class Parsed {
  value: JsonValue = new JsonValue();
  failure: Outcome | null = null;
}

export function parseInput(input: string): Parsed {
  const r = parse(input);
  const p = new Parsed();
  const v = r.value;
  if (v == null) p.failure = permanent("invalid JSON: " + r.error);
  else p.value = v;
  return p;
}

export function isString(v: JsonValue | null): bool {
  return v != null && v.kind == Kind.String;
}

export function isNumber(v: JsonValue | null): bool {
  return v != null && v.kind == Kind.Number;
}

/** A JSON number with an integral value in [-2^53, 2^53], such as 3 or 3.0. */
export function isInteger(v: JsonValue | null): bool {
  if (v == null || v.kind != Kind.Number) return false;
  const x = v.num;
  return x >= -9007199254740992.0 && x <= 9007199254740992.0 && Math.floor(x) == x;
}

/** Money: an amount in currency units to integer cents, half away from zero. */
export function cents(amount: f64): i64 {
  const scaled = amount * 100.0;
  const rounded = <i64>Math.floor(Math.abs(scaled) + 0.5);
  return scaled < 0 ? -rounded : rounded;
}

/** Integer cents as a decimal amount: 123456 -> "1234.56". */
export function formatCents(c: i64): string {
  const magnitude = c < 0 ? -c : c;
  const fraction = magnitude % 100;
  return (c < 0 ? "-" : "") + (magnitude / 100).toString() + "." + (fraction < 10 ? "0" : "") + fraction.toString();
}

// ---- the canonical ABI -------------------------------------------------

// tag (u8) at +0, string pointer (u32) at +4, string length (u32) at +8
const RET_AREA = memory.data(12, 4);

export function cabi_realloc(oldPtr: usize, oldLen: usize, align: usize, newLen: usize): usize {
  // heap.alloc aligns to 16 bytes, enough for any canonical-ABI type.
  if (newLen == 0) return align;
  return oldLen == 0 ? heap.alloc(newLen) : heap.realloc(oldPtr, newLen);
}

export function cabi_post_handle(ret: usize): void {
  if (load<u32>(ret, 8) != 0) heap.free(<usize>load<u32>(ret, 4));
}

function errorJson(o: Outcome): string {
  return "{\"message\":" + quote(o.text) + ",\"permanent\":" + (o.permanent ? "true" : "false") + "}";
}

export function call(ptr: usize, len: usize, run: (input: string) => Outcome): usize {
  const input = String.UTF8.decodeUnsafe(ptr, len);
  if (len != 0) heap.free(ptr);
  const outcome = run(input);
  const text = outcome.ok ? outcome.text : errorJson(outcome);
  const size = <usize>String.UTF8.byteLength(text);
  const buf: usize = size == 0 ? 0 : heap.alloc(size);
  if (size != 0) String.UTF8.encodeUnsafe(changetype<usize>(text), text.length, buf);
  store<u8>(RET_AREA, outcome.ok ? 0 : 1);
  store<u32>(RET_AREA, <u32>buf, 4);
  store<u32>(RET_AREA, <u32>size, 8);
  return RET_AREA;
}

// Replaces the `env.abort` import: a failed assertion traps instead.
export function abort(message: string | null, file: string | null, line: u32, column: u32): void {
  unreachable();
}
