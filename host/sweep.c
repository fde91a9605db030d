// sweep.c: the evaluation shared by `cascade sweep` and `cascade calibrate`,
// and the timed pass of one model alone over a data set (see sweep.h).
#include "sweep.h"
#include "status_line.h"
#include "assets.h"
#include "options.h"
#include "interrupt.h"
#include "progress.h"
#include "../runtime/pipeline.h"
#include "../runtime/utf8.h"
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

double cascade_predicted_throughput(double t_cheap, double t_full, double deferred_fraction) {
    if (!(t_cheap > 0) || !(t_full > 0)) return 0;
    return 1.0 / (1.0 / t_cheap + deferred_fraction / t_full);
}

cascade_status sweep_evaluate(const sweep_input *in, sweep_point *points, cascade_error *err) {
    if (in->n <= 0) return cascade_fail(err, CASCADE_EINVAL, "no images to sweep over");
    if (in->n_cheap < 0 || in->n_thresholds < 0) return cascade_fail(err, CASCADE_EINVAL, "negative list size");
    for (int j = 0; j < in->n_thresholds; j++)
        if (!(in->thresholds[j] >= 0 && in->thresholds[j] <= 1))
            return cascade_fail(err, CASCADE_EINVAL, "threshold %.17g is outside [0, 1]", in->thresholds[j]);
    const int32_t *full_pred = in->full->prediction;
    int64_t full_correct = 0;
    if (in->labels)
        for (int64_t i = 0; i < in->n; i++) full_correct += full_pred[i] == in->labels[i];
    double nd = (double)in->n;
    for (int c = 0; c < in->n_cheap; c++) {
        const model_pass *m = &in->cheap[c];
        for (int j = 0; j < in->n_thresholds; j++) {
            // the pipeline compares in float: so does the sweep, to reproduce it exactly
            float thr = cascade_threshold(in->thresholds[j]);
            int64_t deferred = 0, correct = 0, agree = 0;
            for (int64_t i = 0; i < in->n; i++) {
                int defer = cascade_defers(m->confidence[i], thr);
                int32_t answer = defer ? full_pred[i] : m->prediction[i];
                deferred += defer;
                agree += answer == full_pred[i];
                if (in->labels) correct += answer == in->labels[i];
            }
            sweep_point *pt = &points[c * in->n_thresholds + j];
            double p = (double)deferred / nd;
            *pt = (sweep_point){.cheap = c, .threshold = in->thresholds[j], .images = in->n, .deferred = deferred,
                                .correct = correct, .agree = agree, .deferred_fraction = p,
                                .accuracy = in->labels ? (double)correct / nd : -1, .agreement = (double)agree / nd,
                                .predicted_images_per_s =
                                    cascade_predicted_throughput(m->images_per_s, in->full->images_per_s, p)};
        }
    }
    sweep_point *alone = &points[in->n_cheap * in->n_thresholds];
    *alone = (sweep_point){.cheap = -1, .threshold = 1, .images = in->n, .deferred = in->n, .correct = full_correct,
                           .agree = in->n, .deferred_fraction = 1, .accuracy = in->labels ? full_correct / nd : -1,
                           .agreement = 1, .predicted_images_per_s = in->full->images_per_s};
    sweep_mark_pareto(points, sweep_point_count(in));
    return CASCADE_OK;
}

static double quality(const sweep_point *p) { return p->accuracy >= 0 ? p->accuracy : p->agreement; }

static const sweep_point *pareto_points;
static int by_speed_then_quality(const void *a, const void *b) {
    const sweep_point *x = &pareto_points[*(const int *)a], *y = &pareto_points[*(const int *)b];
    if (x->predicted_images_per_s != y->predicted_images_per_s)
        return x->predicted_images_per_s > y->predicted_images_per_s ? -1 : 1;
    if (quality(x) != quality(y)) return quality(x) > quality(y) ? -1 : 1;
    return *(const int *)a - *(const int *)b;
}

void sweep_mark_pareto(sweep_point *points, int n) {
    int *idx = malloc((size_t)(n > 0 ? n : 1) * sizeof *idx);
    if (!idx) { // O(n^2) without scratch memory
        for (int i = 0; i < n; i++) {
            points[i].pareto = 1;
            for (int j = 0; j < n && points[i].pareto; j++) {
                const sweep_point *a = &points[j], *b = &points[i];
                int ge = a->predicted_images_per_s >= b->predicted_images_per_s && quality(a) >= quality(b);
                int gt = a->predicted_images_per_s > b->predicted_images_per_s || quality(a) > quality(b);
                if (j != i && ge && (gt || j < i)) points[i].pareto = 0;
            }
        }
        return;
    }
    for (int i = 0; i < n; i++) idx[i] = i, points[i].pareto = 0;
    pareto_points = points;
    qsort(idx, (size_t)n, sizeof *idx, by_speed_then_quality);
    // fastest first: a point is on the frontier when it beats every faster one
    double best = -INFINITY;
    for (int k = 0; k < n; k++) {
        sweep_point *p = &points[idx[k]];
        if (quality(p) > best) p->pareto = 1, best = quality(p);
    }
    free(idx);
}

