// progress.c: running estimates, their display and the stop rules (see progress.h).
#include "progress.h"
#include "status_line.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

void progress_init(progress_state *p, const cifar_file *data, const uint32_t *order, const model *classes,
                   int64_t total) {
    memset(p, 0, sizeof *p);
    estimate_init(&p->estimate, total, classes->num_classes);
    p->data = data, p->order = order, p->classes = classes;
    p->start = p->last_draw = now_seconds();
    p->tty = isatty(fileno(stderr));
    p->draw_interval = p->tty ? 0.25 : 5.0;
    p->json_interval = 0.25;
    p->watch_class = -1;
    p->bad_record = -1;
    p->json_seen = -1;
}

const char *stop_reason_name(stop_reason r) {
    static const char *names[] = {"none", "time budget", "target interval width", "interrupted"};
    return names[r];
}

interval progress_watched(const progress_state *p) {
    const running_estimate *e = &p->estimate;
    if (p->watch_class >= 0) return wilson_interval(e->predicted[p->watch_class], e->seen, e->population);
    return wilson_interval(e->correct, e->labelled, e->population);
}

interval progress_deferred(const progress_state *p) {
    const running_estimate *e = &p->estimate;
    return p->alone ? (interval){0, 0} : wilson_interval(e->deferred, e->seen, e->population);
}

void json_interval_fields(FILE *f, int sampled, interval ci, int spaced) {
    const char *gap = spaced ? " " : "";
    if (sampled) fprintf(f, ",%s\"low\":%s%.6f,%s\"high\":%s%.6f", gap, gap, ci.low, gap, gap, ci.high);
    else fprintf(f, ",%s\"low\":%snull,%s\"high\":%snull", gap, gap, gap, gap);
}

// k of n as "value" with its interval: null, all three, while n is 0 (nothing counted yet).
void json_proportion_fields(FILE *f, const char *value_key, int64_t k, int64_t n, int sampled, interval ci,
                            int spaced) {
    const char *gap = spaced ? " " : "";
    if (n) fprintf(f, "\"%s\":%s%.6f", value_key, gap, (double)k / n);
    else fprintf(f, "\"%s\":%snull", value_key, gap);
    json_interval_fields(f, sampled && n, ci, spaced);
}

// As run's final report has them: {"count", "fraction", ...} for deferred,
// {"correct", "value", ...} for accuracy.
static void json_proportion(FILE *f, const progress_state *p, const char *name, const char *count_key,
                            const char *value_key, int64_t k, int64_t n, interval ci) {
    fprintf(f, "\"%s\":{\"%s\":%lld,", name, count_key, (long long)k);
    json_proportion_fields(f, value_key, k, n, p->sampled, ci, 0);
    fputc('}', f);
}

// Images screened per second, the rate of the ETA too (0: nothing screened yet, no ETA to tell).
static double screened_rate(const progress_state *p, double elapsed) {
    return elapsed > 0 ? p->screened / elapsed : 0;
}

// Seconds left at that rate, or of the --time-budget where it ends the run
// first (550 s was shown for a 2 s budget); 0 while there is no rate.
static double eta_seconds(const progress_state *p, double elapsed) {
    double rate = screened_rate(p, elapsed), eta = rate > 0 ? (p->estimate.population - p->estimate.seen) / rate : 0;
    if (p->time_budget > 0 && eta > p->time_budget - elapsed) eta = p->time_budget > elapsed ? p->time_budget - elapsed : 0;
    return eta;
}

static void json_line(FILE *f, const progress_state *p, double elapsed) {
    const running_estimate *e = &p->estimate;
    double rate = screened_rate(p, elapsed);
    fprintf(f, "{\"processed\":%lld,\"screened\":%lld,\"total\":%lld,\"elapsed_s\":%.3f,\"images_per_s\":%.1f,",
            (long long)e->seen, (long long)p->screened, (long long)e->population, elapsed, rate);
    if (rate > 0) fprintf(f, "\"eta_s\":%.1f,", eta_seconds(p, elapsed));
    else fprintf(f, "\"eta_s\":null,"); // no image yet: no rate to tell
    json_proportion(f, p, "deferred", "count", "fraction", e->deferred, e->seen, progress_deferred(p));
    fputc(',', f);
    json_proportion(f, p, "accuracy", "correct", "value", e->correct, e->labelled,
                    wilson_interval(e->correct, e->labelled, e->population));
    fprintf(f, ",\"classes\":{");
    for (int c = 0; c < e->num_classes; c++) {
        fprintf(f, "%s\"%s\":{\"count\":%lld,", c ? "," : "", p->classes->class_names[c], (long long)e->predicted[c]);
        json_proportion_fields(f, "share", e->predicted[c], e->seen, p->sampled,
                               wilson_interval(e->predicted[c], e->seen, e->population), 0);
        fputc('}', f);
    }
    fprintf(f, "},\"stopping\":\"%s\"}\n", stop_reason_name(p->stop));
}

