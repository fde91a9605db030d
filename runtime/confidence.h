// confidence.h: softmax confidence and argmax of logits, on the CPU.
// The CPU twin of kernels/confidence.cu: confidence = max softmax
// probability = 1 / sum_k exp(l_k - l_max); ties go to the lowest class.
// Logits that are not all finite (an fp16 network that overflowed: NaN, or
// +inf, where inf - inf is NaN) give confidence 0, so the image is deferred
// at any threshold above 0 rather than kept with a meaningless class.
#pragma once
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

void confidence_from_logits(const float *logits, int n, int classes, int32_t *prediction, float *confidence);

#ifdef __cplusplus
}
#endif
