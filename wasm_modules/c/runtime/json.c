/*
 * A strict JSON (RFC 8259) reader and a text builder with no libc
 * dependency: the core-module build of a handler has no libc at all.
 */
#include "ottermq_handler.h"

#define MAX_DEPTH 64

static void copy_bytes(char *dst, const char *src, size_t len) {
    for (size_t i = 0; i < len; i++) dst[i] = src[i];
}

static size_t text_len(const char *text) {
    size_t n = 0;
    while (text[n]) n++;
    return n;
}

/* ---- reader ----------------------------------------------------------- */

typedef struct {
    const char *p;
    const char *end;
    const char *error;
    int depth;
} parser;

static om_json *new_value(om_type type) {
    om_json *v = om_alloc(sizeof *v);
    if (!v) return 0;
    v->type = type;
    v->boolean = 0;
    v->number = 0;
    v->str = 0;
    v->len = 0;
    v->items = 0;
    v->keys = 0;
    return v;
}

static om_json *fail(parser *ps, const char *message) {
    if (!ps->error) ps->error = message;
    return 0;
}

static void skip_ws(parser *ps) {
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')) ps->p++;
}

static int literal(parser *ps, const char *word) {
    size_t n = text_len(word);
    if ((size_t)(ps->end - ps->p) < n) return 0;
    for (size_t i = 0; i < n; i++)
        if (ps->p[i] != word[i]) return 0;
    ps->p += n;
    return 1;
}

static int hex4(parser *ps, uint32_t *out) {
    uint32_t v = 0;
    if (ps->end - ps->p < 4) return 0;
    for (int i = 0; i < 4; i++) {
        char c = *ps->p++;
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (uint32_t)(c - 'A' + 10);
        else return 0;
    }
    *out = v;
    return 1;
}

static size_t put_utf8(char *out, uint32_t cp) {
    if (cp < 0x80) { out[0] = (char)cp; return 1; }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static int unicode_escape(parser *ps, char *out, size_t *n) {
    uint32_t cp;
    if (!hex4(ps, &cp)) return 0;
    if (cp >= 0xDC00 && cp <= 0xDFFF) return 0;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        uint32_t low;
        if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u') return 0;
        ps->p += 2;
        if (!hex4(ps, &low) || low < 0xDC00 || low > 0xDFFF) return 0;
        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    *n += put_utf8(out + *n, cp);
    return 1;
}

static om_json *parse_string(parser *ps) {
    /* Decoded text is never longer than its escaped form. */
    const char *start = ++ps->p;
    const char *scan = start;
    while (scan < ps->end && *scan != '"') scan += (*scan == '\\') ? 2 : 1;
    if (scan >= ps->end) return fail(ps, "unterminated string");
    char *out = om_alloc((size_t)(scan - start) + 1);
    om_json *v = new_value(OM_STRING);
    if (!out || !v) return fail(ps, "out of memory");
    size_t n = 0;
    while (*ps->p != '"') {
        unsigned char c = (unsigned char)*ps->p++;
        if (c < 0x20) return fail(ps, "control character in string");
        if (c != '\\') { out[n++] = (char)c; continue; }
        char e = *ps->p++;
        switch (e) {
            case '"': out[n++] = '"'; break;
            case '\\': out[n++] = '\\'; break;
            case '/': out[n++] = '/'; break;
            case 'b': out[n++] = '\b'; break;
            case 'f': out[n++] = '\f'; break;
            case 'n': out[n++] = '\n'; break;
            case 'r': out[n++] = '\r'; break;
            case 't': out[n++] = '\t'; break;
            case 'u':
                if (!unicode_escape(ps, out, &n)) return fail(ps, "invalid \\u escape");
                break;
            default: return fail(ps, "invalid escape in string");
        }
    }
    ps->p++;
    out[n] = 0;
    v->str = out;
    v->len = n;
    return v;
}

static double pow10_exact(int e) {
    double r = 1;
    while (e-- > 0) r *= 10;
    return r;
}

static om_json *parse_number(parser *ps) {
    /* Exact (correctly rounded) for up to 15 significant digits and small
     * exponents, which covers every amount a handler sees; larger inputs are
     * approximated. */
    int negative = 0, digits = 0, exp10 = 0;
    uint64_t mantissa = 0;
    if (*ps->p == '-') { negative = 1; ps->p++; }
    if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') return fail(ps, "invalid number");
    if (*ps->p == '0' && ps->p + 1 < ps->end && ps->p[1] >= '0' && ps->p[1] <= '9')
        return fail(ps, "invalid number (leading zero)");
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
        if (digits < 19) { mantissa = mantissa * 10 + (uint64_t)(*ps->p - '0'); if (mantissa) digits++; }
        else exp10++;
        ps->p++;
    }
    if (ps->p < ps->end && *ps->p == '.') {
        ps->p++;
        if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') return fail(ps, "invalid number");
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
            if (digits < 19) { mantissa = mantissa * 10 + (uint64_t)(*ps->p - '0'); exp10--; if (mantissa) digits++; }
            ps->p++;
        }
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        int sign = 1, e = 0;
        ps->p++;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-')) sign = (*ps->p++ == '-') ? -1 : 1;
        if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') return fail(ps, "invalid number");
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
            if (e < 100000) e = e * 10 + (*ps->p - '0');
            ps->p++;
        }
        exp10 += sign * e;
    }
    om_json *v = new_value(OM_NUMBER);
    if (!v) return fail(ps, "out of memory");
    double value = (double)mantissa;
    if (exp10 >= 0) {
        if (exp10 > 308) value = mantissa ? 1e308 * 10 : 0;
        else value *= pow10_exact(exp10);
    } else if (exp10 >= -22) {
        value /= pow10_exact(-exp10);
    } else {
        for (int e = exp10; e < 0 && value != 0; e += 22) value /= pow10_exact(e < -22 ? 22 : -e);
    }
    v->number = negative ? -value : value;
    return v;
}

