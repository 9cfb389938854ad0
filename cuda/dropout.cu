// CUDA bodies of ops/dropout.h. Element i draws counter first + i of the same counter-based
// stream as the CPU body (seq2seq/random.h), so CPU and GPU masks are identical.
#include "cuda/launch.h"
#include "seq2seq/cuda_backend.h"
#include "seq2seq/random.h"

namespace s2s::cuda {
namespace {

template <typename T>
__global__ void dropout_fwd_kernel(int64_t n, const T* x, double p, uint64_t seed, uint64_t first,
                                   T* mask, T* y) {
  const T keep_scale = static_cast<T>(1.0 / (1.0 - p));
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x) {
    const T m = uniform_at(seed, first + static_cast<uint64_t>(i)) < p ? T(0) : keep_scale;
    mask[i] = m;
    y[i] = x[i] * m;
  }
}

template <typename T>
__global__ void dropout_bwd_kernel(int64_t n, const T* dy, const T* mask, T* dx) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x)
    dx[i] = dy[i] * mask[i];
}

}  // namespace

void dropout_fwd(const Tensor& x, double p, uint64_t seed, uint64_t first_counter, Tensor& mask,
                 Tensor& y) {
  use_device(x);
  const int64_t n = x.numel();
  if (n == 0) return;
  dispatch_floating(x.dtype(), [&]<typename T>() {
    dropout_fwd_kernel<T><<<blocks_for(n), kBlockSize>>>(n, x.data<T>(), p, seed, first_counter,
                                                         mask.data<T>(), y.data<T>());
  });
  S2S_CUDA_CHECK_LAUNCH();
}

void dropout_bwd(const Tensor& dy, const Tensor& mask, Tensor& dx) {
  use_device(dy);
  const int64_t n = dy.numel();
  if (n == 0) return;
  dispatch_floating(dy.dtype(), [&]<typename T>() {
    dropout_bwd_kernel<T>
        <<<blocks_for(n), kBlockSize>>>(n, dy.data<T>(), mask.data<T>(), dx.data<T>());
  });
  S2S_CUDA_CHECK_LAUNCH();
}

}  // namespace s2s::cuda
