// CUDA bodies of ops/elementwise.h: grid-stride loops, one pass over memory each.
#include "cuda/launch.h"
#include "seq2seq/cuda_backend.h"

namespace s2s::cuda {
namespace {

template <typename T>
__global__ void add_bias_kernel(T* x, const T* bias, int64_t n, int64_t d) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x)
    x[i] += bias[i % d];
}

// One block column-sums a strip of kBlockSize columns; threads walk rows with a stride so that
// neighbouring threads read neighbouring addresses.
template <typename T>
__global__ void bias_grad_kernel(const T* dy, T* dbias, int64_t rows, int64_t d, bool accumulate) {
  const int64_t col = blockIdx.x * int64_t{blockDim.x} + threadIdx.x;
  if (col >= d) return;
  T sum = 0;
  for (int64_t r = 0; r < rows; ++r)
    sum += dy[r * d + col];
  dbias[col] = accumulate ? dbias[col] + sum : sum;
}

template <typename T>
__global__ void axpy_kernel(int64_t n, T alpha, const T* x, T* y) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x)
    y[i] += alpha * x[i];
}

template <typename T>
__global__ void scale_kernel(int64_t n, T alpha, T* x) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x)
    x[i] *= alpha;
}

template <typename T>
__global__ void tanh_fwd_kernel(int64_t n, const T* x, T* y) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x)
    y[i] = tanh(x[i]);
}

template <typename T>
__global__ void tanh_bwd_kernel(int64_t n, const T* y, const T* dy, T* dx, bool accumulate) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x) {
    const T g = dy[i] * (T(1) - y[i] * y[i]);
    dx[i] = accumulate ? dx[i] + g : g;
  }
}

}  // namespace

void add_bias(Tensor& x, const Tensor& bias) {
  use_device(x);
  const int64_t n = x.numel(), d = bias.numel();
  if (n == 0) return;
  dispatch_floating(x.dtype(), [&]<typename T>() {
    add_bias_kernel<T><<<blocks_for(n), kBlockSize>>>(x.data<T>(), bias.data<T>(), n, d);
  });
  S2S_CUDA_CHECK_LAUNCH();
}

void bias_grad(const Tensor& dy, Tensor& dbias, bool accumulate) {
  use_device(dy);
  const int64_t d = dbias.numel(), rows = d ? dy.numel() / d : 0;
  if (d == 0) return;
  dispatch_floating(dy.dtype(), [&]<typename T>() {
    bias_grad_kernel<T>
        <<<blocks_for(d), kBlockSize>>>(dy.data<T>(), dbias.data<T>(), rows, d, accumulate);
  });
  S2S_CUDA_CHECK_LAUNCH();
}

void axpy(double alpha, const Tensor& x, Tensor& y) {
  use_device(x);
  const int64_t n = x.numel();
  if (n == 0) return;
  dispatch_floating(x.dtype(), [&]<typename T>() {
    axpy_kernel<T>
        <<<blocks_for(n), kBlockSize>>>(n, static_cast<T>(alpha), x.data<T>(), y.data<T>());
  });
  S2S_CUDA_CHECK_LAUNCH();
}

void scale(Tensor& x, double alpha) {
  use_device(x);
  const int64_t n = x.numel();
  if (n == 0) return;
  dispatch_floating(x.dtype(), [&]<typename T>() {
    scale_kernel<T><<<blocks_for(n), kBlockSize>>>(n, static_cast<T>(alpha), x.data<T>());
  });
  S2S_CUDA_CHECK_LAUNCH();
}

void tanh_fwd(const Tensor& x, Tensor& y) {
  use_device(x);
  const int64_t n = x.numel();
  if (n == 0) return;
  dispatch_floating(x.dtype(), [&]<typename T>() {
    tanh_fwd_kernel<T><<<blocks_for(n), kBlockSize>>>(n, x.data<T>(), y.data<T>());
  });
  S2S_CUDA_CHECK_LAUNCH();
}

void tanh_bwd(const Tensor& y, const Tensor& dy, Tensor& dx, bool accumulate) {
  use_device(y);
  const int64_t n = y.numel();
  if (n == 0) return;
  dispatch_floating(y.dtype(), [&]<typename T>() {
    tanh_bwd_kernel<T>
        <<<blocks_for(n), kBlockSize>>>(n, y.data<T>(), dy.data<T>(), dx.data<T>(), accumulate);
  });
  S2S_CUDA_CHECK_LAUNCH();
}

}  // namespace s2s::cuda
