// gemm: general matrix product, the op most of s2s's time goes to.
#pragma once

#include "seq2seq/tensor.h"

namespace s2s::ops {

// c = alpha * op(a) * op(b) + beta * c, where op(x) is x or its transpose.
//   a: [M, K] (or [K, M] with transpose_a)
//   b: [K, N] (or [N, K] with transpose_b)
//   c: [M, N], preallocated; with beta == 0 its old contents are ignored (NaN included)
// All three on one device with one floating dtype (f32 or f64). CPU: OpenBLAS through Eigen's
// BLAS backend; CUDA: cuBLAS.
void gemm(const Tensor& a, bool transpose_a, const Tensor& b, bool transpose_b, Tensor& c,
          double alpha = 1.0, double beta = 0.0);

}  // namespace s2s::ops
