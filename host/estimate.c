// estimate.c: Wilson intervals and running counts (see estimate.h).
#include "estimate.h"
#include <math.h>
#include <string.h>

#define Z95 1.959963984540054

interval wilson_interval(int64_t k, int64_t n, int64_t population) {
    if (n <= 0) return (interval){0.0, 1.0};
    double p = (double)k / (double)n;
    if (population > 0 && n >= population) return (interval){p, p}; // the whole population: exact
    double n_eff = (double)n;
    if (population > 1) n_eff = (double)n * (double)(population - 1) / (double)(population - n);
    double z2 = Z95 * Z95;
    double centre = (p + z2 / (2 * n_eff)) / (1 + z2 / n_eff);
    double half = Z95 * sqrt(p * (1 - p) / n_eff + z2 / (4 * n_eff * n_eff)) / (1 + z2 / n_eff);
    interval r = {centre - half, centre + half};
    if (r.low < 0) r.low = 0;
    if (r.high > 1) r.high = 1;
    return r;
}

void estimate_init(running_estimate *e, int64_t population, int num_classes) {
    memset(e, 0, sizeof *e);
    e->population = population;
    e->num_classes = num_classes < ESTIMATE_CLASSES ? num_classes : ESTIMATE_CLASSES;
}

void estimate_add(running_estimate *e, int prediction, int deferred, int label) {
    e->seen++;
    e->deferred += deferred != 0;
    if (prediction >= 0 && prediction < e->num_classes) e->predicted[prediction]++;
    if (label >= 0) {
        e->labelled++;
        e->correct += prediction == label;
    }
}
