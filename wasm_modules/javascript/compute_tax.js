// compute_tax: adds tax from a fixed rate table (see ../README.md).
import { handlerExport, isInteger, isObject, permanent } from "./ottermq_handler.js";

// Basis points: 2000 = 20%.
const RATES_BP = new Map([["eu", 2000], ["uk", 2000], ["ch", 810], ["us", 700], ["ca", 500], ["jp", 1000]]);
const MAX_SUBTOTAL_CENTS = 1_000_000_000_000;

function computeTax(input) {
  if (!isObject(input)) throw permanent("input must be a JSON object");
  const { subtotal_cents: subtotal, region, order_id: orderId } = input;
  if (!isInteger(subtotal) || subtotal < 0 || subtotal > MAX_SUBTOTAL_CENTS) {
    throw permanent("subtotal_cents must be an integer between 0 and 1000000000000");
  }
  if (typeof region !== "string") throw permanent("region must be a string");
  if (orderId !== undefined && typeof orderId !== "string") throw permanent("order_id must be a string");
  const rateBp = RATES_BP.get(region);
  if (rateBp === undefined) throw permanent(`unknown region: ${region}`);

  // Exact in doubles: subtotal * rate stays below 2^53.
  const tax = Math.floor((subtotal * rateBp + 5000) / 10000); // half up
  return {
    ...(orderId !== undefined ? { order_id: orderId } : {}),
    subtotal_cents: subtotal,
    region,
    rate_bp: rateBp,
    tax_cents: tax,
    total_cents: subtotal + tax,
  };
}

export const handle = handlerExport(computeTax);