static void draw_line(FILE *f, const progress_state *p, double elapsed, int final, int narrow);

// One update's line, the feed's (json) or stderr's, composed in memory so it
// is written at once (malloc'd, *len bytes; NULL: no memory for it).
static char *line_text(const progress_state *p, double elapsed, int final, int json, int narrow, size_t *len) {
    char *line = NULL;
    FILE *m = open_memstream(&line, len);
    if (!m) return NULL;
    if (json) json_line(m, p, elapsed);
    else draw_line(m, p, elapsed, final, narrow);
    fclose(m);
    return line;
}

// A stalled reader of the feed (a pipe, a FIFO) must not stall the run: a
// blocked write would also hold off the stop signals, which restart it
// (interrupt.c), and the time budget. So a line it has no room for is
// dropped (the next one holds the whole state again); the last line waits
// 2 s at most, then is dropped, saying so. A line (under 2.5 KB: at most 16
// classes of names under 32 bytes; CIFAR-10's are about 950) is shorter than
// PIPE_BUF, so the room poll reports (a free page of the pipe) takes it whole.
static void write_json(progress_state *p, double elapsed, int last) {
    size_t len;
    char *line = line_text(p, elapsed, last, 1, 0, &len);
    if (!line) return; // (out of memory: this update is not shown)
    int room = stream_room(p->json, last ? 2.0 : 0);
    if (last && !room) // (a stalled stderr, too, holds up nothing)
        status_line(0, "notice: --progress-json: its reader took no line for 2 s; the last one is dropped\n");
    if (room) {
        fwrite(line, 1, len, p->json);
        fflush(p->json);
        p->json_seen = p->estimate.seen, p->json_stop = p->stop;
    }
    free(line);
}

// narrow: no intervals (a terminal too narrow for them).
static void draw_line(FILE *f, const progress_state *p, double elapsed, int final, int narrow) {
    const running_estimate *e = &p->estimate;
    double rate = screened_rate(p, elapsed);
    double eta = eta_seconds(p, elapsed);
    interval d = progress_deferred(p);
    interval a = wilson_interval(e->correct, e->labelled, e->population);
    double pd = e->seen ? (double)e->deferred / e->seen : 0, pa = e->labelled ? (double)e->correct / e->labelled : 0;
    char dci[48] = "", aci[48] = "", wci[48] = ""; // the intervals: a random order's prefixes only
    if (p->sampled && !narrow) {
        snprintf(dci, sizeof dci, " [%.4f, %.4f]", d.low, d.high);
        snprintf(aci, sizeof aci, " [%.4f, %.4f]", a.low, a.high);
        if (p->watch_class >= 0) {
            interval w = progress_watched(p);
            snprintf(wci, sizeof wci, " [%.4f, %.4f]", w.low, w.high);
        }
    }
    fprintf(f, "%s[%5.1f%%] %lld/%lld  %.0f img/s  ETA %.0fs", p->tty ? "\r" : "",
            e->population ? 100.0 * e->seen / e->population : 100.0, (long long)e->seen, (long long)e->population, rate,
            eta);
    if (!p->alone) fprintf(f, "  deferred %.4f%s", pd, dci); // (a model alone defers nothing)
    fprintf(f, "  acc %.4f%s", pa, aci);
    if (p->watch_class >= 0)
        fprintf(f, "  %s %.4f%s", p->classes->class_names[p->watch_class],
                e->seen ? (double)e->predicted[p->watch_class] / e->seen : 0, wci);
    if (!p->tty) { // plain lines carry the per-class counts too
        fprintf(f, "  classes");
        for (int c = 0; c < e->num_classes; c++)
            fprintf(f, " %s=%lld", p->classes->class_names[c], (long long)e->predicted[c]);
    }
    fprintf(f, p->tty ? "\033[K" : "\n");
    if (p->tty && final) fputc('\n', f);
}

