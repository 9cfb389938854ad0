// Checking every CUDA runtime and cuBLAS call: a failure throws CudaError naming the call, the
// op it served and the location. S2S_CUDA_CHECK_NOTHROW logs instead, for destructors.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdio>
#include <string>

#include "cuda/cublas_api.h"
#include "seq2seq/error.h"

namespace s2s::cuda {

inline void check(cudaError_t status, const char* call, const char* file, int line) {
  if (status != cudaSuccess)
    throw CudaError(std::string(call) + " failed: " + cudaGetErrorString(status) + " [" + file +
                    ":" + std::to_string(line) + "]");
}

inline void check(cublasStatus_t status, const char* call, const char* file, int line) {
  if (status != CUBLAS_STATUS_SUCCESS)
    throw CudaError(std::string(call) + " failed: " + cublas().status_string(status) + " [" + file +
                    ":" + std::to_string(line) + "]");
}

}  // namespace s2s::cuda

#define S2S_CUDA_CHECK(call) ::s2s::cuda::check((call), #call, __FILE__, __LINE__)
#define S2S_CUDA_CHECK_NOTHROW(call)                                                               \
  do {                                                                                             \
    cudaError_t s2s_status_ = (call);                                                              \
    if (s2s_status_ != cudaSuccess)                                                                \
      std::fprintf(stderr, "s2s: %s failed: %s [%s:%d]\n", #call, cudaGetErrorString(s2s_status_), \
                   __FILE__, __LINE__);                                                            \
  } while (0)
// After a kernel launch: catches bad launch configurations at once.
#define S2S_CUDA_CHECK_LAUNCH() S2S_CUDA_CHECK(cudaGetLastError())
