// status_line.h: lines of news on stderr (progress, figures as they come,
// notices, the stop) that a reader who stopped reading cannot hold up: a
// blocked write would stand the command still and hold off its stop
// signals, which restart it (interrupt.c). Errors are written plainly: the
// command ends. Also the monotonic clock every command times with.
#pragma once
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

// Seconds on the monotonic clock.
double now_seconds(void);

// Room for a line in f within seconds (0: now), polled every 10 ms: a pipe
// or FIFO whose reader stalls has none, a file always has, and an error or
// a gone reader counts as room (the write then reports it).
int stream_room(FILE *f, double seconds);

// printf to stderr as one write, where stderr has room within wait_s (0
// once a line was dropped, until one gets through: a stalled reader costs
// the wait once, not per line); else the line is dropped. A line past
// PIPE_BUF is cut to it, ending "...": a pipe's room holds PIPE_BUF bytes
// (a longer write could block half-done), and a line is never cut by a full
// pipe, nor mixed with another writer's. Returns 1 when written.
int status_line(double wait_s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#ifdef __cplusplus
}
#endif