// The progress line, written to stderr at once (one write under PIPE_BUF: a
// line is never cut by a full pipe, nor mixed with another writer's).
// The terminal's columns (0: unknown).
static int terminal_columns(void) {
    struct winsize w;
    return ioctl(STDERR_FILENO, TIOCGWINSZ, &w) == 0 ? w.ws_col : 0;
}

// A terminal's line cut to fit its width (a wider one wrapped, and each
// redraw left a line behind): without intervals first, then cut short at a
// character's end; the \r before it and the erase after it kept.
static char *fit_terminal(const progress_state *p, double elapsed, int final, char *line, size_t *len) {
    int columns = terminal_columns();
    size_t frame = strlen("\r") + strlen("\033[K") + (final ? 1 : 0), room = columns > 1 ? (size_t)columns - 1 : 0;
    if (!room || *len <= frame + room) return line;
    char *narrow = line_text(p, elapsed, final, 0, 1, len);
    if (!narrow) return line;
    free(line);
    if (*len <= frame + room) return narrow;
    size_t keep = 1 + room; // "\r" and the text that fits
    while (keep > 1 && ((unsigned char)narrow[keep] & 0xc0) == 0x80) keep--; // (not inside a UTF-8 character)
    memcpy(narrow + keep, final ? "\033[K\n" : "\033[K", final ? 5 : 4);
    *len = keep + (final ? 4 : 3);
    return narrow;
}

static void draw(const progress_state *p, double elapsed, int final) {
    size_t len;
    char *line = line_text(p, elapsed, final, 0, 0, &len);
    if (!line) return; // (out of memory: this update is not shown)
    if (p->tty) line = fit_terminal(p, elapsed, final, line, &len);
    fwrite(line, 1, len, stderr);
    fflush(stderr);
    free(line);
}

static void check_stop_rules(progress_state *p, double elapsed) {
    if (p->stop) return;
    if (p->interrupted && *p->interrupted) p->stop = STOP_INTERRUPT;
    else if (p->time_budget > 0 && elapsed >= p->time_budget) p->stop = STOP_TIME_BUDGET;
    else if (p->target_ci > 0 && p->estimate.seen < p->estimate.population) {
        interval w = progress_watched(p);
        if (w.high - w.low < p->target_ci) p->stop = STOP_TARGET_CI, p->rule_met_at = p->estimate.seen, p->rule_met = w;
    }
    if (p->stop && p->stop_elapsed <= 0) p->stop_elapsed = elapsed;
}

int progress_update(void *ctx, int64_t done, int64_t screened, const cascade_results *results) {
    progress_state *p = ctx;
    p->screened = screened > done ? screened : done; // (never fewer: the final ones went through the cheap network)
    for (int64_t pos = p->aggregated; pos < done; pos++) {
        int label = cifar_label(p->data, (int)p->order[pos]); // checked here: a large file is not read at open
        if (!cifar_label_ok(label)) {
            p->bad_record = p->order[pos];
            return 1;
        }
        estimate_add(&p->estimate, results->prediction[pos], results->deferred[pos], label);
    }
    p->aggregated = done;
    double t = now_seconds(), elapsed = t - p->start;
    check_stop_rules(p, elapsed);
    if (!p->quiet && t - p->last_draw >= p->draw_interval && stream_room(stderr, 0)) { // (as the JSON feed's)
        draw(p, elapsed, 0);
        p->last_draw = t;
        p->drawn_seen = p->estimate.seen;
    }
    if (p->json && t - p->last_json >= p->json_interval) {
        write_json(p, elapsed, 0);
        p->last_json = t;
    }
    return p->stop != STOP_NONE;
}

void progress_finish(progress_state *p) {
    double elapsed = now_seconds() - p->start;
    if (!p->quiet && (p->drawn_seen != p->estimate.seen || p->tty) && stream_room(stderr, 2.0))
        draw(p, elapsed, 1); // (a stderr whose reader stalled gets no last line, as the feed)
    if (p->json && (p->json_seen != p->estimate.seen || p->json_stop != p->stop))
        write_json(p, elapsed, 1); // the last state, unless the last line already holds it
}
