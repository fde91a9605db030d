// fuzz_options.c: libFuzzer target for the command-line parsers (host/options.c)
// and the option table of `cascade run` (parse_run, taken from host/cmd_run.c
// itself; no model is ever loaded). Input: one mode byte, then arguments
// separated by NUL bytes. Modes: 0 `cascade run`'s table; 1 a table with one
// option of every kind and extreme ranges; 2 parse_float_list over [0, 1];
// 3 parse_float_list over [-1e300, 1e300]. A parse that succeeds must leave
// values inside their ranges; one that fails must leave one clean line.
#include "fuzz_util.h"
#include "host/cmd_run.c" // parse_run and run_options are static there
#include <math.h>

#define MAX_ARGS 64

static void check_run_options(const run_options *o) {
    FUZZ_ASSERT(o->threshold >= 0 && o->threshold <= 1, "threshold %g", o->threshold);
    FUZZ_ASSERT(o->limit == 0 || (o->limit >= 1 && o->limit <= 0x7fffffff), "limit %lld", o->limit);
    FUZZ_ASSERT(o->batch == 0 || (o->batch >= 1 && o->batch <= 1 << 20), "batch %lld", o->batch);
    FUZZ_ASSERT(o->chunk == 0 || (o->chunk >= 1 && o->chunk <= 1 << 22), "chunk %lld", o->chunk);
    FUZZ_ASSERT(o->seed >= 0, "seed %lld", o->seed);
    FUZZ_ASSERT(!strcmp(o->order, "random") || !strcmp(o->order, "file"), "order '%s'", o->order);
    FUZZ_ASSERT(o->time_budget == 0 || (o->time_budget >= 1e-3 && o->time_budget <= 1e9), "budget %g", o->time_budget);
    FUZZ_ASSERT(!o->range || (o->range_first >= 0 && o->range_first < o->range_end && o->range_end <= 0x7fffffff),
                "range %lld:%lld", o->range_first, o->range_end);
    const char *strings[] = {o->cheap, o->full, o->data, o->output, o->json, o->progress_json, o->watch_class, o->device};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
        FUZZ_ASSERT(!strings[i] || *strings[i], "empty string option %zu", i);
}

static void check_list(const double *v, int count, int cap, double lo, double hi) {
    FUZZ_ASSERT(count >= 1 && count <= cap, "count %d", count);
    for (int i = 0; i < count; i++)
        FUZZ_ASSERT(isfinite(v[i]) && v[i] >= lo - 1e-9 && v[i] <= hi + 1e-9, "value %d = %g outside [%g, %g]", i, v[i], lo, hi);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 4096) return 0;
    int mode = data[0] & 3;
    char text[4097];
    memcpy(text, data + 1, size - 1);
    text[size - 1] = 0;
    char *argv[MAX_ARGS + 1];
    int argc = 0;
    for (size_t i = 0; i < size - 1 && argc < MAX_ARGS; i += strlen(text + i) + 1) argv[argc++] = text + i;
    argv[argc] = NULL;
    cascade_error err = {{0}};
    int help = 0;
    cascade_status s;
    if (mode == 0) {
        run_options o;
        s = parse_run(argc, argv, &o, &help, &err);
        if (!s && !help) check_run_options(&o);
    } else if (mode == 1) {
        const char *str = NULL, *list = NULL;
        long long i1 = 0, i2 = 0;
        double f1 = 0, f2 = 0;
        int flag = 0;
        const option_spec specs[] = {{"--s", OPT_STRING, &str, 0, 0},        {"--i", OPT_INT, &i1, -9e18, 9e18},
                                     {"--n", OPT_INT, &i2, 1, 100},          {"--f", OPT_FLOAT, &f1, -1e308, 1e308},
                                     {"--p", OPT_FLOAT, &f2, 0, 1},          {"--flag", OPT_FLAG, &flag, 0, 0},
                                     {"--l", OPT_LIST, &list, 0, 0},         {NULL, 0, NULL, 0, 0}};
        s = parse_options("fuzz", argc, argv, specs, &help, &err);
        if (!s && !help) {
            FUZZ_ASSERT(i2 == 0 || (i2 >= 1 && i2 <= 100), "--n %lld", i2);
            FUZZ_ASSERT(isfinite(f1) && f2 >= 0 && f2 <= 1, "--f %g --p %g", f1, f2);
            FUZZ_ASSERT(!str || *str, "empty --s");
            FUZZ_ASSERT(!list || *list, "empty --l");
            for (const option_spec *o = specs; o->name; o++) { // a valued option once at most (a value is no "--x")
                int given = 0;
                size_t n = strlen(o->name);
                for (int k = 0; k < argc; k++) given += !strncmp(argv[k], o->name, n) && (!argv[k][n] || argv[k][n] == '=');
                FUZZ_ASSERT(o->kind == OPT_FLAG || given <= 1, "%s given %d times, accepted", o->name, given);
            }
        }
    } else {
        double lo = mode == 2 ? 0 : -1e300, hi = mode == 2 ? 1 : 1e300, values[256];
        int count = 0;
        s = parse_float_list("--list", argc ? argv[0] : "", lo, hi, values, 256, &count, &err);
        if (!s) check_list(values, count, 256, lo, hi);
    }
    if (s) fuzz_check_message(&err);
    return 0;
}