int sweep_frontier_next(const sweep_point *points, int n, int after) {
    int next = -1; // (marked points have distinct speeds: of two as fast, the less good one is not marked)
    for (int i = 0; i < n; i++) {
        double r = points[i].predicted_images_per_s;
        if (!points[i].pareto || (after >= 0 && !(r < points[after].predicted_images_per_s))) continue;
        if (next < 0 || r > points[next].predicted_images_per_s) next = i;
    }
    return next;
}

// p before b among points as fast and as good: the earlier cheap model (the
// expensive one alone, cheap -1, last), then the lower threshold.
static int earlier_point(const sweep_point *p, const sweep_point *b) {
    int pc = p->cheap < 0 ? INT_MAX : p->cheap, bc = b->cheap < 0 ? INT_MAX : b->cheap;
    return pc != bc ? pc < bc : p->threshold < b->threshold;
}

int calibrate_choose(const sweep_point *points, int n, calibrate_target target, double level) {
    int best = -1;
    for (int i = 0; i < n; i++) {
        const sweep_point *p = &points[i];
        double q = target == TARGET_ACCURACY ? p->accuracy : p->agreement;
        if (q < 0 || q < level) continue; // exact: k/n is correctly rounded, so a level written as k/n still holds
        if (best < 0) { best = i; continue; }
        const sweep_point *b = &points[best];
        double qb = target == TARGET_ACCURACY ? b->accuracy : b->agreement;
        if (p->predicted_images_per_s > b->predicted_images_per_s ||
            (p->predicted_images_per_s == b->predicted_images_per_s && (q > qb || (q == qb && earlier_point(p, b)))))
            best = i;
    }
    return best;
}

// A name as an RFC 4180 field: quoted where it holds a comma, quote or line
// break; bytes that are not UTF-8 as U+FFFD (as in the JSON and the SVG).
static void csv_field(FILE *f, const char *s) {
    int quoted = strpbrk(s, ",\"\r\n") != NULL;
    if (quoted) fputc('"', f);
    while (*s) {
        int len = utf8_char_length(s);
        if (*s == '"') fputc('"', f);
        if (len) fwrite(s, 1, (size_t)len, f);
        else fputs("\xef\xbf\xbd", f);
        s += len ? len : 1;
    }
    if (quoted) fputc('"', f);
}

void sweep_write_csv(FILE *f, const sweep_input *in, const sweep_point *points) {
    fprintf(f, "cheap,threshold,images,deferred,deferred_fraction,correct,accuracy,agree,agreement,"
               "cheap_images_per_s,full_images_per_s,predicted_images_per_s,pareto\n");
    int n = sweep_point_count(in);
    for (int i = 0; i < n; i++) {
        const sweep_point *p = &points[i];
        if (p->cheap >= 0) {
            csv_field(f, in->cheap[p->cheap].name);
            char thr[NUMBER_TEXT_CAP];
            fprintf(f, ",%s,", number_text(p->threshold, thr));
        } else fprintf(f, "none,,");
        fprintf(f, "%lld,%lld,%.6f,%lld,", (long long)p->images, (long long)p->deferred, p->deferred_fraction,
                (long long)p->correct);
        if (p->accuracy >= 0) fprintf(f, "%.6f,", p->accuracy);
        else fprintf(f, ",");
        fprintf(f, "%lld,%.6f,", (long long)p->agree, p->agreement);
        if (p->cheap >= 0) fprintf(f, "%.9g,", in->cheap[p->cheap].images_per_s);
        else fprintf(f, ",");
        fprintf(f, "%.9g,%.9g,%d\n", in->full->images_per_s, p->predicted_images_per_s, p->pareto);
    }
}

void sweep_write_models_json(FILE *f, const sweep_setup *s, const data_range *d) {
    fprintf(f, "[\n");
    for (int i = 0; i <= s->n_cheap; i++) {
        const model_pass *m = i < s->n_cheap ? &s->cheap[i] : &s->full;
        int64_t correct = 0;
        for (int64_t k = 0; k < d->n; k++) correct += m->prediction[k] == d->labels[k];
        fprintf(f, "    {\"name\": ");
        json_string(f, m->name);
        fprintf(f, ", \"role\": \"%s\", \"arch\": \"%s\", \"images_per_s\": %.9g, \"throughput\": \"%s\", "
                   "\"seconds\": %.6f, \"accuracy\": %.6f}%s\n",
                i < s->n_cheap ? "cheap" : "full", m->arch, m->images_per_s, m->throughput_given ? "given" : "measured",
                m->seconds, (double)correct / d->n, i < s->n_cheap ? "," : "");
    }
    fprintf(f, "  ]");
}

void json_string(FILE *f, const char *s) {
    fputc('"', f);
    while (*s) {
        unsigned char c = (unsigned char)*s;
        int len = utf8_char_length(s);
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else if (!len) fputs("\\ufffd", f); // a byte that is not UTF-8 (JSON text must be)
        else fwrite(s, 1, (size_t)len, f);
        s += len ? len : 1;
    }
    fputc('"', f);
}

