// CUDA body of ops::gemm: cuBLAS sgemm in full fp32 (TF32 and bf16 modes come with issue 7).
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
    S2S_CUDA_CHECK(cublasCreate(&handles[device]));
    S2S_CUDA_CHECK(cublasSetMathMode(handles[device], CUBLAS_PEDANTIC_MATH));
  }
  return handles[device];
}

}  // namespace

void gemm(const Tensor& a, bool transpose_a, const Tensor& b, bool transpose_b, Tensor& c,
          double alpha, double beta) {
  S2S_CHECK(c.dtype() == DType::f32, "gemm on CUDA supports f32 only, got ", c.str());
  const int device = c.device().index;
  S2S_CUDA_CHECK(cudaSetDevice(device));
  cublasHandle_t handle = handle_for(device);
  const int m = static_cast<int>(c.dim(0)), n = static_cast<int>(c.dim(1));
  const int k = static_cast<int>(transpose_a ? a.dim(0) : a.dim(1));
  const float alpha_f = static_cast<float>(alpha), beta_f = static_cast<float>(beta);
  if (m == 0 || n == 0) return;
  // Column-major view: C^T[n,m] = op(B)^T[n,k] * op(A)^T[k,m].
  S2S_CUDA_CHECK(cublasSgemm(handle, transpose_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                             transpose_a ? CUBLAS_OP_T : CUBLAS_OP_N, n, m, k, &alpha_f,
                             b.data<float>(), static_cast<int>(b.dim(1)), a.data<float>(),
                             static_cast<int>(a.dim(1)), &beta_f, c.data<float>(), n));
}

}  // namespace s2s::cuda
