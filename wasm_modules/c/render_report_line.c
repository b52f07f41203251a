/* render_report_line: one line of the nightly report (see ../README.md). */
#include "runtime/ottermq_handler.h"

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
    om_json *date = om_json_get(in, "date");
    om_json *count = om_json_get(in, "count");
    om_json *total = om_json_get(in, "total_cents");
    if (!om_json_is_date(date)) return om_fail_msg(1, "date must be a YYYY-MM-DD calendar date");
    if (!om_json_is_integer(count) || count->number < 0) return om_fail_msg(1, "count must be a non-negative integer");
    if (!om_json_is_integer(total)) return om_fail_msg(1, "total_cents must be an integer");

    om_buf line = {0};
    om_put_n(&line, date->str, date->len);
    om_put(&line, ": ");
    om_put_int(&line, (int64_t)count->number);
    om_put(&line, count->number == 1 ? " record, " : " records, ");
    om_put_cents(&line, (int64_t)total->number);
    om_put(&line, " total");

    om_buf out = {0};
    om_put(&out, "{\"line\":");
    om_put_json_str(&out, line.data, line.len);
    om_put(&out, "}");
    return om_ok(&out);
}