static om_json *parse_value(parser *ps);

static int grow(om_json ***items, size_t count, size_t *cap) {
    if (count < *cap) return 1;
    size_t new_cap = *cap ? *cap * 2 : 8;
    om_json **bigger = om_alloc(new_cap * sizeof *bigger);
    if (!bigger) return 0;
    for (size_t i = 0; i < count; i++) bigger[i] = (*items)[i];
    *items = bigger;
    *cap = new_cap;
    return 1;
}

static om_json *parse_array(parser *ps) {
    om_json *v = new_value(OM_ARRAY);
    size_t cap = 0;
    if (!v) return fail(ps, "out of memory");
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ']') { ps->p++; return v; }
    for (;;) {
        om_json *item = parse_value(ps);
        if (!item) return 0;
        if (!grow(&v->items, v->len, &cap)) return fail(ps, "out of memory");
        v->items[v->len++] = item;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') { ps->p++; continue; }
        if (ps->p < ps->end && *ps->p == ']') { ps->p++; return v; }
        return fail(ps, "expected ',' or ']' in array");
    }
}

static om_json *parse_object(parser *ps) {
    om_json *v = new_value(OM_OBJECT);
    size_t cap = 0, key_cap = 0;
    if (!v) return fail(ps, "out of memory");
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == '}') { ps->p++; return v; }
    for (;;) {
        skip_ws(ps);
        if (ps->p >= ps->end || *ps->p != '"') return fail(ps, "expected a string key in object");
        om_json *key = parse_string(ps);
        if (!key) return 0;
        skip_ws(ps);
        if (ps->p >= ps->end || *ps->p != ':') return fail(ps, "expected ':' in object");
        ps->p++;
        om_json *item = parse_value(ps);
        if (!item) return 0;
        if (!grow(&v->items, v->len, &cap) || !grow(&v->keys, v->len, &key_cap)) return fail(ps, "out of memory");
        v->keys[v->len] = key;
        v->items[v->len++] = item;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') { ps->p++; continue; }
        if (ps->p < ps->end && *ps->p == '}') { ps->p++; return v; }
        return fail(ps, "expected ',' or '}' in object");
    }
}

static om_json *parse_value(parser *ps) {
    om_json *v = 0;
    skip_ws(ps);
    if (ps->p >= ps->end) return fail(ps, "unexpected end of input");
    if (++ps->depth > MAX_DEPTH) return fail(ps, "nesting too deep");
    switch (*ps->p) {
        case '{': v = parse_object(ps); break;
        case '[': v = parse_array(ps); break;
        case '"': v = parse_string(ps); break;
        case 't':
            if (literal(ps, "true") && (v = new_value(OM_BOOL))) v->boolean = 1;
            else fail(ps, "invalid literal");
            break;
        case 'f':
            if (!literal(ps, "false") || !(v = new_value(OM_BOOL))) fail(ps, "invalid literal");
            break;
        case 'n':
            if (!literal(ps, "null") || !(v = new_value(OM_NULL))) fail(ps, "invalid literal");
            break;
        default:
            if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9')) v = parse_number(ps);
            else fail(ps, "unexpected character");
    }
    ps->depth--;
    return v;
}

om_json *om_json_parse(const char *text, size_t len, const char **error) {
    parser ps = {text, text + len, 0, 0};
    om_json *v = parse_value(&ps);
    if (v) {
        skip_ws(&ps);
        if (ps.p != ps.end) v = fail(&ps, "trailing characters after JSON value");
    }
    if (!v && error) *error = ps.error ? ps.error : "invalid JSON";
    return v;
}

