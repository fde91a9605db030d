// half_host.h: IEEE fp16 <-> fp32 on the host, in plain C (cuda_fp16.h is
// C++ only). half_from_float rounds to nearest even, as __float2half_rn;
// overflow gives infinity, NaN stays NaN. Used to upload weights and by the
// tests to write fp16 inputs.
#pragma once
#include <stdint.h>
#include <string.h>

static inline uint16_t half_from_float(float f) {
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    uint32_t sign = (x >> 16) & 0x8000u, abs = x & 0x7fffffffu;
    if (abs >= 0x7f800000u) return (uint16_t)(sign | 0x7c00u | (abs > 0x7f800000u ? 0x200u : 0)); // inf, NaN
    if (abs >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u);          // rounds past 65504: infinity
    if (abs < 0x38800000u) {                                            // fp16 subnormal or zero
        if (abs < 0x33000000u) return (uint16_t)sign;                   // below half the smallest subnormal
        uint32_t mant = (abs & 0x7fffffu) | 0x800000u;
        int shift = 126 - (int)(abs >> 23);                             // 14..24: value = mant * 2^-(shift+10)
        uint32_t half = mant >> shift, rest = mant & ((1u << shift) - 1), mid = 1u << (shift - 1);
        if (rest > mid || (rest == mid && (half & 1))) half++;
        return (uint16_t)(sign | half);
    }
    uint32_t half = ((abs - 0x38000000u) >> 13);                        // rebias exponent 127 -> 15
    uint32_t rest = abs & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (half & 1))) half++;     // carry may bump the exponent: still right
    return (uint16_t)(sign | half);
}

// Rounds to a finite fp16 (|f| < 65520; 65504 is fp16's largest). Stored
// weights must: one past it becomes infinity and every logit NaN.
#define HALF_ROUNDS_FINITE_BELOW 65520.0f
static inline int half_holds(float f) { return f > -HALF_ROUNDS_FINITE_BELOW && f < HALF_ROUNDS_FINITE_BELOW; }

static inline float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu, x;
    if (exp == 0x1f) x = sign | 0x7f800000u | (mant << 13);             // inf, NaN
    else if (exp) x = sign | ((exp + 112) << 23) | (mant << 13);
    else if (!mant) x = sign;
    else {                                                              // subnormal: normalise
        int e = -1;
        do { mant <<= 1; e++; } while (!(mant & 0x400u));
        x = sign | ((uint32_t)(112 - e) << 23) | ((mant & 0x3ffu) << 13);
    }
    float f;
    memcpy(&f, &x, sizeof f);
    return f;
}
