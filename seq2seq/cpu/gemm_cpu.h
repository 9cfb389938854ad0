// CPU body of ops::gemm over raw row-major buffers, for other CPU bodies to call directly.
#pragma once

#include <cstdint>

namespace s2s::cpu {

// c[M,N] = alpha * op(a) * op(b) + beta * c; a is [M,K] or [K,M] (transposed), b is [K,N] or
// [N,K]. Leading dimensions are the row lengths of the stored (untransposed) matrices.
template <typename T>
void gemm(const T* a, bool transpose_a, const T* b, bool transpose_b, T* c, int64_t m, int64_t n,
          int64_t k, T alpha, T beta);

}  // namespace s2s::cpu