void sweep_point_name(const sweep_input *in, const sweep_point *p, char *out, size_t cap) {
    char thr[NUMBER_TEXT_CAP];
    if (p->cheap < 0) snprintf(out, cap, "%s alone", in->full->name);
    else snprintf(out, cap, "%s @ %s", in->cheap[p->cheap].name, number_text(p->threshold, thr));
}

// ---- throughputs given on the command line or in a file ---------------------

static const char *base_name(const char *path, char *out, size_t cap) {
    const char *slash = strrchr(path, '/');
    snprintf(out, cap, "%s", slash ? slash + 1 : path);
    size_t len = strlen(out), ext = strlen(".safetensors");
    if (len > ext && !strcmp(out + len - ext, ".safetensors")) out[len - ext] = 0;
    return out;
}

// Whether name names pass p: by the name as given or its file name without
// folder and .safetensors (by_arch 0), or by its architecture (by_arch 1).
static int names_pass(const char *name, const model_pass *p, int by_arch) {
    char base[MODEL_NAME_CAP];
    if (by_arch) return !strcmp(p->arch, name);
    return !strcmp(p->name, name) || !strcmp(base_name(p->name, base, sizeof base), name);
}

// v as the throughput of the passes that name matches; the set of those
// passes (bit i for passes[i]), 0 when none. A pass's own name comes first:
// only a name that names no pass so is taken as an architecture (with lenet
// and a copy of it at /tmp/mine.safetensors, "lenet" is the zoo's, not both).
static unsigned apply_one(const char *name, double v, model_pass *passes, int n_passes) {
    unsigned matched = 0;
    for (int by_arch = 0; by_arch < 2 && !matched; by_arch++)
        for (int i = 0; i < n_passes && i < 32; i++)
            if (names_pass(name, &passes[i], by_arch)) {
                passes[i].images_per_s = v;
                passes[i].throughput_given = 1;
                matched |= 1u << i;
            }
    return matched;
}

