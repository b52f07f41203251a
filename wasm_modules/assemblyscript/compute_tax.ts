// compute_tax: adds tax from a fixed rate table (see ../README.md).
import { Kind, Outcome, call, isInteger, isString, ok, parseInput, permanent, quote } from "./lib/handler";

export { cabi_realloc, cabi_post_handle } from "./lib/handler";

export function handle(ptr: usize, len: usize): usize {
  return call(ptr, len, run);
}

const MAX_SUBTOTAL_CENTS: f64 = 1000000000000;

/** Basis points (2000 = 20%), or -1 for an unknown region. */
function rateBp(region: string): i64 {
  if (region == "eu" || region == "uk") return 2000;
  if (region == "ch") return 810;
  if (region == "us") return 700;
  if (region == "ca") return 500;
  if (region == "jp") return 1000;
  return -1;
}

function run(input: string): Outcome {
  const parsed = parseInput(input);
  const failure = parsed.failure;
  if (failure != null) return failure;
  const data = parsed.value;
  if (data.kind != Kind.Object) return permanent("input must be a JSON object");
  const subtotal = data.get("subtotal_cents");
  const region = data.get("region");
  const orderId = data.get("order_id");
  if (subtotal == null || !isInteger(subtotal) || subtotal.num < 0 || subtotal.num > MAX_SUBTOTAL_CENTS) {
    return permanent("subtotal_cents must be an integer between 0 and 1000000000000");
  }
  if (region == null || !isString(region)) return permanent("region must be a string");
  if (orderId != null && !isString(orderId)) return permanent("order_id must be a string");
  const bp = rateBp(region.str);
  if (bp < 0) return permanent("unknown region: " + region.str);

  const cents = <i64>subtotal.num;
  const tax = (cents * bp + 5000) / 10000; // half up
  const prefix = orderId != null ? "\"order_id\":" + quote(orderId.str) + "," : "";
  return ok("{" + prefix + "\"subtotal_cents\":" + cents.toString() + ",\"region\":" + quote(region.str) +
    ",\"rate_bp\":" + bp.toString() + ",\"tax_cents\":" + tax.toString() + ",\"total_cents\":" + (cents + tax).toString() + "}");
}
