// CUDA bodies of ops/masked_mean.h: one thread per (batch column, feature), walking the
// positions in order (the CPU's order), so the sums round the same way up to FMA contraction.
#include "cuda/launch.h"
#include "seq2seq/cuda_backend.h"

namespace s2s::cuda {
namespace {

template <typename T>
__global__ void masked_mean_kernel(int64_t s, int64_t b, int64_t d, const T* x, const T* mask,
                                   T* out, T* dx, const T* dout, int* empty_column) {
  const int64_t n = b * d;
  for (int64_t e = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; e < n;
       e += int64_t{gridDim.x} * blockDim.x) {
    const int64_t j = e / d, k = e % d;
    double total = 0;
    for (int64_t i = 0; i < s; ++i)
      total += mask[i * b + j];
    if (total <= 0) {
      atomicExch(empty_column, static_cast<int>(j) + 1);
      continue;
    }
    if (out) {
      T acc = 0;
      for (int64_t i = 0; i < s; ++i) {
        const T w = static_cast<T>(mask[i * b + j] / total);
        if (w != T(0)) acc += w * x[(i * b + j) * d + k];
      }
      out[e] = acc;
    } else {
      const T g = dout[e];
      for (int64_t i = 0; i < s; ++i) {
        const T w = static_cast<T>(mask[i * b + j] / total);
        if (w != T(0)) dx[(i * b + j) * d + k] += w * g;
      }
    }
  }
}

void run(const Tensor& x_like, const Tensor& mask, const Tensor* x, Tensor* out, Tensor* dx,
         const Tensor* dout) {
  use_device(mask);
  const int64_t s = x_like.dim(0), b = x_like.dim(1), d = x_like.dim(2);
  if (b * d == 0) return;
  int* flag = nullptr;
  S2S_CUDA_CHECK(cudaMalloc(&flag, sizeof(int)));
  S2S_CUDA_CHECK(cudaMemset(flag, 0, sizeof(int)));
  dispatch_floating(mask.dtype(), [&]<typename T>() {
    masked_mean_kernel<T><<<blocks_for(b * d), kBlockSize>>>(
        s, b, d, x ? x->data<T>() : nullptr, mask.data<T>(), out ? out->data<T>() : nullptr,
        dx ? dx->data<T>() : nullptr, dout ? dout->data<T>() : nullptr, flag);
  });
  int empty = 0;
  const cudaError_t launch = cudaGetLastError();
  const cudaError_t copy = cudaMemcpy(&empty, flag, sizeof(int), cudaMemcpyDeviceToHost);
  cudaFree(flag);
  S2S_CUDA_CHECK(launch);
  S2S_CUDA_CHECK(copy);
  S2S_CHECK(empty == 0, "masked_mean: column ", empty - 1, " of the mask has no real position");
}

}  // namespace

void masked_mean_fwd(const Tensor& x, const Tensor& mask, Tensor& out) {
  run(x, mask, &x, &out, nullptr, nullptr);
}

void masked_mean_bwd(const Tensor& dout, const Tensor& mask, Tensor& dx) {
  run(dx, mask, nullptr, nullptr, &dx, &dout);
}

}  // namespace s2s::cuda
