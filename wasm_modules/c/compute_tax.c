/* compute_tax: adds tax from a fixed rate table (see ../README.md). */
#include "runtime/ottermq_handler.h"

#define MAX_SUBTOTAL_CENTS 1000000000000.0

typedef struct {
    const char *region;
    int64_t rate_bp; /* basis points: 2000 = 20% */
} rate;

static const rate RATES[] = {
    {"eu", 2000}, {"uk", 2000}, {"ch", 810}, {"us", 700}, {"ca", 500}, {"jp", 1000},
};

om_result om_handle(const char *input, size_t len) {
    const char *error;
    om_json *in = om_json_parse(input, len, &error);
    if (!in) {
        om_buf msg = {0};
        om_put(&msg, "invalid JSON: ");
        om_put(&msg, error);
        return om_fail(1, &msg);
    }
    if (in->type != OM_OBJECT) return om_fail_msg(1, "input must be a JSON object");
    om_json *subtotal = om_json_get(in, "subtotal_cents");
    om_json *region = om_json_get(in, "region");
    om_json *order_id = om_json_get(in, "order_id");
    if (!om_json_is_integer(subtotal) || subtotal->number < 0 || subtotal->number > MAX_SUBTOTAL_CENTS)
        return om_fail_msg(1, "subtotal_cents must be an integer between 0 and 1000000000000");
    if (!region || region->type != OM_STRING) return om_fail_msg(1, "region must be a string");
    if (order_id && order_id->type != OM_STRING) return om_fail_msg(1, "order_id must be a string");

    const rate *found = 0;
    for (size_t i = 0; i < sizeof RATES / sizeof RATES[0]; i++)
        if (om_str_eq(region, RATES[i].region)) found = &RATES[i];
    if (!found) {
        om_buf msg = {0};
        om_put(&msg, "unknown region: ");
        om_put_n(&msg, region->str, region->len);
        return om_fail(1, &msg);
    }

    int64_t cents = (int64_t)subtotal->number;
    int64_t tax = (cents * found->rate_bp + 5000) / 10000; /* half up */
    om_buf out = {0};
    om_put(&out, "{");
    if (order_id) {
        om_put(&out, "\"order_id\":");
        om_put_json_str(&out, order_id->str, order_id->len);
        om_put(&out, ",");
    }
    om_put(&out, "\"subtotal_cents\":");
    om_put_int(&out, cents);
    om_put(&out, ",\"region\":");
    om_put_json_str(&out, region->str, region->len);
    om_put(&out, ",\"rate_bp\":");
    om_put_int(&out, found->rate_bp);
    om_put(&out, ",\"tax_cents\":");
    om_put_int(&out, tax);
    om_put(&out, ",\"total_cents\":");
    om_put_int(&out, cents + tax);
    om_put(&out, "}");
    return om_ok(&out);
}
