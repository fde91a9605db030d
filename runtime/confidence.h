// confidence.h: softmax confidence and argmax of logits, on the CPU.
// The CPU twin of kernels/confidence.cu: confidence = max softmax
// probability = 1 / sum_k exp(l_k - l_max); ties go to the lowest class.
#pragma once
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

void confidence_from_logits(const float *logits, int n, int classes, int32_t *prediction, float *confidence);

#ifdef __cplusplus
}
#endif