// The items of text applied to passes; the first name that matches none
// into unmatched (when not NULL; "" when all match). Two items for one pass
// (lenet=1,lenet=2, or a model by its name and by its architecture) are
// refused: which one was meant is not for us to guess. from_file: the
// messages name the line (the command line's items have none).
static cascade_status apply_items(const char *what, const char *text, model_pass *passes, int n_passes,
                                  char unmatched[MODEL_NAME_CAP], int from_file, cascade_error *err) {
    if (unmatched) unmatched[0] = 0;
    const char *p = text;
    int line = 1;
    unsigned given = 0;
    char at[32] = "";
    while (*p) {
        if (*p == '#') { p += strcspn(p, "\n"); continue; }
        if (*p == '\n') line++;
        if (*p == ',' || *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') { p++; continue; }
        size_t len = strcspn(p, ", \t\r\n#");
        if (from_file) snprintf(at, sizeof at, "line %d: ", line);
        char item[MODEL_NAME_CAP + 64]; // name=images_per_s
        if (len >= sizeof item) return cascade_fail(err, CASCADE_EINVAL, "%s: %sitem too long", what, at);
        memcpy(item, p, len);
        item[len] = 0;
        p += len;
        char *eq = strchr(item, '=');
        if (!eq || eq == item)
            return cascade_fail(err, CASCADE_EINVAL, "%s: %s'%s' is not name=images_per_s", what, at, item);
        *eq = 0;
        char *end;
        errno = 0;
        double v = strtod(eq + 1, &end);
        if (!eq[1] || *end || errno || !isfinite(v) || v <= 0)
            return cascade_fail(err, CASCADE_EINVAL, "%s: %sthroughput of %s '%s' is not a positive number",
                                what, at, item, eq + 1);
        unsigned matched = apply_one(item, v, passes, n_passes);
        if (matched & given) {
            int i = 0;
            while (!(matched & given & 1u << i)) i++;
            return cascade_fail(err, CASCADE_EINVAL, "%s: %sa second throughput for %s ('%s')", what, at,
                                passes[i].name, item);
        }
        given |= matched;
        if (!matched && unmatched && !unmatched[0]) snprintf(unmatched, MODEL_NAME_CAP, "%.*s", MODEL_NAME_CAP - 1, item);
    }
    return CASCADE_OK;
}

cascade_status apply_throughputs(const char *what, const char *text, model_pass *passes, int n_passes,
                                 cascade_error *err) {
    return apply_items(what, text, passes, n_passes, NULL, 0, err);
}

// Before any model pass, the throughputs are tried on stand-ins that carry
// the passes' names and architectures: --throughputs names only the sweep's
// models (a misspelt name would leave a model's measured figure in the
// prediction without a word), and neither it nor a --throughput-from file
// gives one model two figures (found after the passes, that was minutes late).
// A name=value file may list other models too (a file kept for many runs):
// one this run does not have is said in a notice (a misspelt one would be
// silent), and so is a file that gives no figure at all.
static cascade_status apply_bench_json(const char *what, const char *json, model_pass *passes, int n_passes,
                                       char unmatched[MODEL_NAME_CAP], cascade_error *err);
static cascade_status check_throughput_names(const sweep_setup *s, cascade_error *err) {
    static model_pass stand_in[SWEEP_MAX_MODELS + 1];
    int n = s->n_cheap + 1;
    for (int i = 0; i < n; i++) {
        const model *m = i < s->n_cheap ? &s->models.cheap[i] : &s->models.full;
        memset(&stand_in[i], 0, sizeof stand_in[i]);
        snprintf(stand_in[i].name, sizeof stand_in[i].name, "%s", i < s->n_cheap ? s->cheap_names[i] : s->opt.full);
        snprintf(stand_in[i].arch, sizeof stand_in[i].arch, "%s", m->arch);
    }
    cascade_status st = CASCADE_OK;
    if (s->throughput_text) st = apply_throughput_text(s->opt.throughput_from, s->throughput_text, stand_in, n, err);
    const char *text = s->throughput_text ? s->throughput_text + strspn(s->throughput_text, " \t\r\n") : NULL;
    char unmatched[MODEL_NAME_CAP] = "";
    if (!st && text) { // (the text again, on fresh stand-ins' counts: only its unmatched name)
        cascade_error ignored;
        for (int i = 0; i < n; i++) stand_in[i].images_per_s = 0;
        cascade_status again = *text == '{' ? apply_bench_json("", text, stand_in, n, unmatched, &ignored)
                                            : apply_items("", text, stand_in, n, unmatched, 1, &ignored);
        if (!again && unmatched[0])
            status_line(2.0, "notice: --throughput-from %s: '%s' is none of this run's models; ignored\n",
                        s->opt.throughput_from, unmatched);
        unmatched[0] = 0;
        int any = 0;
        for (int i = 0; i < n; i++) any |= stand_in[i].images_per_s > 0;
        if (!any) status_line(2.0, "notice: --throughput-from %s gives none of this run's models a figure: all are "
                                   "measured\n", s->opt.throughput_from);
    }
    if (!st && s->opt.throughputs)
        st = apply_items("--throughputs", s->opt.throughputs, stand_in, n, unmatched, 0, err);
    if (!st && unmatched[0]) {
        char kept[SWEEP_MAX_MODELS * MODEL_NAME_CAP] = ""; // the cheap models run (a default list less --full)
        for (int i = 0; i < s->n_cheap; i++)
            snprintf(kept + strlen(kept), sizeof kept - strlen(kept), "%s%s", i ? "," : "", s->cheap_names[i]);
        st = cascade_fail(err, CASCADE_EINVAL, "--throughputs: '%s' is none of this run's models (--cheap %s, --full %s)",
                          unmatched, kept, s->opt.full);
    }
    return st;
}

// The JSON string whose opening quote is at q, unescaped into out (as
// json_string writes them: \" \\ and \u00XX; other escapes as JSON has them);
// the character after its closing quote, or NULL for one that is not whole
// or longer than cap.
static const char *read_json_string(const char *q, char *out, size_t cap) {
    size_t n = 0;
    for (const char *p = q + 1; *p; p++) {
        char c = *p;
        if (c == '"') {
            out[n] = 0;
            return p + 1;
        }
        if (c == '\\') {
            c = *++p;
            if (c == 'u') {
                unsigned v = 0;
                for (int k = 1; k <= 4; k++) { // exactly four hex digits (a shorter one would run past the end)
                    if (!isxdigit((unsigned char)p[k])) return NULL;
                    v = v * 16 + (unsigned)(isdigit((unsigned char)p[k]) ? p[k] - '0' : (p[k] | 0x20) - 'a' + 10);
                }
                if (v == 0 || v > 0x7f) return NULL; // our names are bytes
                c = (char)v, p += 4;
            } else if (c == 'n') c = '\n';
            else if (c == 't') c = '\t';
            else if (c == 'r') c = '\r';
            else if (c != '"' && c != '\\' && c != '/') return NULL;
        }
        if (n + 1 >= cap) return NULL;
        out[n++] = c;
    }
    return NULL;
}

// `cascade bench --json` output: each "alone" entry's "model" and
// "images_per_s" "median", the best over batch sizes, applied to the passes
// by name (names as bench wrote them: any character a path may hold);
// unmatched (may be NULL) gets the first name no pass has.
#define BENCH_JSON_MODELS 64
static cascade_status apply_bench_json(const char *what, const char *json, model_pass *passes, int n_passes,
                                       char unmatched[MODEL_NAME_CAP], cascade_error *err) {
    if (unmatched) unmatched[0] = 0;
    const char *alone = strstr(json, "\"alone\"");
    if (!alone) return cascade_fail(err, CASCADE_EFORMAT, "%s: JSON without \"alone\" (not `cascade bench --json`?)", what);
    const char *end = strstr(alone, "\"cascades\"");
    static char names[BENCH_JSON_MODELS][MODEL_NAME_CAP];
    double best[BENCH_JSON_MODELS];
    int n = 0;
    for (const char *p = alone; (p = strstr(p, "\"model\"")) && (!end || p < end);) {
        char name[MODEL_NAME_CAP];
        const char *q = strchr(p + 7, '"'), *close = q ? read_json_string(q, name, sizeof name) : NULL;
        const char *median = close ? strstr(close, "\"median\"") : NULL;
        const char *colon = median ? strchr(median, ':') : NULL;
        if (!colon)
            return cascade_fail(err, CASCADE_EFORMAT, "%s: an \"alone\" entry without a model name (under %d "
                                "bytes) and a median", what, MODEL_NAME_CAP);
        char *stop;
        errno = 0;
        double v = strtod(colon + 1, &stop);
        if (stop == colon + 1 || errno || !isfinite(v) || !(v > 0)) // 1e999 or inf: JSON we would write as inf
            return cascade_fail(err, CASCADE_EFORMAT, "%s: the median for %s is not a positive finite number", what,
                                name);
        int k = 0;
        while (k < n && strcmp(names[k], name)) k++;
        if (k == n) {
            if (n == BENCH_JSON_MODELS) return cascade_fail(err, CASCADE_EFORMAT, "%s: more than %d models", what, n);
            snprintf(names[n], sizeof names[n], "%s", name), best[n++] = v;
        } else if (v > best[k]) best[k] = v;
        p = stop;
    }
    for (int k = 0; k < n; k++)
        if (!apply_one(names[k], best[k], passes, n_passes) && unmatched && !unmatched[0])
            snprintf(unmatched, MODEL_NAME_CAP, "%s", names[k]);
    return CASCADE_OK;
}

// Up to cap bytes of path into buf, *len of them (READ_MORE when more
// follow). Each read waits in poll(), 10 ms at a time, for data or the end:
// a FIFO's writer may be slow or never come, and a stop signal restarts a
// blocked read (interrupt.c), so only polling command_stop lets a stop end the
// wait. (A FIFO opened without blocking reads as empty until its writer comes;
// poll waits for the writer's data, or its close.) READ_FAILED and
// READ_UNOPENED leave errno.
enum { READ_WHOLE, READ_MORE, READ_FAILED, READ_UNOPENED, READ_STOPPED };
static int read_stoppable(const char *path, char *buf, size_t cap, size_t *len) {
    *len = 0;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC); // (a FIFO opened so does not wait for its writer)
    if (fd < 0) return READ_UNOPENED;
    int result = READ_WHOLE;
    for (;;) {
        struct pollfd waiting = {.fd = fd, .events = POLLIN};
        int ready = poll(&waiting, 1, 10);
        if (ready < 0 && errno != EINTR) { result = READ_FAILED; break; }
        if (command_stopped()) { result = READ_STOPPED; break; }
        if (ready <= 0) continue;
        char extra;
        ssize_t got = *len < cap ? read(fd, buf + *len, cap - *len) : read(fd, &extra, 1);
        if (got > 0 && *len == cap) { result = READ_MORE; break; }
        if (got > 0) *len += (size_t)got;
        else if (got == 0) break; // the end (a FIFO's: its writer has closed it)
        else if (errno != EAGAIN && errno != EINTR) { result = READ_FAILED; break; }
    }
    int e = errno;
    close(fd);
    errno = e;
    return result;
}

