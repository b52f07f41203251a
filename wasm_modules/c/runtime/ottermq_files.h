/*
 * File access for command builds (runtime/command.c links wasi-libc, whose
 * stdio resolves absolute paths against the directories the handler's spec
 * grants). A directory that is not granted does not exist inside the sandbox:
 * opening a file under it fails with ENOENT, like a missing file.
 */
#ifndef OTTERMQ_FILES_H
#define OTTERMQ_FILES_H

#include "ottermq_handler.h"

/*
 * `<dir>/<file>` into *path, where dir is the input's `dir` field (`fallback`
 * when absent) without trailing slashes. Returns 0 when `dir` is not an
 * absolute path (a string starting with `/`, without NUL characters).
 */
int om_file_path(const om_json *dir, const char *fallback, const char *file, om_buf *path);

/* Reads a whole file into *content; returns 0, or the errno of the failure. */
int om_read_file(const char *path, om_buf *content);

/* Creates or truncates `path` and writes `data`; returns 0, or the errno of the failure. */
int om_write_file(const char *path, const char *data, size_t len);

/* "<prefix><path>: <strerror(error)>" as a failure. */
om_result om_fail_errno(int permanent, const char *prefix, const char *path, int error);

#endif
