/*
 * load_records: reads the day's extract from a granted directory (see
 * ../README.md). A command only: it opens files through wasi-libc.
 */
#include <errno.h>

#include "runtime/ottermq_files.h"

static int valid_utf8(const unsigned char *s, size_t len) {
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t extra;
        uint32_t cp;
        if (c < 0x80) { i++; continue; }
        if (c >= 0xC2 && c <= 0xDF) { extra = 1; cp = c & 0x1F; }
        else if (c >= 0xE0 && c <= 0xEF) { extra = 2; cp = c & 0x0F; }
        else if (c >= 0xF0 && c <= 0xF4) { extra = 3; cp = c & 0x07; }
        else return 0;
        if (len - i <= extra) return 0;
        for (size_t k = 1; k <= extra; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        /* overlong forms, UTF-16 surrogates, beyond U+10FFFF */
        if ((extra == 2 && cp < 0x800) || (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF))) return 0;
        if (cp >= 0xD800 && cp <= 0xDFFF) return 0;
        i += extra + 1;
    }
    return 1;
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
    if (!om_json_is_date(date)) return om_fail_msg(1, "date must be a YYYY-MM-DD calendar date");
    om_buf name = {0};
    om_put(&name, "records-");
    om_put_n(&name, date->str, date->len);
    om_put(&name, ".json");
    om_buf path = {0};
    if (!om_file_path(om_json_get(in, "dir"), "/data", name.data, &path))
        return om_fail_msg(1, "dir must be an absolute path");

    om_buf content = {0};
    int failure = om_read_file(path.data, &content);
    if (failure == ENOENT) {
        /* Not there yet, or the directory is not granted: the guest cannot
         * tell the two apart, and a retry helps once either is fixed. */
        om_buf msg = {0};
        om_put(&msg, "no extract for ");
        om_put_n(&msg, date->str, date->len);
        om_put(&msg, " yet (");
        om_put_n(&msg, path.data, path.len);
        om_put(&msg, ")");
        return om_fail(0, &msg);
    }
    if (failure) return om_fail_errno(1, "cannot read ", path.data, failure);
    om_json *records = valid_utf8((const unsigned char *)content.data, content.len)
                           ? om_json_parse(content.data, content.len, &error)
                           : 0;
    if (!records || records->type != OM_ARRAY) {
        om_buf msg = {0};
        om_put(&msg, "extract ");
        om_put_n(&msg, path.data, path.len);
        om_put(&msg, " is not a JSON array");
        return om_fail(1, &msg);
    }

    /* The extract is answered as it was read: the text has just been checked
     * to be one JSON array, so no number is re-formatted on the way. */
    om_buf out = {0};
    om_put(&out, "{\"date\":");
    om_put_json_str(&out, date->str, date->len);
    om_put(&out, ",\"records\":");
    om_put_n(&out, content.data, content.len);
    om_put(&out, "}");
    return om_ok(&out);
}