cascade_status read_throughput_file(const char *path, char **text, cascade_error *err) {
    *text = NULL;
    char *buf = malloc(SWEEP_THROUGHPUT_FILE_MAX + 1); // and its terminator
    if (!buf) return cascade_fail(err, CASCADE_ENOMEM, "out of memory reading %s", path);
    size_t len;
    int r = read_stoppable(path, buf, SWEEP_THROUGHPUT_FILE_MAX, &len);
    buf[len] = 0;
    cascade_status s = CASCADE_OK;
    if (r == READ_STOPPED) s = cascade_fail(err, CASCADE_EINTERRUPTED, "stopped while reading --throughput-from %s", path);
    else if (r == READ_UNOPENED)
        s = cascade_fail(err, CASCADE_EIO, "--throughput-from: cannot open %s: %s", path, strerror(errno));
    else if (r == READ_FAILED)
        s = cascade_fail(err, CASCADE_EIO, "--throughput-from: cannot read %s: %s", path, strerror(errno));
    else if (r == READ_MORE) s = cascade_fail(err, CASCADE_EFORMAT, "--throughput-from: %s is larger than %d MiB", path,
                                                SWEEP_THROUGHPUT_FILE_MAX >> 20);
    else if (strlen(buf) != len) s = cascade_fail(err, CASCADE_EFORMAT, "--throughput-from: %s is not text", path);
    if (s) free(buf);
    else *text = buf;
    return s;
}

cascade_status apply_throughput_file(const char *path, model_pass *passes, int n_passes, cascade_error *err) {
    char *text;
    cascade_status s = read_throughput_file(path, &text, err);
    if (!s) s = apply_throughput_text(path, text, passes, n_passes, err);
    free(text);
    return s;
}

