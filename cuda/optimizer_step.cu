// CUDA bodies of ops/optimizer_step.h: one fused grid-stride pass per update, reading each of
// param, grad, m, v once. The scalar factors are computed on the host in double exactly as the
// CPU body computes them, then rounded to T, so both devices apply the same formula; results
// differ only where nvcc fuses a multiply-add (one rounding instead of two).
#include <cmath>

#include "cuda/launch.h"
#include "seq2seq/cuda_backend.h"

namespace s2s::cuda {
namespace {

template <typename T>
__global__ void adam_kernel(int64_t n, T* param, const T* grad, T* m, T* v, bool decay_on, T decay,
                            T b1, T b2, T step_size, T inv_sqrt_bc2, T eps) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x) {
    const T g = grad[i];
    T p = param[i];
    if (decay_on) p *= decay;
    const T mi = b1 * m[i] + (T(1) - b1) * g;
    const T vi = b2 * v[i] + (T(1) - b2) * (g * g);
    m[i] = mi;
    v[i] = vi;
    param[i] = p - step_size * mi / (sqrt(vi) * inv_sqrt_bc2 + eps);
  }
}

template <typename T>
__global__ void sgd_kernel(int64_t n, T* param, const T* grad, T* buffer, bool decay_on, T decay,
                           T lr, T momentum) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x) {
    T p = param[i];
    if (decay_on) p *= decay;
    if (buffer) {
      const T b = momentum * buffer[i] + grad[i];
      buffer[i] = b;
      param[i] = p - lr * b;
    } else {
      param[i] = p - lr * grad[i];
    }
  }
}

}  // namespace

void adam_step(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, const ops::AdamArgs& args) {
  use_device(param);
  const int64_t n = param.numel();
  if (n == 0) return;
  const double t = static_cast<double>(args.step);
  dispatch_floating(param.dtype(), [&]<typename T>() {
    adam_kernel<T><<<blocks_for(n), kBlockSize>>>(
        n, param.data<T>(), grad.data<T>(), m.data<T>(), v.data<T>(), args.weight_decay != 0,
        static_cast<T>(1 - args.lr * args.weight_decay), static_cast<T>(args.beta1),
        static_cast<T>(args.beta2), static_cast<T>(args.lr / (1 - std::pow(args.beta1, t))),
        static_cast<T>(1 / std::sqrt(1 - std::pow(args.beta2, t))), static_cast<T>(args.eps));
  });
  S2S_CUDA_CHECK_LAUNCH();
}

void sgd_step(Tensor& param, const Tensor& grad, Tensor* momentum_buffer,
              const ops::SgdArgs& args) {
  use_device(param);
  const int64_t n = param.numel();
  if (n == 0) return;
  dispatch_floating(param.dtype(), [&]<typename T>() {
    sgd_kernel<T><<<blocks_for(n), kBlockSize>>>(
        n, param.data<T>(), grad.data<T>(), momentum_buffer ? momentum_buffer->data<T>() : nullptr,
        args.weight_decay != 0, static_cast<T>(1 - args.lr * args.weight_decay),
        static_cast<T>(args.lr), static_cast<T>(args.momentum));
  });
  S2S_CUDA_CHECK_LAUNCH();
}

}  // namespace s2s::cuda
