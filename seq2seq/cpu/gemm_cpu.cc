// CPU gemm: Eigen maps over the buffers; with EIGEN_USE_BLAS (set by CMake) Eigen hands every
// product above its small-size threshold to OpenBLAS's sgemm/dgemm. OpenBLAS runs on one thread:
// a product big enough is cut into column (or row) blocks of C here, one per math thread
// (parallel_for), so that s2s's own loops and the GEMMs share one pool and no BLAS thread spins
// on a core between the GEMMs, where the element-wise passes need it.
#include "seq2seq/cpu/gemm_cpu.h"

#include <Eigen/Core>

#include "seq2seq/parallel_for.h"

namespace s2s::cpu {
namespace {

// Products under this many multiply-adds run on the calling thread: waking the pool would cost
// more than the second core saves.
constexpr double kParallelMacs = 1 << 18;

template <typename Out, typename A, typename B, typename T>
void accumulate(Out&& out, const A& a, const B& b, T alpha) {
  out.noalias() += alpha * a * b;
}

}  // namespace

template <typename T>
void gemm(const T* a, bool transpose_a, const T* b, bool transpose_b, T* c, int64_t m, int64_t n,
          int64_t k, T alpha, T beta) {
  using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using ConstMap = Eigen::Map<const Matrix>;
  Eigen::Map<Matrix> out(c, m, n);
  if (m == 0 || n == 0) return;
  if (beta == T(0))
    out.setZero();  // beta == 0 must not propagate NaN from uninitialised c
  else if (beta != T(1))
    out *= beta;
  if (k == 0) return;
  const ConstMap a_map(a, transpose_a ? k : m, transpose_a ? m : k);
  const ConstMap b_map(b, transpose_b ? n : k, transpose_b ? k : n);
  // C[rows r0.., cols c0..] += alpha op(A)[r0.., :] op(B)[:, c0..]; Eigen folds the transposes and
  // the scalar into one BLAS call on the blocks (with their strides).
  auto block = [&](int64_t r0, int64_t rows, int64_t c0, int64_t cols) {
    auto o = out.block(r0, c0, rows, cols);
    if (!transpose_a && !transpose_b)
      accumulate(o, a_map.middleRows(r0, rows), b_map.middleCols(c0, cols), alpha);
    else if (transpose_a && !transpose_b)
      accumulate(o, a_map.middleCols(r0, rows).transpose(), b_map.middleCols(c0, cols), alpha);
    else if (!transpose_a && transpose_b)
      accumulate(o, a_map.middleRows(r0, rows), b_map.middleRows(c0, cols).transpose(), alpha);
    else
      accumulate(o, a_map.middleCols(r0, rows).transpose(), b_map.middleRows(c0, cols).transpose(),
                 alpha);
  };
  const double macs = static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  if (macs < kParallelMacs) {
    block(0, m, 0, n);
  } else if (n >= m) {
    parallel_for(n, 32, [&](int64_t begin, int64_t end) { block(0, m, begin, end - begin); });
  } else {
    parallel_for(m, 16, [&](int64_t begin, int64_t end) { block(begin, end - begin, 0, n); });
  }
}

template void gemm<float>(const float*, bool, const float*, bool, float*, int64_t, int64_t, int64_t,
                          float, float);
template void gemm<double>(const double*, bool, const double*, bool, double*, int64_t, int64_t,
                           int64_t, double, double);

}  // namespace s2s::cpu
