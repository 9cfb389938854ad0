// CUDA body of ops::gemm: cuBLAS sgemm/dgemm in full precision (TF32 and bf16 modes come with
// issue 7).
// cuBLAS is column-major; a row-major C = op(A) op(B) is computed as the column-major
// C^T = op(B)^T op(A)^T, which needs no copies: swap the operands and their transposes.
#include <cublas_v2.h>

#include <mutex>
#include <vector>

#include "cuda/check.h"
#include "seq2seq/cuda_backend.h"

namespace s2s::cuda {
namespace {

cublasHandle_t handle_for(int device) {
  static std::mutex mutex;
  static std::vector<cublasHandle_t> handles;  // one per device, kept for the process
  std::lock_guard lock(mutex);
  if (static_cast<int>(handles.size()) <= device) handles.resize(device + 1, nullptr);
  if (!handles[device]) {
    S2S_CUDA_CHECK(cudaSetDevice(device));
    S2S_CUDA_CHECK(cublas().create(&handles[device]));
    S2S_CUDA_CHECK(cublas().set_math_mode(handles[device], CUBLAS_PEDANTIC_MATH));
  }
  return handles[device];
}

}  // namespace

void gemm(const Tensor& a, bool transpose_a, const Tensor& b, bool transpose_b, Tensor& c,
          double alpha, double beta) {
  const int device = c.device().index;
  S2S_CUDA_CHECK(cudaSetDevice(device));
  cublasHandle_t handle = handle_for(device);
  const int m = static_cast<int>(c.dim(0)), n = static_cast<int>(c.dim(1));
  const int k = static_cast<int>(transpose_a ? a.dim(0) : a.dim(1));
  if (m == 0 || n == 0) return;
  const cublasOperation_t op_b = transpose_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_a = transpose_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const int ldb = static_cast<int>(b.dim(1)), lda = static_cast<int>(a.dim(1));
  // Column-major view: C^T[n,m] = op(B)^T[n,k] * op(A)^T[k,m].
  if (c.dtype() == DType::f32) {
    const float alpha_f = static_cast<float>(alpha), beta_f = static_cast<float>(beta);
    S2S_CUDA_CHECK(cublas().sgemm(handle, op_b, op_a, n, m, k, &alpha_f, b.data<float>(), ldb,
                                  a.data<float>(), lda, &beta_f, c.data<float>(), n));
  } else {
    S2S_CUDA_CHECK(cublas().dgemm(handle, op_b, op_a, n, m, k, &alpha, b.data<double>(), ldb,
                                  a.data<double>(), lda, &beta, c.data<double>(), n));
  }
}

}  // namespace s2s::cuda