cascade_status apply_throughput_text(const char *path, const char *text, model_pass *passes, int n_passes,
                                     cascade_error *err) {
    char what[1100];
    snprintf(what, sizeof what, "--throughput-from %s", path);
    const char *start = text + strspn(text, " \t\r\n");
    cascade_status s;
    if (*start == '{') s = apply_bench_json(what, start, passes, n_passes, NULL, err);
    else s = apply_items(what, text, passes, n_passes, NULL, 1, err);
    return s == CASCADE_EINVAL ? CASCADE_EFORMAT : s;
}

cascade_status parse_name_list(const char *flag, const char *text, char out[][MODEL_NAME_CAP], int cap, int *count,
                               cascade_error *err) {
    *count = 0;
    const char *p = text;
    for (;;) {
        size_t len = strcspn(p, ",");
        if (len == 0) return cascade_fail(err, CASCADE_EINVAL, "%s: empty name in '%s'", flag, text);
        if (len >= MODEL_NAME_CAP)
            return cascade_fail(err, CASCADE_EINVAL, "%s: name %.40s... is longer than %d bytes", flag, p,
                                MODEL_NAME_CAP - 1);
        if (*count >= cap) return cascade_fail(err, CASCADE_EINVAL, "%s: more than %d models", flag, cap);
        memcpy(out[*count], p, len);
        out[*count][len] = 0;
        for (int i = 0; i < *count; i++)
            if (!strcmp(out[i], out[*count]))
                return cascade_fail(err, CASCADE_EINVAL, "%s: '%s' is listed twice", flag, out[i]);
        (*count)++;
        if (!p[len]) return CASCADE_OK;
        p += len + 1;
    }
}

// ---- one model alone over the data ------------------------------------------

// A pass's progress on stderr (unless --quiet), once its timed run starts:
// redrawn in place every 0.25 s on a terminal, a line every 30 s elsewhere
// (a log; a pass of the expensive model over 10,000 images takes minutes on a CPU).
typedef struct {
    volatile int *stop;
    const pass_settings *ps;
    const char *name;
    int64_t n;
    int live, tty, drawn;  // live: the timed run (not the warm-up chunk)
    double start, last;
} pass_progress;

static void pass_draw(pass_progress *pp, int64_t done) {
    double t = now_seconds(), rate = t > pp->start ? done / (t - pp->start) : 0;
    if (t - pp->last < (pp->tty ? 0.25 : 30.0)) return;
    pp->last = t;
    pp->drawn |= status_line(0, "%scascade %s: %s alone: %lld/%lld images (%.0f%%), %.0f img/s, ETA %.0fs%s",
                             pp->tty ? "\r" : "", pp->ps->command, pp->name, (long long)done, (long long)pp->n,
                             pp->n ? 100.0 * done / pp->n : 100.0, rate, rate > 0 ? (pp->n - done) / rate : 0,
                             pp->tty ? "\033[K" : "\n");
}

static int pass_stop(void *ctx, int64_t done, int64_t screened, const cascade_results *results) {
    (void)screened, (void)results;
    pass_progress *pp = ctx;
    if (pp->live && !pp->ps->quiet) pass_draw(pp, done);
    return pp->stop && *pp->stop;
}

void model_pass_free(model_pass *pass) {
    free(pass->prediction), free(pass->confidence);
    pass->prediction = NULL, pass->confidence = NULL;
}

cascade_status model_pass_run(model_pass *pass, const char *name, const model *m, const cifar_file *data,
                              const uint32_t *order, int64_t n, pass_settings *ps, cascade_error *err) {
    memset(pass, 0, sizeof *pass);
    snprintf(pass->name, sizeof pass->name, "%s", name);
    snprintf(pass->arch, sizeof pass->arch, "%s", m->arch);
    pass->num_classes = m->num_classes;
    cascade_backend be = {0};
    char notice[512];
    cascade_status s = backend_open(&be, ps->device, m, NULL, ps->chunk, 0, notice, sizeof notice, err);
    if (s) return s;
    if (notice[0] && !ps->notice_shown) status_line(2.0, "%s\n", notice), ps->notice_shown = 1;
    snprintf(ps->backend, sizeof ps->backend, "%s", be.name);
    pass->prediction = malloc((size_t)n * sizeof(int32_t));
    pass->confidence = malloc((size_t)n * sizeof(float));
    uint8_t *deferred = malloc((size_t)n);
    if (!pass->prediction || !pass->confidence || !deferred)
        s = cascade_fail(err, CASCADE_ENOMEM, "out of memory for %lld results", (long long)n);
    cascade_results results = {pass->prediction, pass->confidence, deferred};
    image_source src = {data, order};
    pass_progress pp = {.stop = ps->stop, .ps = ps, .name = name, .n = n, .tty = isatty(STDERR_FILENO)};
    cascade_job job = {&be, 0.0f, 0, n, image_source_fill, &src, pass_stop, &pp, ps->stop};
    cascade_summary sum;
    if (!s && strncmp(be.name, "cpu", 3)) { // an untimed warm-up chunk: plans, graphs, clocks
        cascade_job warm = job;
        warm.total = n < be.chunk_capacity ? n : be.chunk_capacity;
        s = cascade_run(&warm, &results, &sum, err);
    }
    double start = now_seconds();
    pp.live = 1, pp.start = pp.last = start;
    if (!s) s = cascade_run(&job, &results, &sum, err);
    double seconds = now_seconds() - start;
    const char *erase = pp.drawn && pp.tty ? "\r\033[K" : ""; // the pass's own line (or its error) takes the place
    if (!s && !sum.complete) s = cascade_fail(err, CASCADE_EINTERRUPTED, "interrupted");
    free(deferred);
    backend_close(&be);
    if (s) {
        if (*erase) status_line(0, "%s", erase);
        model_pass_free(pass);
        cascade_error_prefix(err, name);
        return s;
    }
    pass->seconds = seconds;
    pass->images_per_s = seconds > 0 ? (double)n / seconds : 0;
    if (!ps->quiet)
        status_line(2.0, "%scascade %s: %s alone on %lld images: %.1f images/s (%.2f s, %s)\n", erase, ps->command,
                    name, (long long)n, pass->images_per_s, seconds, ps->backend);
    return CASCADE_OK;
}

