// Elementwise ops: validation and dispatch.
#include "seq2seq/ops/elementwise.h"

#include "seq2seq/cpu/elementwise_cpu.h"
#include "seq2seq/cuda_backend.h"
#include "seq2seq/ops/check.h"

namespace s2s::ops {

void add_bias(Tensor& x, const Tensor& bias) {
  check::floating("add_bias", "x", x);
  check::same_kind("add_bias", "x", x, "bias", bias);
  check::shape("add_bias", "bias", bias, {x.dim(-1)});
  if (x.device().is_cuda()) return cuda::add_bias(x, bias);
  const int64_t d = bias.dim(0), rows = d ? x.numel() / d : 0;
  dispatch_floating(x.dtype(),
                    [&]<typename T>() { cpu::add_bias<T>(x.data<T>(), bias.data<T>(), rows, d); });
}

void bias_grad(const Tensor& dy, Tensor& dbias, bool accumulate) {
  check::floating("bias_grad", "dy", dy);
  check::same_kind("bias_grad", "dy", dy, "dbias", dbias);
  check::shape("bias_grad", "dbias", dbias, {dy.dim(-1)});
  if (dy.device().is_cuda()) return cuda::bias_grad(dy, dbias, accumulate);
  const int64_t d = dbias.dim(0), rows = d ? dy.numel() / d : 0;
  dispatch_floating(dy.dtype(), [&]<typename T>() {
    cpu::bias_grad<T>(dy.data<T>(), dbias.data<T>(), rows, d, accumulate);
  });
}

void axpy(double alpha, const Tensor& x, Tensor& y) {
  check::floating("axpy", "x", x);
  check::same_kind("axpy", "x", x, "y", y);
  S2S_CHECK_SHAPE(x.shape() == y.shape(), "axpy: x ", x.str(), " and y ", y.str(), " differ");
  if (x.device().is_cuda()) return cuda::axpy(alpha, x, y);
  dispatch_floating(x.dtype(), [&]<typename T>() {
    cpu::axpy<T>(x.numel(), static_cast<T>(alpha), x.data<T>(), y.data<T>());
  });
}

void scale(Tensor& x, double alpha) {
  check::floating("scale", "x", x);
  if (x.device().is_cuda()) return cuda::scale(x, alpha);
  dispatch_floating(x.dtype(), [&]<typename T>() {
    cpu::scale<T>(x.numel(), static_cast<T>(alpha), x.data<T>());
  });
}

void tanh_fwd(const Tensor& x, Tensor& y) {
  check::floating("tanh_fwd", "x", x);
  check::same_kind("tanh_fwd", "x", x, "y", y);
  S2S_CHECK_SHAPE(x.shape() == y.shape(), "tanh_fwd: x ", x.str(), " and y ", y.str(), " differ");
  if (x.device().is_cuda()) return cuda::tanh_fwd(x, y);
  dispatch_floating(x.dtype(),
                    [&]<typename T>() { cpu::tanh_fwd<T>(x.numel(), x.data<T>(), y.data<T>()); });
}

void tanh_bwd(const Tensor& y, const Tensor& dy, Tensor& dx, bool accumulate) {
  check::floating("tanh_bwd", "y", y);
  check::same_kind("tanh_bwd", "y", y, "dy", dy);
  check::same_kind("tanh_bwd", "y", y, "dx", dx);
  S2S_CHECK_SHAPE(y.shape() == dy.shape() && y.shape() == dx.shape(), "tanh_bwd: y ", y.str(),
                  ", dy ", dy.str(), " and dx ", dx.str(), " differ");
  if (y.device().is_cuda()) return cuda::tanh_bwd(y, dy, dx, accumulate);
  dispatch_floating(y.dtype(), [&]<typename T>() {
    cpu::tanh_bwd<T>(y.numel(), y.data<T>(), dy.data<T>(), dx.data<T>(), accumulate);
  });
}

}  // namespace s2s::ops
