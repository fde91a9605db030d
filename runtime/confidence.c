// confidence.c: softmax confidence and argmax (see confidence.h).
#include "confidence.h"
#include <math.h>

void confidence_from_logits(const float *logits, int n, int classes, int32_t *prediction, float *confidence) {
    for (int i = 0; i < n; i++) {
        const float *l = logits + (long)i * classes;
        int best = 0;
        for (int k = 1; k < classes; k++)
            if (l[k] > l[best]) best = k;
        float sum = 0;
        for (int k = 0; k < classes; k++) sum += expf(l[k] - l[best]);
        prediction[i] = best;
        confidence[i] = sum >= 1.0f ? 1.0f / sum : 0.0f; // the max's own term is 1: less is NaN
    }
}