// ---- a run of records -------------------------------------------------------

cascade_status data_range_open(data_range *d, const char *path, const char *flag, const char *range,
                               int default_first, int default_end, long long limit, cascade_error *err) {
    memset(d, 0, sizeof *d);
    snprintf(d->path, sizeof d->path, "%s", path);
    long long first = default_first, end = default_end;
    cascade_status s = range ? parse_record_range(flag, range, &first, &end, err) : CASCADE_OK;
    if (!s) s = cifar_open(&d->file, path, err);
    if (s) return s;
    if (end < 0) end = d->file.count;
    if (first >= d->file.count || end > d->file.count) {
        int count = d->file.count;
        cifar_close(&d->file);
        if (!range) // the command's own default split: a file too short, not a bad option
            return cascade_fail(err, CASCADE_EFORMAT, "%s holds %d records, too few for the default %s %lld:%lld",
                                path, count, flag, first, end);
        return cascade_fail(err, CASCADE_EINVAL, "%s: records %lld..%lld are not all in %s (%d records)", flag, first,
                            end - 1, path, count);
    }
    d->first = (int)first;
    d->n = end - first;
    if (limit > 0 && limit < d->n) d->n = limit;
    if ((s = cifar_check_labels(&d->file, d->first, (int)d->n, err))) {
        cifar_close(&d->file);
        cascade_error_prefix(err, path);
        return s;
    }
    d->order = malloc((size_t)d->n * sizeof *d->order);
    d->labels = malloc((size_t)d->n);
    if (!d->order || !d->labels) {
        data_range_close(d);
        return cascade_fail(err, CASCADE_ENOMEM, "out of memory for %lld images", (long long)d->n);
    }
    for (int64_t i = 0; i < d->n; i++) {
        d->order[i] = (uint32_t)(first + i);
        d->labels[i] = (uint8_t)cifar_label(&d->file, (int)(first + i));
    }
    return CASCADE_OK;
}

void data_range_close(data_range *d) {
    cifar_close(&d->file);
    free(d->order), free(d->labels);
    d->order = NULL, d->labels = NULL;
}

cascade_status sweep_models_load(sweep_models *ms, char names[][MODEL_NAME_CAP], int n_cheap, const char *full_name,
                                 cascade_error *err) {
    memset(ms, 0, sizeof *ms);
    ms->n_cheap = n_cheap;
    cascade_status s = CASCADE_OK;
    for (; ms->n_loaded < n_cheap && !s; ms->n_loaded += !s)
        s = load_named_model(&ms->cheap[ms->n_loaded], names[ms->n_loaded], err);
    if (!s && !(s = load_named_model(&ms->full, full_name, err))) ms->n_loaded++;
    for (int i = 0; i < n_cheap && !s; i++) s = model_check_pair(&ms->cheap[i], names[i], &ms->full, full_name, err);
    if (s) sweep_models_free(ms);
    return s;
}

void sweep_models_free(sweep_models *ms) {
    for (int i = 0; i < ms->n_loaded && i < ms->n_cheap; i++) model_free(&ms->cheap[i]);
    if (ms->n_loaded > ms->n_cheap) model_free(&ms->full);
    ms->n_loaded = 0;
}

