/*
 * write_report: writes the nightly report into a granted read-write
 * directory (see ../README.md). A command only: it writes through wasi-libc.
 */
#include "runtime/ottermq_files.h"

static int has_line_break(const om_json *line) {
    for (size_t i = 0; i < line->len; i++)
        if (line->str[i] == '\n' || line->str[i] == '\r') return 1;
    return 0;
}

static om_result line_failure(size_t n, const char *what) {
    om_buf msg = {0};
    om_put(&msg, "line ");
    om_put_int(&msg, (int64_t)n);
    om_put(&msg, what);
    return om_fail(1, &msg);
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
    om_json *lines = om_json_get(in, "lines");
    if (!om_json_is_date(date)) return om_fail_msg(1, "date must be a YYYY-MM-DD calendar date");
    if (!lines || lines->type != OM_ARRAY) return om_fail_msg(1, "lines must be an array");
    om_buf text = {0};
    om_put(&text, "");
    for (size_t i = 0; i < lines->len; i++) {
        om_json *line = lines->items[i];
        if (line->type != OM_STRING) return line_failure(i + 1, ": must be a string");
        if (has_line_break(line)) return line_failure(i + 1, ": must not contain a line break");
        om_put_n(&text, line->str, line->len);
        om_put(&text, "\n");
    }
    om_buf name = {0};
    om_put(&name, "report-");
    om_put_n(&name, date->str, date->len);
    om_put(&name, ".txt");
    om_buf path = {0};
    if (!om_file_path(om_json_get(in, "dir"), "/reports", name.data, &path))
        return om_fail_msg(1, "dir must be an absolute path");

    /* Not granted, granted read-only, or a full disk: an operator can fix
     * each of them, so the task is retried rather than dead-lettered. */
    int failure = om_write_file(path.data, text.data, text.len);
    if (failure) return om_fail_errno(0, "cannot write ", path.data, failure);

    om_buf out = {0};
    om_put(&out, "{\"path\":");
    om_put_json_str(&out, path.data, path.len);
    om_put(&out, ",\"bytes\":");
    om_put_int(&out, (int64_t)text.len);
    om_put(&out, "}");
    return om_ok(&out);
}
