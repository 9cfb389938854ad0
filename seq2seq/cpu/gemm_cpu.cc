// CPU gemm: OpenBLAS's cblas_sgemm/dgemm on row-major buffers, computing on the calling thread.
// A product big enough is cut into column (or row) blocks of C here, one per math thread
// (parallel_for), so that s2s's own loops and the GEMMs share one pool and no BLAS thread spins
// on a core between the GEMMs, where the element-wise passes need it. beta goes to BLAS itself:
// with beta == 0 OpenBLAS writes C without reading it (no zeroing pass, no NaN carried over).
#include "seq2seq/cpu/gemm_cpu.h"

#include <cblas.h>

#include <type_traits>

#include "seq2seq/cpu/product_blocks.h"

namespace s2s::cpu {
namespace {

// One row-major BLAS call: sgemm or dgemm by T.
template <typename T>
void blas(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
          const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  constexpr auto gemm = [] {
    if constexpr (std::is_same_v<T, float>)
      return &cblas_sgemm;
    else
      return &cblas_dgemm;
  }();
  gemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
       static_cast<blasint>(m), static_cast<blasint>(n), static_cast<blasint>(k), alpha, a,
       static_cast<blasint>(lda), b, static_cast<blasint>(ldb), beta, c, static_cast<blasint>(ldc));
}

}  // namespace

template <typename T>
void gemm(const T* a, bool transpose_a, const T* b, bool transpose_b, T* c, int64_t m, int64_t n,
          int64_t k, T alpha, T beta) {
  if (m == 0 || n == 0) return;
  if (k == 0) {  // no product: C = beta C (BLAS would do the same; this is explicit about NaN)
    for (int64_t i = 0; i < m * n; ++i)
      c[i] = beta == T(0) ? T(0) : beta * c[i];
    return;
  }
  // Row-major leading dimensions: op(A) is [m, k] stored [m, k] or [k, m]; op(B) likewise.
  const int64_t lda = transpose_a ? m : k, ldb = transpose_b ? k : n;
  // C[r0 .. r0 + rows, c0 .. c0 + cols] from the matching rows of op(A) and columns of op(B).
  auto block = [&](int64_t r0, int64_t rows, int64_t c0, int64_t cols) {
    const T* a_block = transpose_a ? a + r0 : a + r0 * lda;
    const T* b_block = transpose_b ? b + c0 * ldb : b + c0;
    blas(transpose_a, transpose_b, rows, cols, k, alpha, a_block, lda, b_block, ldb, beta,
         c + r0 * n + c0, n);
  };
  for_each_product_block(m, n, k, /*min_cols=*/32, /*min_rows=*/16, block);
}

template void gemm<float>(const float*, bool, const float*, bool, float*, int64_t, int64_t, int64_t,
                          float, float);
template void gemm<double>(const double*, bool, const double*, bool, double*, int64_t, int64_t,
                           int64_t, double, double);

}  // namespace s2s::cpu
