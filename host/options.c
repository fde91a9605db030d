// options.c: command-line parsing helpers (see options.h).
#include "options.h"
#include "../runtime/backend.h"
#include "../runtime/utf8.h"
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

cascade_status parse_int(const char *flag, const char *text, long long lo, long long hi, long long *out,
                         cascade_error *err) {
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (!*text || isspace((unsigned char)*text) || *end || (errno && errno != ERANGE)) // " 5" as "5 ": no number
        return cascade_fail(err, CASCADE_EINVAL, "%s: '%s' is not an integer", flag, text);
    if (errno == ERANGE) // a whole number, past what any option takes
        return cascade_fail(err, CASCADE_EINVAL, "%s: %s is outside [%lld, %lld]", flag, text, lo, hi);
    if (v < lo || v > hi) return cascade_fail(err, CASCADE_EINVAL, "%s: %lld is outside [%lld, %lld]", flag, v, lo, hi);
    *out = v;
    return CASCADE_OK;
}

cascade_status parse_float(const char *flag, const char *text, double lo, double hi, double *out,
                           cascade_error *err) {
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    int underflow = errno == ERANGE && fabs(v) <= 1.0; // 1e-310: a number, tiny (ERANGE is for overflow too)
    // decimal only, as the integers are (strtod reads 0x1p-1 as 0.5)
    if (!*text || isspace((unsigned char)*text) || *end || (errno && !underflow) || !isfinite(v) || strpbrk(text, "xX"))
        return cascade_fail(err, CASCADE_EINVAL, "%s: '%s' is not a number", flag, text);
    if (underflow && v == 0) // 1e-400 read as 0: a threshold of 0 was not what was written
        return cascade_fail(err, CASCADE_EINVAL, "%s: %s is too small for a double (it would read as 0)", flag, text);
    char low[NUMBER_TEXT_CAP], high[NUMBER_TEXT_CAP]; // (4194304 in full, not %g's 4.1943e+06)
    if (v < lo || v > hi)
        return cascade_fail(err, CASCADE_EINVAL, "%s: %s is outside [%s, %s]", flag, text, number_text(lo, low),
                            number_text(hi, high));
    *out = v == 0 ? 0.0 : v; // -0 is 0
    return CASCADE_OK;
}

const char *number_text(double v, char out[NUMBER_TEXT_CAP]) {
    for (int digits = 1; digits <= 17; digits++) {
        snprintf(out, NUMBER_TEXT_CAP, "%.*g", digits, v);
        if (strtod(out, NULL) == v) break;
    }
    return out;
}

int text_columns(const char *text) {
    int columns = 0;
    for (const char *s = text; *s; columns++) {
        int len = utf8_char_length(s);
        s += len ? len : 1; // (a byte that is no character: one column, as the terminal's U+FFFD)
    }
    return columns;
}

int column_width(int width, const char *text) {
    int n = text_columns(text);
    return n > width ? n : width;
}

int pad_width(int width, const char *text) { return width + (int)strlen(text) - text_columns(text); }

static cascade_status parse_range(const char *flag, const char *text, double lo, double hi, double *out, int cap,
                                  int *count, cascade_error *err) {
    char buf[128];
    if (strlen(text) >= sizeof buf) return cascade_fail(err, CASCADE_EINVAL, "%s: value too long", flag);
    strcpy(buf, text);
    char *a = buf, *b = strchr(a, ':'), *c;
    if (!b || !(c = strchr(b + 1, ':'))) return cascade_fail(err, CASCADE_EINVAL, "%s: range must be lo:hi:step", flag);
    *b++ = 0, *c++ = 0;
    double first, last, step;
    cascade_status s = parse_float(flag, a, lo, hi, &first, err);
    if (!s) s = parse_float(flag, b, lo, hi, &last, err);
    if (s) return s;
    char what[160];
    snprintf(what, sizeof what, "%s: the step of %s", flag, text); // (0 is a threshold, not a step)
    if ((s = parse_float(what, c, 1e-9, hi - lo + 1, &step, err))) return s;
    if (last < first) return cascade_fail(err, CASCADE_EINVAL, "%s: range end %s is below its start %s", flag, b, a);
    double values = floor((last - first) / step + 1e-9) + 1; // may be huge: compare before converting
    if (!(values <= cap)) return cascade_fail(err, CASCADE_EINVAL, "%s: range has %.0f values (at most %d)", flag, values, cap);
    long long n = (long long)values;
    for (long long i = 0; i < n; i++) out[i] = first + (double)i * step;
    // keep 0.5:0.99:0.01 free of 0.9900000001-style drift
    // (and within [first, last]: 0:1:1.0000000008 ends at 1, not 1.000000001)
    for (long long i = 0; i < n; i++)
        if (fabs(out[i]) < 1e9) out[i] = fmax(first, fmin(round(out[i] * 1e9) / 1e9, last));
    *count = (int)n;
    return CASCADE_OK;
}