om_json *om_json_get(const om_json *obj, const char *key) {
    if (!obj || obj->type != OM_OBJECT) return 0;
    /* The last duplicate wins, as in Python, JavaScript, Go and Rust. */
    for (size_t i = obj->len; i-- > 0;)
        if (om_str_eq(obj->keys[i], key)) return obj->items[i];
    return 0;
}

int om_str_eq(const om_json *value, const char *text) {
    if (!value || value->type != OM_STRING) return 0;
    size_t n = text_len(text);
    if (n != value->len) return 0;
    for (size_t i = 0; i < n; i++)
        if (value->str[i] != text[i]) return 0;
    return 1;
}

int om_json_is_integer(const om_json *value) {
    if (!value || value->type != OM_NUMBER) return 0;
    double x = value->number;
    if (!(x >= -9007199254740992.0 && x <= 9007199254740992.0)) return 0;
    return (double)(int64_t)x == x;
}

int64_t om_to_cents(double amount) {
    double scaled = amount * 100.0;
    if (scaled < 0) return -(int64_t)(-scaled + 0.5);
    return (int64_t)(scaled + 0.5);
}

static int fixed_digits(const char *s, int n, int *out) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

int om_json_is_date(const om_json *v) {
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int year, month, day;
    if (!v || v->type != OM_STRING || v->len != 10 || v->str[4] != '-' || v->str[7] != '-') return 0;
    if (!fixed_digits(v->str, 4, &year) || !fixed_digits(v->str + 5, 2, &month) || !fixed_digits(v->str + 8, 2, &day))
        return 0;
    if (month < 1 || month > 12 || day < 1) return 0;
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return day <= days[month - 1] + (month == 2 && leap);
}

/* ---- writer ----------------------------------------------------------- */

static void reserve(om_buf *buf, size_t extra) {
    if (buf->len + extra + 1 <= buf->cap) return;
    size_t cap = buf->cap ? buf->cap : 64;
    while (cap < buf->len + extra + 1) cap *= 2;
    char *data = om_alloc(cap);
    if (buf->len) copy_bytes(data, buf->data, buf->len);
    buf->data = data;
    buf->cap = cap;
}

void om_put_n(om_buf *buf, const char *text, size_t len) {
    reserve(buf, len);
    copy_bytes(buf->data + buf->len, text, len);
    buf->len += len;
    buf->data[buf->len] = 0;
}

void om_put(om_buf *buf, const char *text) { om_put_n(buf, text, text_len(text)); }

void om_put_int(om_buf *buf, int64_t value) {
    char digits[24];
    int n = 0;
    uint64_t magnitude = value < 0 ? (uint64_t)0 - (uint64_t)value : (uint64_t)value;
    do { digits[n++] = (char)('0' + magnitude % 10); magnitude /= 10; } while (magnitude);
    if (value < 0) digits[n++] = '-';
    char out[24];
    for (int i = 0; i < n; i++) out[i] = digits[n - 1 - i];
    om_put_n(buf, out, (size_t)n);
}

void om_put_cents(om_buf *buf, int64_t cents) {
    uint64_t magnitude = cents < 0 ? (uint64_t)0 - (uint64_t)cents : (uint64_t)cents;
    char frac[3] = {(char)('0' + magnitude % 100 / 10), (char)('0' + magnitude % 10), 0};
    if (cents < 0) om_put(buf, "-");
    om_put_int(buf, (int64_t)(magnitude / 100));
    om_put(buf, ".");
    om_put(buf, frac);
}

void om_put_json_str(om_buf *buf, const char *text, size_t len) {
    static const char hex[] = "0123456789abcdef";
    om_put(buf, "\"");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        switch (c) {
            case '"': om_put(buf, "\\\""); break;
            case '\\': om_put(buf, "\\\\"); break;
            case '\n': om_put(buf, "\\n"); break;
            case '\r': om_put(buf, "\\r"); break;
            case '\t': om_put(buf, "\\t"); break;
            default:
                if (c < 0x20) {
                    char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                    om_put_n(buf, esc, 6);
                } else {
                    om_put_n(buf, (const char *)&text[i], 1);
                }
        }
    }
    om_put(buf, "\"");
}

/* ---- results ---------------------------------------------------------- */

om_result om_ok(const om_buf *json) {
    om_result r = {1, 0, json->data, json->len};
    return r;
}

om_result om_fail(int permanent, const om_buf *message) {
    om_result r = {0, permanent, message->data, message->len};
    return r;
}

om_result om_fail_msg(int permanent, const char *message) {
    om_result r = {0, permanent, message, text_len(message)};
    return r;
}
