/*
 * charge_payment: a deterministic stand-in for a payment gateway, used to
 * show retries and dead-lettering (see ../README.md). With the environment
 * variable PAYMENT_GATEWAY_MODE granted and set to `sandbox`, transaction ids
 * say so.
 */
#include "runtime/ottermq_handler.h"

static int positive_integer(const om_json *v) { return om_json_is_integer(v) && v->number >= 1; }

static int sandbox_mode(void) {
    const char *mode = om_env("PAYMENT_GATEWAY_MODE");
    const char *want = "sandbox";
    if (!mode) return 0;
    while (*mode && *mode == *want) mode++, want++;
    return *mode == 0 && *want == 0;
}

om_result om_handle(const char *input, size_t len) {
    const char *error;
    om_json *payment = om_json_parse(input, len, &error);
    if (!payment) {
        om_buf msg = {0};
        om_put(&msg, "invalid JSON: ");
        om_put(&msg, error);
        return om_fail(1, &msg);
    }
    if (payment->type != OM_OBJECT) return om_fail_msg(1, "payment must be a JSON object");
    om_json *order_id = om_json_get(payment, "order_id");
    om_json *amount = om_json_get(payment, "amount_cents");
    om_json *attempt = om_json_get(payment, "attempt");
    om_json *fail_until = om_json_get(payment, "fail_until");
    om_json *card = om_json_get(payment, "card");
    if (!order_id || order_id->type != OM_STRING || order_id->len == 0)
        return om_fail_msg(1, "order_id must be a non-empty string");
    if (!positive_integer(amount)) return om_fail_msg(1, "amount_cents must be a positive integer");
    if (!positive_integer(attempt)) return om_fail_msg(1, "attempt must be a positive integer");
    if (fail_until && (!om_json_is_integer(fail_until) || fail_until->number < 0))
        return om_fail_msg(1, "fail_until must be a non-negative integer");
    if (card && card->type != OM_STRING) return om_fail_msg(1, "card must be a string");

    if (fail_until && attempt->number < fail_until->number) {
        om_buf msg = {0};
        om_put(&msg, "payment gateway unavailable (attempt ");
        om_put_int(&msg, (int64_t)attempt->number);
        om_put(&msg, ", succeeds from attempt ");
        om_put_int(&msg, (int64_t)fail_until->number);
        om_put(&msg, ")");
        return om_fail(0, &msg);
    }
    if (om_str_eq(card, "declined")) return om_fail_msg(1, "card declined");

    om_buf out = {0};
    om_buf txn = {0};
    om_put(&txn, sandbox_mode() ? "sbx-" : "txn-");
    om_put_n(&txn, order_id->str, order_id->len);
    om_put(&txn, "-");
    om_put_int(&txn, (int64_t)attempt->number);
    om_put(&out, "{\"order_id\":");
    om_put_json_str(&out, order_id->str, order_id->len);
    om_put(&out, ",\"status\":\"captured\",\"amount_cents\":");
    om_put_int(&out, (int64_t)amount->number);
    om_put(&out, ",\"attempt\":");
    om_put_int(&out, (int64_t)attempt->number);
    om_put(&out, ",\"transaction_id\":");
    om_put_json_str(&out, txn.data, txn.len);
    om_put(&out, "}");
    return om_ok(&out);
}