cascade_status parse_float_list(const char *flag, const char *text, double lo, double hi, double *out, int cap,
                                int *count, cascade_error *err) {
    if (strchr(text, ':')) return parse_range(flag, text, lo, hi, out, cap, count, err);
    *count = 0;
    const char *p = text;
    for (;;) {
        size_t len = strcspn(p, ",");
        char item[64];
        if (len == 0 || len >= sizeof item) return cascade_fail(err, CASCADE_EINVAL, "%s: bad list '%s'", flag, text);
        memcpy(item, p, len);
        item[len] = 0;
        if (*count >= cap) return cascade_fail(err, CASCADE_EINVAL, "%s: more than %d values", flag, cap);
        cascade_status s = parse_float(flag, item, lo, hi, &out[*count], err);
        if (s) return s;
        for (int k = 0; k < *count; k++) // a point measured or swept twice is a slip, not a wish
            if (out[k] == out[*count]) return cascade_fail(err, CASCADE_EINVAL, "%s: %s is listed twice", flag, item);
        (*count)++;
        if (!p[len]) return CASCADE_OK;
        p += len + 1;
    }
}

cascade_status check_thresholds(const char *flag, const double *values, int n, cascade_error *err) {
    char a[NUMBER_TEXT_CAP], b[NUMBER_TEXT_CAP];
    for (int i = 0; i < n; i++) {
        float t = cascade_threshold(values[i]);
        if (values[i] < 1.0 && t >= 1.0f)
            return cascade_fail(err, CASCADE_EINVAL, "%s: %s is closer to 1 than a float32 confidence below 1 can be "
                                "(the largest is 0.99999994): 1 defers every image", flag, number_text(values[i], a));
        for (int k = 0; k < i; k++)
            if (cascade_threshold(values[k]) == t)
                return cascade_fail(err, CASCADE_EINVAL, "%s: %s and %s are one threshold at the float32 precision of "
                                    "the confidences", flag, number_text(values[k], a), number_text(values[i], b));
    }
    return CASCADE_OK;
}

cascade_status parse_record_range(const char *flag, const char *text, long long *first, long long *end,
                                  cascade_error *err) {
    char buf[64], *colon;
    snprintf(buf, sizeof buf, "%s", text);
    if (strlen(text) >= sizeof buf || !(colon = strchr(buf, ':')))
        return cascade_fail(err, CASCADE_EINVAL, "%s: '%s' is not FIRST:END", flag, text);
    *colon = 0;
    cascade_status s = parse_int(flag, buf, 0, 0x7fffffff, first, err);
    if (!s) s = parse_int(flag, colon + 1, 1, 0x7fffffff, end, err);
    if (s) return s;
    if (*end <= *first)
        return cascade_fail(err, CASCADE_EINVAL, "%s: end %lld is not above first %lld", flag, *end, *first);
    return CASCADE_OK;
}

cascade_status check_list_unique(const char *flag, const char *text, cascade_error *err) {
    for (const char *p = text; *p;) {
        size_t len = strcspn(p, ",");
        for (const char *q = p + len + (p[len] != 0); *q;) {
            size_t qlen = strcspn(q, ",");
            if (qlen == len && !strncmp(p, q, len))
                return cascade_fail(err, CASCADE_EINVAL, "%s: '%.*s' is listed twice", flag, (int)len, p);
            q += qlen + (q[qlen] != 0);
        }
        p += len + (p[len] != 0);
    }
    return CASCADE_OK;
}

