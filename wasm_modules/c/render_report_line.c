/* render_report_line: one line of the nightly report (see ../README.md). */
#include "runtime/ottermq_handler.h"

static int digits(const char *s, int n, int *out) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

static int calendar_date(const om_json *v) {
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int year, month, day;
    if (!v || v->type != OM_STRING || v->len != 10 || v->str[4] != '-' || v->str[7] != '-') return 0;
    if (!digits(v->str, 4, &year) || !digits(v->str + 5, 2, &month) || !digits(v->str + 8, 2, &day)) return 0;
    if (month < 1 || month > 12 || day < 1) return 0;
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return day <= days[month - 1] + (month == 2 && leap);
}

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
    if (!calendar_date(date)) return om_fail_msg(1, "date must be a YYYY-MM-DD calendar date");
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
