// status_line.c: stderr's news lines, dropped rather than waited for when
// the reader stalls (see status_line.h).
#include "status_line.h"
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include "progress.h"

static int room_now(FILE *f, int timeout_ms) {
    struct pollfd out = {.fd = fileno(f), .events = POLLOUT};
    return poll(&out, 1, timeout_ms) > 0;
}

int stream_room(FILE *f, double seconds) {
    int room = room_now(f, 0);
    for (double given_up = now_seconds() + seconds; !room && now_seconds() < given_up;) room = room_now(f, 10);
    return room;
}

int status_line(double wait_s, const char *fmt, ...) {
    char small[512], *line = small;
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (len < 0) return 0;
    if ((size_t)len >= sizeof small) { // (a long path in it)
        if (!(line = malloc((size_t)len + 1))) return 0;
        va_start(ap, fmt);
        vsnprintf(line, (size_t)len + 1, fmt, ap);
        va_end(ap);
    }
    int room = stream_room(stderr, wait_s);
    if (room) {
        fwrite(line, 1, (size_t)len, stderr);
        fflush(stderr);
    }
    if (line != small) free(line);
    return room;
}
