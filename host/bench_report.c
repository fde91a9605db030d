// bench_report.c: the table and the JSON of `cascade bench`.
#include "bench.h"
#include "version.h"
#include "options.h" // number_text
#include "sweep.h" // json_string

// The CPU's sgemm rate, measured at the bench's start and end: figures in
// between, and their share of sgemm, are suspect when the two differ. (0:
// not measured, stopped early or no memory for its matrices.)
static void print_sgemm(const bench_report *r, FILE *out) {
    double lo = r->sgemm_start_gflops, hi = r->sgemm_end_gflops;
    fprintf(out, "sgemm     %.1f GFLOP/s (OpenBLAS, 2048^3, same run", r->sgemm_gflops);
    if (lo > 0 && hi > 0) fprintf(out, ": %.1f at the start, %.1f at the end", lo, hi);
    fprintf(out, ")\n");
    if (lo > 0 && hi > 0 && (hi > 1.2 * lo || lo > 1.2 * hi))
        fprintf(out, "          the two differ by over 20%%: another load on the cores during the bench;"
                     " its figures may be low\n");
}

static const char *pair_name(const cascade_figure *f, char *name, size_t cap) {
    snprintf(name, cap, "%s -> %s", f->cheap, f->full);
    return name;
}

void bench_print(const bench_report *r, FILE *out) {
    fprintf(out, "device    %s\nversions  %s\n", r->backend, r->versions);
    fprintf(out, "images    %lld per run, median of %d runs after %d warm-up", (long long)r->images, r->runs, r->warmup);
    if (r->warmup && r->warmup_images < r->images) fprintf(out, " (%lld images each)", (long long)r->warmup_images);
    fprintf(out, "; %s replicated in order --seed %llu\n", r->data, (unsigned long long)r->seed);
    if (!r->complete) fprintf(out, "stopped   early on request: the figures measured before it\n");
    if (r->seconds > 0)
        fprintf(out, "time      %.1f s in all, %.1f s of it opening backends"
                     " (building the networks; on a GPU, timing cuDNN plans)\n", r->seconds, r->build_seconds);
    if (r->sgemm_gflops > 0) print_sgemm(r, out);
    if (r->upload_pinned_gbps > 0)
        fprintf(out, "upload    host->device %.1f GB/s pinned, %.1f GB/s from the bench images: at most %.1fM images/s\n",
                r->upload_pinned_gbps, r->upload_data_gbps, r->upload_data_gbps * 1e9 / 3072 / 1e6);
    if (r->n_alone) {
        int width = 18;
        for (int i = 0; i < r->n_alone; i++) width = column_width(width, r->alone[i].model);
        fprintf(out, "\n%-*s %7s %13s %13s %13s %9s %8s %8s", width, "model alone", "batch", "img/s median", "min", "max",
                "GFLOP/s", "acc", "build s");
        fprintf(out, r->sgemm_gflops > 0 ? " %9s\n" : "\n", "of sgemm");
        for (int i = 0; i < r->n_alone; i++) {
            const alone_figure *f = &r->alone[i];
            fprintf(out, "%-*s %7d %13.0f %13.0f %13.0f %9.1f %8.4f %8.1f", pad_width(width, f->model), f->model,
                    f->batch, f->rate.median,
                    f->rate.min, f->rate.max, f->gflops, f->accuracy, f->build_seconds);
            if (r->sgemm_gflops > 0) fprintf(out, " %8.0f%%", 100.0 * f->gflops / r->sgemm_gflops);
            fprintf(out, "\n");
        }
    }
    if (r->n_cascades) {
        int width = 30;
        char name[2 * MODEL_NAME_CAP + 8]; // whole: two long paths cut alike would read as one pair
        for (int i = 0; i < r->n_cascades; i++)
            width = column_width(width, pair_name(&r->cascades[i], name, sizeof name));
        fprintf(out, "\n%-*s %6s %12s %12s %12s %8s %8s %12s %6s %8s\n", width, "cascade", "thr",
                "img/s median", "min", "max", "deferred", "acc", "ideal img/s", "eff", "build s");
        for (int i = 0; i < r->n_cascades; i++) {
            const cascade_figure *f = &r->cascades[i];
            pair_name(f, name, sizeof name);
            char ideal[32] = "-", eff[16] = "-"; // "-": a model of the pair not measured alone
            if (f->ideal > 0) snprintf(ideal, sizeof ideal, "%.0f", f->ideal), snprintf(eff, sizeof eff, "%.3f", f->efficiency);
            char thr[NUMBER_TEXT_CAP];
            fprintf(out, "%-*s %6s %12.0f %12.0f %12.0f %8.4f %8.4f %12s %6s %8.1f\n", pad_width(width, name), name,
                    number_text(f->threshold, thr),
                    f->rate.median, f->rate.min, f->rate.max, f->deferred, f->accuracy, ideal, eff, f->build_seconds);
        }
        fprintf(out, "(ideal = 1/(1/T_cheap + p/T_full) from this run's alone medians; eff = median / ideal;\n"
                     " build s = opening the pair's backend, once for all its thresholds)\n");
    }
}

