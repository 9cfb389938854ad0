// CPU body of ops::gemm_int8 over raw row-major buffers: dynamic u8 quantization of the
// activations, oneDNN's u8·s8 -> s32 matmul, dequantization with the per-row scales.
#pragma once

#include <cstdint>

namespace s2s::cpu {

// c[M, N] = a[M, K]·Wᵀ + beta·c, W = diag(w_scales)·w[N, K] (int8), row_sums[n] = Σ_k w[n, k].
void gemm_int8(const float* a, int64_t m, int64_t k, const int8_t* w, const float* w_scales,
               const int32_t* row_sums, int64_t n, float* c, float beta);

// The oneDNN library's version and the instruction set its int8 kernels use here, e.g.
// "oneDNN 2.6.3 (avx512_core_vnni)": for benchmarks and `s2s --version`.
const char* int8_backend();

}  // namespace s2s::cpu
