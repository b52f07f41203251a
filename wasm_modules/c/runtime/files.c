/* File access for command builds: see ottermq_files.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ottermq_files.h"

int om_file_path(const om_json *dir, const char *fallback, const char *file, om_buf *path) {
    const char *text = fallback;
    size_t len = strlen(fallback);
    if (dir) {
        if (dir->type != OM_STRING || dir->len == 0 || dir->str[0] != '/' || memchr(dir->str, 0, dir->len)) return 0;
        text = dir->str;
        len = dir->len;
    }
    while (len > 1 && text[len - 1] == '/') len--;
    om_put_n(path, text, len);
    if (text[len - 1] != '/') om_put(path, "/");
    om_put(path, file);
    return 1;
}

int om_read_file(const char *path, om_buf *content) {
    errno = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return errno ? errno : EIO;
    char chunk[16384];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) om_put_n(content, chunk, n);
    int error = ferror(f) ? (errno ? errno : EIO) : 0;
    fclose(f);
    if (!content->data) om_put(content, "");
    return error;
}

int om_write_file(const char *path, const char *data, size_t len) {
    errno = 0;
    FILE *f = fopen(path, "wb");
    if (!f) return errno ? errno : EIO;
    int error = 0;
    if (len && fwrite(data, 1, len, f) != len) error = errno ? errno : EIO;
    if (fclose(f) != 0 && !error) error = errno ? errno : EIO;
    return error;
}

om_result om_fail_errno(int permanent, const char *prefix, const char *path, int error) {
    om_buf msg = {0};
    om_put(&msg, prefix);
    om_put(&msg, path);
    om_put(&msg, ": ");
    om_put(&msg, strerror(error));
    return om_fail(permanent, &msg);
}