static void json_rate(FILE *out, const rate_stats *s) {
    fprintf(out, "\"images_per_s\": {\"median\": %.1f, \"min\": %.1f, \"max\": %.1f, \"runs\": [", s->median, s->min, s->max);
    for (int i = 0; i < s->n; i++) fprintf(out, "%s%.1f", i ? ", " : "", s->each[i]);
    fprintf(out, "]}");
}

void bench_write_json(const bench_report *r, FILE *out) {
    fprintf(out, "{\n  \"device\": ");
    json_string(out, r->backend); // names from the driver and the libraries: escaped
    fprintf(out, ",\n  \"versions\": ");
    json_string(out, r->versions);
    fprintf(out, ",\n  \"version\": ");
    json_string(out, cascade_version());
    fprintf(out, ",\n  \"data\": ");
    json_string(out, r->data);
    char rates[5][32]; // null where not measured: the GPU's sgemm, the CPU's uploads, a stopped run's closing sgemm
    const double measured[5] = {r->sgemm_gflops, r->sgemm_start_gflops, r->sgemm_end_gflops, r->upload_pinned_gbps,
                                r->upload_data_gbps};
    for (int i = 0; i < 5; i++)
        if (measured[i] > 0) snprintf(rates[i], sizeof rates[i], "%.2f", measured[i]);
        else snprintf(rates[i], sizeof rates[i], "null");
    fprintf(out, ",\n  \"complete\": %s,\n  \"images\": %lld,\n  \"runs\": %d,\n  \"warmup\": %d,\n  \"warmup_images\": %lld,\n"
                 "  \"seed\": %llu,\n  \"sgemm_gflops\": %s,\n  \"sgemm_start_gflops\": %s,\n"
                 "  \"sgemm_end_gflops\": %s,\n  \"upload_pinned_gbps\": %s,\n  \"upload_data_gbps\": %s,\n"
                 "  \"seconds\": %.2f,\n  \"build_seconds\": %.2f,\n  \"alone\": [",
            r->complete ? "true" : "false", (long long)r->images, r->runs, r->warmup, (long long)r->warmup_images,
            (unsigned long long)r->seed, rates[0], rates[1], rates[2], rates[3], rates[4], r->seconds, r->build_seconds);
    for (int i = 0; i < r->n_alone; i++) {
        const alone_figure *f = &r->alone[i];
        fprintf(out, "%s\n    {\"model\": ", i ? "," : "");
        json_string(out, f->model); // a path may hold any character
        fprintf(out, ", \"batch\": %d, ", f->batch);
        json_rate(out, &f->rate);
        fprintf(out, ", \"gflops\": %.2f, \"accuracy\": %.6f, \"build_seconds\": %.3f}", f->gflops, f->accuracy,
                f->build_seconds);
    }
    fprintf(out, "\n  ],\n  \"cascades\": [");
    for (int i = 0; i < r->n_cascades; i++) {
        const cascade_figure *f = &r->cascades[i];
        fprintf(out, "%s\n    {\"cheap\": ", i ? "," : "");
        json_string(out, f->cheap);
        fprintf(out, ", \"full\": ");
        json_string(out, f->full);
        char thr[NUMBER_TEXT_CAP];
        fprintf(out, ", \"threshold\": %s, \"chunk\": %d, \"batch\": %d, ", number_text(f->threshold, thr), f->chunk, f->batch);
        json_rate(out, &f->rate);
        fprintf(out, ", \"deferred\": %.6f, \"accuracy\": %.6f, ", f->deferred, f->accuracy);
        if (f->ideal > 0) // null: a model of the pair not measured alone
            fprintf(out, "\"ideal_images_per_s\": %.1f, \"efficiency\": %.4f, ", f->ideal, f->efficiency);
        else fprintf(out, "\"ideal_images_per_s\": null, \"efficiency\": null, ");
        fprintf(out, "\"build_seconds\": %.3f}", f->build_seconds);
    }
    fprintf(out, "\n  ]\n}\n");
}