int option_value(int argc, char **argv, int *i, const char *name, const char **value, cascade_error *err) {
    const char *arg = argv[*i];
    size_t n = strlen(name);
    if (strncmp(arg, name, n)) return 0;
    if (arg[n] == '=') { *value = arg + n + 1; return 1; }
    if (arg[n]) return 0;
    if (*i + 1 >= argc) { cascade_fail(err, CASCADE_EINVAL, "%s needs a value", name); return -1; }
    const char *next = argv[*i + 1];
    if (next[0] == '-' && next[1] == '-' && next[2]) { // "--output --quiet": a value forgotten, not a file "--quiet"
        cascade_fail(err, CASCADE_EINVAL, "%s needs a value, not the option %s (a value that starts with -- is "
                     "written %s=%s)", name, next, name, next);
        return -1;
    }
    *value = argv[++*i];
    return 1;
}

static cascade_status apply_option(const option_spec *o, const char *v, cascade_error *err) {
    long long n;
    cascade_status s = CASCADE_OK;
    switch (o->kind) {
    case OPT_STRING:
    case OPT_LIST:
        if (!*v) return cascade_fail(err, CASCADE_EINVAL, "%s: empty value", o->name);
        *(const char **)o->target = v;
        break;
    case OPT_INT:
        s = parse_int(o->name, v, (long long)o->lo, (long long)o->hi, &n, err);
        if (!s) *(long long *)o->target = n;
        break;
    case OPT_FLOAT: s = parse_float(o->name, v, o->lo, o->hi, (double *)o->target, err); break;
    case OPT_FLAG: *(int *)o->target = 1; break;
    }
    return s;
}

// An option with a value given twice: refused, as the last one would silently
// replace the first (--data a.bin --data b.bin would read b.bin alone). A flag
// twice (--quiet --quiet) loses nothing.
static cascade_status repeated_option(const option_spec *o, const char *first, const char *second, cascade_error *err) {
    if (o->kind == OPT_LIST)
        return cascade_fail(err, CASCADE_EINVAL, "%s is given twice ('%.200s', then '%.200s'): a list is one value, "
                            "comma-separated (%s %.200s,%.200s)", o->name, first, second, o->name, first, second);
    const char *why = !strcmp(o->name, "--data") ? ": cascade reads one file (cat the files to join them)"
                      : ": give it once";
    return cascade_fail(err, CASCADE_EINVAL, "%s is given twice ('%.200s', then '%.200s')%s", o->name, first, second,
                        why);
}

cascade_status parse_options(const char *command, int argc, char **argv, const option_spec *specs, int *help,
                             cascade_error *err) {
    *help = 0;
    const char *given[OPTION_SPECS_MAX] = {0}; // each valued option's value once given
    int n_specs = 0;
    while (specs[n_specs].name) n_specs++;
    if (n_specs > OPTION_SPECS_MAX) return cascade_fail(err, CASCADE_EINVAL, "internal: %d options", n_specs);
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { *help = 1; return CASCADE_OK; }
        const option_spec *o = specs;
        const char *value = NULL;
        int matched = 0;
        for (; o->name && !matched; o++) {
            size_t n = strlen(o->name);
            if (o->kind == OPT_FLAG && !strncmp(argv[i], o->name, n) && argv[i][n] == '=')
                return cascade_fail(err, CASCADE_EINVAL, "%s takes no value ('%s')", o->name, argv[i]);
            if (o->kind == OPT_FLAG) matched = !strcmp(argv[i], o->name);
            else if ((matched = option_value(argc, argv, &i, o->name, &value, err)) < 0) return CASCADE_EINVAL;
            if (matched) break;
        }
        if (!matched)
            return cascade_fail(err, CASCADE_EINVAL, "unknown option '%s' (see cascade %s --help)",
                                argv[i], command);
        const char **seen = &given[o - specs];
        if (*seen) return repeated_option(o, *seen, value, err);
        if (o->kind != OPT_FLAG) *seen = value;
        cascade_status s = apply_option(o, value, err);
        if (s) return s;
    }
    return CASCADE_OK;
}
