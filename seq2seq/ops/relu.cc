// relu: validation and dispatch.
#include "seq2seq/ops/relu.h"

#include "seq2seq/cpu/relu_cpu.h"
#include "seq2seq/ops/check.h"
#include "seq2seq/profiler.h"

namespace s2s::ops {

void relu_fwd(const Tensor& x, Tensor& y) {
  check::floating("relu_fwd", "x", x);
  check::same_kind("relu_fwd", "x", x, "y", y);
  S2S_CHECK_SHAPE(x.shape() == y.shape(), "relu_fwd: x ", x.str(), " and y ", y.str(), " differ");
  check::cpu_only("relu_fwd", x);
  const profile::Scope scope("relu_fwd");
  dispatch_floating(x.dtype(),
                    [&]<typename T>() { cpu::relu_fwd<T>(x.numel(), x.data<T>(), y.data<T>()); });
}

void relu_bwd(const Tensor& y, const Tensor& dy, Tensor& dx) {
  check::floating("relu_bwd", "y", y);
  check::same_kind("relu_bwd", "y", y, "dy", dy);
  check::same_kind("relu_bwd", "y", y, "dx", dx);
  S2S_CHECK_SHAPE(y.shape() == dy.shape() && y.shape() == dx.shape(), "relu_bwd: y ", y.str(),
                  ", dy ", dy.str(), " and dx ", dx.str(), " differ");
  check::cpu_only("relu_bwd", y);
  const profile::Scope scope("relu_bwd");
  dispatch_floating(y.dtype(), [&]<typename T>() {
    cpu::relu_bwd<T>(y.numel(), y.data<T>(), dy.data<T>(), dx.data<T>());
  });
}

}  // namespace s2s::ops
