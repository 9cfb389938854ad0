// cuBLAS, loaded on first use. s2s does not link libcublas: the library and its 500 MB
// companion libcublasLt take about half a second of static initialisation in every process that
// links them, GPU or not, and a CUDA build of s2s should start instantly and run on the CPU on
// machines where cuBLAS is not installed. The first GPU gemm dlopens it; a missing library is a
// CudaError naming it.
#pragma once

#include <cublas_v2.h>

namespace s2s::cuda {

// The cuBLAS entry points s2s calls, resolved from the loaded library.
struct CublasApi {
  decltype(&cublasCreate_v2) create;
  decltype(&cublasDestroy_v2) destroy;
  decltype(&cublasSetMathMode) set_math_mode;
  decltype(&cublasSetStream_v2) set_stream;
  decltype(&cublasSgemm_v2) sgemm;
  decltype(&cublasDgemm_v2) dgemm;
  decltype(&cublasGetStatusString) status_string;
  int version = 0;  // cublasGetVersion's answer, e.g. 130100
};

// Loads libcublas.so.<major> once (thread-safe); throws CudaError if it cannot.
const CublasApi& cublas();

}  // namespace s2s::cuda
