// gemm_int8: the weight products of an int8 model (`s2s quantize`): y = x·Wᵀ + beta·y with W
// stored as int8 rows with one float scale per row, and x quantized per row as it arrives
// (dynamic quantization, as CTranslate2 does on x86).
#pragma once

#include <cstdint>

#include "seq2seq/tensor.h"

namespace s2s::ops {

// W [N, K] ≈ diag(scales)·values, the [out, in] layout of every s2s weight.
//   values   i8 [N, K], in [-127, 127]
//   scales   f32 [N], max|W[n, :]| / 127 (1 for a row of zeros)
//   row_sums i32 [N], Σ_k values[n, k]: derived (never stored), it removes the activations' zero
//            point of 128 from the int32 products
struct Int8Weight {
  Tensor values;
  Tensor scales;
  Tensor row_sums;

  bool defined() const { return values.defined(); }
  int64_t rows() const { return values.dim(0); }
  int64_t cols() const { return values.dim(1); }
  size_t bytes() const { return values.bytes() + scales.bytes() + row_sums.bytes(); }
};

// Symmetric per-row quantization of a float [N, K] CPU matrix (f32 or f64): q = round(w / scale).
Int8Weight quantize_rows(const Tensor& w);
// An Int8Weight from stored values and scales (row_sums recomputed). Throws InputError when their
// dtypes or shapes do not fit, or a scale is not finite and positive.
Int8Weight make_int8_weight(Tensor values, Tensor scales);
// The f32 matrix W stands for: scales[n]·values[n, k].
Tensor dequantize_rows(const Int8Weight& w);

// c [M, N] = a [M, K]·Wᵀ + beta·c on the CPU; a and c f32. Row m of a is quantized to u8 with
// its own scale s_m = max|a[m, :]| / 127 (u = round(a / s_m) + 128); the product is a u8·s8 ->
// s32 matmul in oneDNN (VNNI where the CPU has it) on s2s's math threads, and
// c[m, n] = s_m·scales[n]·(acc[m, n] - 128·row_sums[n]) + beta·c[m, n]. With beta == 0 c is
// written without being read. Rounding error: about |a|·|W|·K^½ / 127² per entry.
void gemm_int8(const Tensor& a, const Int8Weight& w, Tensor& c, double beta = 0.0);

}  // namespace s2s::ops
