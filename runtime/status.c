// status.c: formatting of library errors (see status.h).
#include "status.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

// Messages quote names taken from files and arguments; a newline or a
// terminal escape in those must not break the one-line rule.
static void replace_control_characters(char *s) {
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) *s = '?';
}

cascade_status cascade_fail(cascade_error *err, cascade_status code, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
        replace_control_characters(err->message);
    }
    return code;
}

const char *cascade_status_name(cascade_status s) {
    switch (s) {
    case CASCADE_OK: return "ok";
    case CASCADE_EINVAL: return "invalid argument";
    case CASCADE_EIO: return "i/o error";
    case CASCADE_EFORMAT: return "bad file format";
    case CASCADE_ENOMEM: return "out of memory";
    case CASCADE_ENODEV: return "no device";
    case CASCADE_EDEVICE: return "device error";
    case CASCADE_EINTERRUPTED: return "interrupted";
    }
    return "unknown";
}

void cascade_error_prefix(cascade_error *err, const char *prefix) {
    if (!err || !prefix) return;
    size_t n = strlen(prefix);
    if (!strncmp(err->message, prefix, n)) return; // already says where
    size_t len = strlen(err->message), room = sizeof err->message - 1;
    if (n + 2 >= room) return;
    if (len > room - n - 2) len = room - n - 2;
    memmove(err->message + n + 2, err->message, len);
    memcpy(err->message, prefix, n);
    err->message[n] = ':', err->message[n + 1] = ' ';
    err->message[n + 2 + len] = 0;
    replace_control_characters(err->message);
}