cascade_status sweep_run_passes(model_pass *cheap, char names[][MODEL_NAME_CAP], int n_cheap, model_pass *full,
                                const char *full_name, const sweep_models *ms, const data_range *d,
                                pass_settings *ps, const throughput_source *given, cascade_error *err) {
    model_pass all[SWEEP_MAX_MODELS + 1];
    int done = 0;
    cascade_status s = CASCADE_OK;
    for (; done <= n_cheap && !s; done++)
        s = model_pass_run(&all[done], done < n_cheap ? names[done] : full_name,
                           done < n_cheap ? &ms->cheap[done] : &ms->full, &d->file, d->order, d->n, ps, err);
    if (s) done--;
    if (!s && given->file_text) s = apply_throughput_text(given->file, given->file_text, all, n_cheap + 1, err);
    if (!s && given->list) s = apply_throughputs("--throughputs", given->list, all, n_cheap + 1, err);
    if (s) {
        for (int i = 0; i < done; i++) model_pass_free(&all[i]);
        return s;
    }
    memcpy(cheap, all, (size_t)n_cheap * sizeof *cheap);
    *full = all[n_cheap];
    return CASCADE_OK;
}

const char sweep_default_cheap[] = "lenet,alexnet_shallower,alexnet_shallow,alexnet";

// Whether the models a and b (zoo names or paths) are one file: by name, or
// by the file they resolve to (--full given as the zoo file's path).
static int same_model(const char *a, const char *b) {
    char pa[1024], pb[1024];
    cascade_error ignored;
    struct stat sa, sb;
    if (!strcmp(a, b)) return 1;
    if (assets_model_path(a, pa, sizeof pa, &ignored) || assets_model_path(b, pb, sizeof pb, &ignored)) return 0;
    return stat(pa, &sa) == 0 && stat(pb, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

cascade_status sweep_setup_prepare(sweep_setup *s, const sweep_setup_options *o, cascade_error *err) {
    s->opt = *o;
    cascade_status st = parse_name_list("--cheap", o->cheap, s->cheap_names, SWEEP_MAX_MODELS, &s->n_cheap, err);
    if (st) return st;
    for (int i = 0; o->cheap == sweep_default_cheap && i < s->n_cheap; i++)
        if (same_model(s->cheap_names[i], o->full)) { // (at most once: the list has no model twice)
            memmove(s->cheap_names[i], s->cheap_names[i + 1], (size_t)(s->n_cheap - i - 1) * sizeof s->cheap_names[i]);
            s->n_cheap--;
        }
    if (!strcmp(o->full, "none")) return cascade_fail(err, CASCADE_EINVAL, "--full: %s", o->needs_full);
    // one file under two names would be measured twice, and two rows would name one model
    for (int i = 0; i < s->n_cheap; i++) {
        if (same_model(s->cheap_names[i], o->full))
            return cascade_fail(err, CASCADE_EINVAL, "--cheap: '%s' is the --full model (%s); a model in front of "
                                "itself only repeats it", s->cheap_names[i], o->full);
        for (int j = 0; j < i; j++)
            if (same_model(s->cheap_names[i], s->cheap_names[j]))
                return cascade_fail(err, CASCADE_EINVAL, "--cheap: '%s' and '%s' are one file", s->cheap_names[j],
                                    s->cheap_names[i]);
    }
    st = parse_device(o->device, &s->device, err);
    s->thresholds = malloc(SWEEP_MAX_THRESHOLDS * sizeof(double));
    if (!s->thresholds) return cascade_fail(err, CASCADE_ENOMEM, "out of memory for the thresholds");
    if (!st) st = parse_float_list("--thresholds", o->thresholds, 0, 1, s->thresholds, SWEEP_MAX_THRESHOLDS,
                                   &s->n_thresholds, err);
    if (!st) st = check_thresholds("--thresholds", s->thresholds, s->n_thresholds, err);
    if (!st && o->throughputs) st = apply_throughputs("--throughputs", o->throughputs, NULL, 0, err);
    if (!st && o->throughput_from) st = read_throughput_file(o->throughput_from, &s->throughput_text, err);
    if (!st && o->throughput_from) st = apply_throughput_text(o->throughput_from, s->throughput_text, NULL, 0, err);
    if (!st) st = sweep_models_load(&s->models, s->cheap_names, s->n_cheap, o->full, err);
    if (!st && (o->throughputs || o->throughput_from)) st = check_throughput_names(s, err);
    return st;
}

cascade_status sweep_setup_run(sweep_setup *s, const data_range *d, pass_settings *ps, sweep_input *in,
                               cascade_error *err) {
    throughput_source given = {s->opt.throughput_from, s->throughput_text, s->opt.throughputs};
    cascade_status st = sweep_run_passes(s->cheap, s->cheap_names, s->n_cheap, &s->full, s->opt.full, &s->models, d, ps,
                                         &given, err);
    if (st) return st;
    s->have_passes = 1;
    *in = (sweep_input){d->n, d->labels, s->cheap, s->n_cheap, &s->full, s->thresholds, s->n_thresholds};
    return CASCADE_OK;
}

void sweep_setup_free(sweep_setup *s) {
    if (s->have_passes) {
        for (int i = 0; i < s->n_cheap; i++) model_pass_free(&s->cheap[i]);
        model_pass_free(&s->full);
    }
    s->have_passes = 0;
    sweep_models_free(&s->models);
    free(s->thresholds);
    s->thresholds = NULL;
    free(s->throughput_text);
    s->throughput_text = NULL;
}
