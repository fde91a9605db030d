// status_line.h: lines of news on stderr (progress, figures as they come,
// the stop) that a reader who stopped reading cannot hold up: a blocked
// write would stand the command still and hold off its stop signals, which
// restart it (interrupt.c). Errors are written plainly: the command ends.
#pragma once
#include <stdio.h>

// Room for a line in f within seconds (0: now), polled every 10 ms: a pipe
// or FIFO whose reader stalls has none, a file always has, and an error or
// a gone reader counts as room (the write then reports it).
int stream_room(FILE *f, double seconds);

// printf to stderr as one write (a line under PIPE_BUF is never cut by a
// full pipe, nor mixed with another writer's), where stderr has room within
// wait_s; else the line is dropped. Returns 1 when written.
int status_line(double wait_s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
