// gemm: validates shapes, then dispatches on device and dtype.
#include "seq2seq/ops/gemm.h"

#include "seq2seq/cpu/gemm_cpu.h"
#include "seq2seq/cuda_backend.h"
#include "seq2seq/ops/check.h"
#include "seq2seq/profiler.h"

namespace s2s::ops {

void gemm(const Tensor& a, bool transpose_a, const Tensor& b, bool transpose_b, Tensor& c,
          double alpha, double beta) {
  constexpr const char* op = "gemm";
  check::shape(op, "a", a, {-1, -1});
  check::shape(op, "b", b, {-1, -1});
  check::shape(op, "c", c, {-1, -1});
  check::floating(op, "a", a);
  check::same_kind(op, "a", a, "b", b);
  check::same_kind(op, "a", a, "c", c);
  const int64_t m = transpose_a ? a.dim(1) : a.dim(0);
  const int64_t k = transpose_a ? a.dim(0) : a.dim(1);
  const int64_t kb = transpose_b ? b.dim(1) : b.dim(0);
  const int64_t n = transpose_b ? b.dim(0) : b.dim(1);
  S2S_CHECK_SHAPE(k == kb && c.dim(0) == m && c.dim(1) == n, "gemm: op(a) ", m, "x", k,
                  " times op(b) ", kb, "x", n, " does not give c ", c.shape().str());

  const profile::Scope scope(
      "gemm", 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k));
  if (c.device().is_cuda()) return cuda::gemm(a, transpose_a, b, transpose_b, c, alpha, beta);
  if (a.dtype() == DType::f32)
    cpu::gemm<float>(a.data<float>(), transpose_a, b.data<float>(), transpose_b, c.data<float>(), m,
                     n, k, static_cast<float>(alpha), static_cast<float>(beta));
  else
    cpu::gemm<double>(a.data<double>(), transpose_a, b.data<double>(), transpose_b,
                      c.data<double>(), m, n, k, alpha, beta);
}

}  // namespace s2s::ops
