/*
 * The WASI command shape: JSON on stdin, JSON on stdout, the error message
 * as the last line of stderr; exit 0 = ok, 100 = permanent failure, 1 =
 * retryable failure.
 */
#include <stdio.h>
#include <stdlib.h>

#include "ottermq_handler.h"

#define EXIT_PERMANENT 100

void *om_alloc(size_t size) {
    void *p = malloc(size ? size : 1);
    if (!p) {
        fputs("out of memory\n", stderr);
        exit(1);
    }
    return p;
}

const char *om_env(const char *name) { return getenv(name); }

int main(void) {
    size_t len = 0, cap = 4096;
    char *input = om_alloc(cap);
    size_t n;
    while ((n = fread(input + len, 1, cap - len, stdin)) > 0) {
        len += n;
        if (len == cap) {
            cap *= 2;
            input = realloc(input, cap);
            if (!input) return 1;
        }
    }
    om_result r = om_handle(input, len);
    if (r.ok) {
        fwrite(r.text, 1, r.len, stdout);
        fputc('\n', stdout);
        return 0;
    }
    fwrite(r.text, 1, r.len, stderr);
    fputc('\n', stderr);
    return r.permanent ? EXIT_PERMANENT : 1;
}
