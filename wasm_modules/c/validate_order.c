/* validate_order: checks an order and prices it (see ../README.md). */
#include "runtime/ottermq_handler.h"

static int non_empty_string(const om_json *v) { return v && v->type == OM_STRING && v->len > 0; }

static int currency_code(const om_json *v) {
    if (!v || v->type != OM_STRING || v->len != 3) return 0;
    for (size_t i = 0; i < 3; i++)
        if (v->str[i] < 'A' || v->str[i] > 'Z') return 0;
    return 1;
}

static om_result line_error(size_t index, const char *what) {
    om_buf msg = {0};
    om_put(&msg, "line ");
    om_put_int(&msg, (int64_t)index + 1);
    om_put(&msg, ": ");
    om_put(&msg, what);
    return om_fail(1, &msg);
}

om_result om_handle(const char *input, size_t len) {
    const char *error;
    om_json *order = om_json_parse(input, len, &error);
    if (!order) {
        om_buf msg = {0};
        om_put(&msg, "invalid JSON: ");
        om_put(&msg, error);
        return om_fail(1, &msg);
    }
    if (order->type != OM_OBJECT) return om_fail_msg(1, "order must be a JSON object");
    om_json *order_id = om_json_get(order, "order_id");
    om_json *customer = om_json_get(order, "customer");
    om_json *currency = om_json_get(order, "currency");
    om_json *lines = om_json_get(order, "lines");
    if (!non_empty_string(order_id)) return om_fail_msg(1, "order_id must be a non-empty string");
    if (!non_empty_string(customer)) return om_fail_msg(1, "customer must be a non-empty string");
    if (!currency_code(currency)) return om_fail_msg(1, "currency must be a 3-letter upper-case code");
    if (!lines || lines->type != OM_ARRAY) return om_fail_msg(1, "lines must be an array");
    if (lines->len == 0) return om_fail_msg(1, "order has no lines");

    int64_t items = 0, subtotal_cents = 0;
    for (size_t i = 0; i < lines->len; i++) {
        om_json *line = lines->items[i];
        if (line->type != OM_OBJECT) return line_error(i, "must be an object");
        om_json *qty = om_json_get(line, "qty");
        om_json *price = om_json_get(line, "unit_price");
        if (!non_empty_string(om_json_get(line, "sku"))) return line_error(i, "sku must be a non-empty string");
        if (!om_json_is_integer(qty) || qty->number < 1 || qty->number > 10000)
            return line_error(i, "qty must be an integer between 1 and 10000");
        if (!price || price->type != OM_NUMBER || price->number < 0 || price->number > 1000000)
            return line_error(i, "unit_price must be a number between 0 and 1000000");
        items += (int64_t)qty->number;
        subtotal_cents += (int64_t)qty->number * om_to_cents(price->number);
    }

    om_buf out = {0};
    om_put(&out, "{\"order_id\":");
    om_put_json_str(&out, order_id->str, order_id->len);
    om_put(&out, ",\"customer\":");
    om_put_json_str(&out, customer->str, customer->len);
    om_put(&out, ",\"currency\":");
    om_put_json_str(&out, currency->str, currency->len);
    om_put(&out, ",\"valid\":true,\"line_count\":");
    om_put_int(&out, (int64_t)lines->len);
    om_put(&out, ",\"item_count\":");
    om_put_int(&out, items);
    om_put(&out, ",\"subtotal_cents\":");
    om_put_int(&out, subtotal_cents);
    om_put(&out, "}");
    return om_ok(&out);
}
