// charge_payment: a deterministic stand-in for a payment gateway, used to
// show retries and dead-lettering (see ../README.md). With the environment
// variable PAYMENT_GATEWAY_MODE granted and set to `sandbox`, transaction ids
// say so. Built for the `handler-with-env` world (../wit/handler.wit).
import { getEnvironment } from "wasi:cli/environment@0.2.12";
import { handlerExport, isInteger, isNonEmptyString, isObject, permanent, retryable } from "./ottermq_handler.js";

// Read at every call, not at module load: componentize-js snapshots the
// module's top level at build time, when no grant applies.
function sandboxMode() {
  return getEnvironment().some(([name, value]) => name === "PAYMENT_GATEWAY_MODE" && value === "sandbox");
}

function chargePayment(payment) {
  if (!isObject(payment)) throw permanent("payment must be a JSON object");
  const { order_id: orderId, amount_cents: amount, attempt } = payment;
  if (!isNonEmptyString(orderId)) throw permanent("order_id must be a non-empty string");
  if (!isInteger(amount) || amount < 1) throw permanent("amount_cents must be a positive integer");
  if (!isInteger(attempt) || attempt < 1) throw permanent("attempt must be a positive integer");
  const failUntil = "fail_until" in payment ? payment.fail_until : 0;
  if (!isInteger(failUntil) || failUntil < 0) throw permanent("fail_until must be a non-negative integer");
  const card = "card" in payment ? payment.card : "";
  if (typeof card !== "string") throw permanent("card must be a string");

  if (attempt < failUntil) {
    throw retryable(`payment gateway unavailable (attempt ${attempt}, succeeds from attempt ${failUntil})`);
  }
  if (card === "declined") throw permanent("card declined");
  return {
    order_id: orderId,
    status: "captured",
    amount_cents: amount,
    attempt,
    transaction_id: `${sandboxMode() ? "sbx" : "txn"}-${orderId}-${attempt}`,
  };
}

export const handle = handlerExport(chargePayment);
