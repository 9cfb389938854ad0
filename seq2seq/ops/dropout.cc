// Dropout: validation and dispatch.
#include "seq2seq/ops/dropout.h"

#include "seq2seq/cpu/dropout_cpu.h"
#include "seq2seq/cuda_backend.h"
#include "seq2seq/ops/check.h"

namespace s2s::ops {

void dropout_fwd(const Tensor& x, double p, Rng& rng, Tensor& mask, Tensor& y) {
  check::floating("dropout_fwd", "x", x);
  check::same_kind("dropout_fwd", "x", x, "mask", mask);
  check::same_kind("dropout_fwd", "x", x, "y", y);
  S2S_CHECK_SHAPE(x.shape() == mask.shape() && x.shape() == y.shape(), "dropout_fwd: x ", x.str(),
                  ", mask ", mask.str(), " and y ", y.str(), " differ");
  S2S_CHECK(p >= 0 && p < 1, "dropout probability must be in [0, 1), got ", p);
  const uint64_t first = rng.reserve(static_cast<uint64_t>(x.numel()));
  if (x.device().is_cuda()) return cuda::dropout_fwd(x, p, rng.seed(), first, mask, y);
  dispatch_floating(x.dtype(), [&]<typename T>() {
    cpu::dropout_fwd<T>(x.numel(), x.data<T>(), p, rng.seed(), first, mask.data<T>(), y.data<T>());
  });
}

void dropout_bwd(const Tensor& dy, const Tensor& mask, Tensor& dx) {
  check::floating("dropout_bwd", "dy", dy);
  check::same_kind("dropout_bwd", "dy", dy, "mask", mask);
  check::same_kind("dropout_bwd", "dy", dy, "dx", dx);
  S2S_CHECK_SHAPE(dy.shape() == mask.shape() && dy.shape() == dx.shape(), "dropout_bwd: dy ",
                  dy.str(), ", mask ", mask.str(), " and dx ", dx.str(), " differ");
  if (dy.device().is_cuda()) return cuda::dropout_bwd(dy, mask, dx);
  dispatch_floating(dy.dtype(), [&]<typename T>() {
    cpu::dropout_bwd<T>(dy.numel(), dy.data<T>(), mask.data<T>(), dx.data<T>());
  });
}

}  // namespace s2s::ops
