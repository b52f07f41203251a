/*
 * OtterMQ handler support for C: a small JSON reader/writer and the result
 * type every handler returns. It needs no libc, so the same handler source
 * builds as a WASI command (runtime/command.c, with wasi-libc) or as a
 * freestanding core module (runtime/core.c, no imports at all).
 *
 * A handler implements exactly one function:
 *
 *     om_result om_handle(const char *input, size_t len);
 */
#ifndef OTTERMQ_HANDLER_H
#define OTTERMQ_HANDLER_H

#include <stddef.h>
#include <stdint.h>

/* Memory: provided by the ABI wrapper (malloc for commands, an arena for core modules). */
void *om_alloc(size_t size);

/* ---- JSON values ---------------------------------------------------- */

typedef enum { OM_NULL, OM_BOOL, OM_NUMBER, OM_STRING, OM_ARRAY, OM_OBJECT } om_type;

typedef struct om_json om_json;
struct om_json {
    om_type type;
    int boolean;
    double number;
    const char *str; /* OM_STRING: decoded UTF-8, NUL-terminated */
    size_t len;      /* OM_STRING: byte length; OM_ARRAY/OM_OBJECT: item count */
    om_json **items; /* OM_ARRAY items, or OM_OBJECT values */
    om_json **keys;  /* OM_OBJECT keys (OM_STRING values) */
};

/* Parses a complete JSON text; on failure returns NULL and sets *error. */
om_json *om_json_parse(const char *text, size_t len, const char **error);
/* The value of `key` in an object, or NULL (also when `obj` is not an object). */
om_json *om_json_get(const om_json *obj, const char *key);
int om_str_eq(const om_json *value, const char *text);
/* 1 when `value` is a number with an integral value in [-2^53, 2^53]. */
int om_json_is_integer(const om_json *value);
/* Money: a JSON number of currency units to integer cents, half away from zero. */
int64_t om_to_cents(double amount);
/* 1 when `value` is a string holding a real YYYY-MM-DD calendar date (leap years included). */
int om_json_is_date(const om_json *value);

/* ---- text building -------------------------------------------------- */

typedef struct {
    char *data;
    size_t len;
    size_t cap;
} om_buf;

void om_put(om_buf *buf, const char *text);
void om_put_n(om_buf *buf, const char *text, size_t len);
void om_put_int(om_buf *buf, int64_t value);
/* Writes `text` as a JSON string literal, quotes included. */
void om_put_json_str(om_buf *buf, const char *text, size_t len);
/* Writes integer cents as a decimal amount: 123456 -> "1234.56". */
void om_put_cents(om_buf *buf, int64_t cents);

/* ---- results ---------------------------------------------------------- */

typedef struct {
    int ok;         /* 1: `text` is the JSON output; 0: `text` is an error message */
    int permanent;  /* errors only: 1 = do not retry */
    const char *text;
    size_t len;
} om_result;

om_result om_ok(const om_buf *json);
om_result om_fail(int permanent, const om_buf *message);
om_result om_fail_msg(int permanent, const char *message);

om_result om_handle(const char *input, size_t len);

/* ---- the host ----------------------------------------------------------- */

/* A granted environment variable, or NULL when it is not set or not granted.
 * Commands only (runtime/command.c, wasi-libc): core modules import nothing. */
const char *om_env(const char *name);

#endif
