// status_line.c: stderr's news lines, dropped rather than waited for when
// the reader stalls (see status_line.h).
#include "status_line.h"
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static int room_now(FILE *f, int timeout_ms) {
    struct pollfd out = {.fd = fileno(f), .events = POLLOUT};
    return poll(&out, 1, timeout_ms) > 0;
}

int stream_room(FILE *f, double seconds) {
    int room = room_now(f, 0);
    for (double given_up = now_seconds() + seconds; !room && now_seconds() < given_up;) room = room_now(f, 10);
    return room;
}

// A line of len > PIPE_BUF - 1 bytes cut to end "...\n" within PIPE_BUF,
// not inside a UTF-8 character; the new length.
static size_t cut_to_pipe_buf(char *line, size_t len) {
    if (len < PIPE_BUF) return len;
    size_t keep = PIPE_BUF - 5;
    while (keep > 0 && ((unsigned char)line[keep] & 0xC0) == 0x80) keep--; // (a continuation byte)
    memcpy(line + keep, "...\n", 5);
    return keep + 4;
}

int status_line(double wait_s, const char *fmt, ...) {
    static int stalled; // the last line was dropped
    char line[PIPE_BUF + 1];
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (len < 0) return 0;
    size_t n = cut_to_pipe_buf(line, (size_t)len);
    int room = stream_room(stderr, stalled ? 0 : wait_s);
    if (room) {
        fwrite(line, 1, n, stderr);
        fflush(stderr);
    }
    stalled = !room;
    return room;
}
