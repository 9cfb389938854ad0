// CPU gemm: Eigen maps over the buffers; with EIGEN_USE_BLAS (set by CMake) Eigen hands every
// product above its small-size threshold to OpenBLAS's sgemm/dgemm.
#include "seq2seq/cpu/gemm_cpu.h"

#include <Eigen/Core>

namespace s2s::cpu {

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
  // Eigen folds transposes and the scalar into one BLAS call.
  if (!transpose_a && !transpose_b)
    out.noalias() += alpha * a_map * b_map;
  else if (transpose_a && !transpose_b)
    out.noalias() += alpha * a_map.transpose() * b_map;
  else if (!transpose_a && transpose_b)
    out.noalias() += alpha * a_map * b_map.transpose();
  else
    out.noalias() += alpha * a_map.transpose() * b_map.transpose();
}

template void gemm<float>(const float*, bool, const float*, bool, float*, int64_t, int64_t, int64_t,
                          float, float);
template void gemm<double>(const double*, bool, const double*, bool, double*, int64_t, int64_t,
                           int64_t, double, double);

}  // namespace s2s::cpu
