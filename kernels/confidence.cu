// confidence.cu: softmax confidence, argmax, deferral and ordered compaction
// (see confidence.cuh). One thread per image for the softmax (classes <= 16):
// the arithmetic is the CPU reference's, in the same order, in fp32; CUDA's
// expf is within 2 ulp of glibc's, not equal to it, so a confidence within
// ~1e-7 of the threshold may defer on one backend and not the other (the
// tests allow that margin).
#include "confidence.cuh"

#define WARPS (CONFIDENCE_THREADS / 32)

// Same rule as cascade_defers (runtime/backend.h).
static __device__ __forceinline__ int defers(float confidence, float threshold) {
    return threshold >= 1.0f || confidence < threshold;
}

// Kernel 1: confidence and prediction of every image; deferral flags and the
// number of deferred images of each tile.
static __global__ void confidence_kernel(confidence_params p) {
    int tile_first = blockIdx.x * CONFIDENCE_TILE;
    int tile_deferred = 0;
    for (int j = 0; j < CONFIDENCE_ITEMS; j++) { // every thread runs every iteration (block-wide count)
        int i = tile_first + j * CONFIDENCE_THREADS + threadIdx.x;
        int flag = 0;
        if (i < p.n) {
            const float *l = p.logits + (size_t)i * p.classes;
            int best = 0;
            float best_logit = l[0];
            for (int k = 1; k < p.classes; k++) {
                float v = l[k];
                if (v > best_logit) best = k, best_logit = v;
            }
            float sum = 0.0f;
            for (int k = 0; k < p.classes; k++) sum += expf(l[k] - best_logit);
            float confidence = sum >= 1.0f ? 1.0f / sum : 0.0f; // NaN (non-finite logits): 0, deferred
            p.prediction[i] = best;
            p.confidence[i] = confidence;
            if (p.deferred) {
                flag = p.defer && defers(confidence, p.threshold);
                p.deferred[i] = (uint8_t)flag;
            }
        }
        if (p.tile_counts) tile_deferred += __syncthreads_count(flag);
    }
    if (p.tile_counts && threadIdx.x == 0) p.tile_counts[blockIdx.x] = tile_deferred;
}

// Kernel 2: the tile's offset = sum of the counts of the tiles before it;
// then the tile's deferred indices in ascending order from that offset.
static __global__ void compact_kernel(confidence_params p) {
    __shared__ int warp_sums[WARPS];
    __shared__ int tile_offset;
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;

    int partial = 0;
    for (int t = threadIdx.x; t < (int)blockIdx.x; t += CONFIDENCE_THREADS) partial += p.tile_counts[t];
    for (int d = 16; d > 0; d >>= 1) partial += __shfl_down_sync(0xffffffffu, partial, d);
    if (lane == 0) warp_sums[warp] = partial;
    __syncthreads();
    if (threadIdx.x == 0) {
        int offset = 0;
        for (int w = 0; w < WARPS; w++) offset += warp_sums[w];
        tile_offset = offset;
    }
    __syncthreads();
    int next = tile_offset; // the same in every thread

    int tile_first = blockIdx.x * CONFIDENCE_TILE;
    for (int j = 0; j < CONFIDENCE_ITEMS; j++) {
        int i = tile_first + j * CONFIDENCE_THREADS + threadIdx.x;
        int flag = i < p.n && p.deferred[i];
        unsigned ballot = __ballot_sync(0xffffffffu, flag);
        __syncthreads(); // warp_sums of the previous iteration (or the offset sum) are read by all
        if (lane == 0) warp_sums[warp] = __popc(ballot);
        __syncthreads();
        int before = 0, total = 0;
        for (int w = 0; w < WARPS; w++) {
            int c = warp_sums[w];
            before += w < warp ? c : 0;
            total += c;
        }
        if (flag) p.deferred_index[next + before + __popc(ballot & ((1u << lane) - 1u))] = i;
        next += total;
    }
    if (blockIdx.x == gridDim.x - 1 && threadIdx.x == 0) *p.deferred_count = next;
}

extern "C" cudaError_t confidence_launch(const confidence_params *p, cudaStream_t stream) {
    int compact = p->deferred_index != NULL;
    if (p->n < 0 || p->classes < 1 || p->n > (1 << 30) ||
        (compact && (!p->deferred || !p->deferred_count || !p->tile_counts)))
        return cudaErrorInvalidValue;
    if (p->n == 0)
        return compact ? cudaMemsetAsync(p->deferred_count, 0, sizeof(int32_t), stream) : cudaSuccess;
    unsigned tiles = (unsigned)CONFIDENCE_SCRATCH_INTS(p->n);
    confidence_params k1 = *p;
    if (!compact) k1.tile_counts = NULL;
    confidence_kernel<<<tiles, CONFIDENCE_THREADS, 0, stream>>>(k1);
    cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess || !compact) return e;
    compact_kernel<<<tiles, CONFIDENCE_THREADS, 0, stream>>>(*p);
    return cudaGetLastError();
}
