// estimate.h: online aggregation of the cascade's results.
// Images are processed in a uniform random order, so every prefix is a
// simple random sample without replacement of the job: each running
// proportion gets a 95% Wilson interval with the finite-population
// correction (width 0 once the whole population is seen).
#pragma once
#include <stdint.h>

#define ESTIMATE_CLASSES 16

typedef struct {
    double low, high;
} interval;

typedef struct {
    int64_t population;  // images in the job (N)
    int64_t seen;        // n
    int64_t deferred;
    int64_t labelled, correct;
    int64_t predicted[ESTIMATE_CLASSES];
    int num_classes;
} running_estimate;

#ifdef __cplusplus
extern "C" {
#endif

// 95% Wilson score interval for k successes in n draws from a population of
// N (N <= 0: infinite). Uses the effective sample size n (N-1)/(N-n).
interval wilson_interval(int64_t k, int64_t n, int64_t population);

void estimate_init(running_estimate *e, int64_t population, int num_classes);
// Adds one processed image (label < 0: unknown).
void estimate_add(running_estimate *e, int prediction, int deferred, int label);

#ifdef __cplusplus
}
#endif
