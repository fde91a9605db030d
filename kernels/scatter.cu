// scatter.cu: batch results -> result slots (see scatter.cuh).
#include "scatter.cuh"

#define SCATTER_THREADS 256

static __global__ void scatter_kernel(scatter_params p) {
    int n = p.n;
    if (p.device_count) {
        int c = *p.device_count;
        n = c < 0 ? 0 : c < n ? c : n;
    }
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        int slot = p.result_slot[i];
        p.slot_prediction[slot] = p.prediction[i];
        p.slot_confidence[slot] = p.confidence[i];
    }
}

extern "C" cudaError_t scatter_launch(const scatter_params *p, cudaStream_t stream) {
    if (p->n < 0) return cudaErrorInvalidValue;
    if (p->n == 0) return cudaSuccess;
    int blocks = p->n / SCATTER_THREADS + (p->n % SCATTER_THREADS != 0); // no overflow near INT_MAX
    if (blocks > 65535) blocks = 65535; // grid-stride loop covers the rest
    scatter_kernel<<<blocks, SCATTER_THREADS, 0, stream>>>(*p);
    return cudaGetLastError();
}
