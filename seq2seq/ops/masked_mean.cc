// masked_mean: validation and the CPU body (small and memory-bound, so it lives here rather
// than in cpu/); the CUDA body is cuda/masked_mean.cu.
#include "seq2seq/ops/masked_mean.h"

#include <algorithm>

#include "seq2seq/cuda_backend.h"
#include "seq2seq/ops/check.h"

namespace s2s::ops {
namespace {
void validate(const char* op, const Tensor& x_like, const Tensor& mask, const Tensor& out_like) {
  check::floating(op, "x", x_like);
  check::same_kind(op, "x", x_like, "mask", mask);
  check::same_kind(op, "x", x_like, "out", out_like);
}
}  // namespace

void masked_mean_fwd(const Tensor& x, const Tensor& mask, Tensor& out) {
  constexpr const char* op = "masked_mean_fwd";
  check::shape(op, "x", x, {-1, -1, -1});
  const int64_t s = x.dim(0), b = x.dim(1), d = x.dim(2);
  check::shape(op, "mask", mask, {s, b});
  check::shape(op, "out", out, {b, d});
  validate(op, x, mask, out);
  if (x.device().is_cuda()) return cuda::masked_mean_fwd(x, mask, out);
  dispatch_floating(x.dtype(), [&]<typename T>() {
    const T* xp = x.data<T>();
    const T* mp = mask.data<T>();
    T* op_ = out.data<T>();
    for (int64_t j = 0; j < b; ++j) {
      double total = 0;
      for (int64_t i = 0; i < s; ++i)
        total += mp[i * b + j];
      S2S_CHECK(total > 0, op, ": column ", j, " of the mask has no real position");
      T* o = op_ + j * d;
      std::fill(o, o + d, T(0));
      for (int64_t i = 0; i < s; ++i) {
        const T w = static_cast<T>(mp[i * b + j] / total);
        if (w == T(0)) continue;
        const T* xr = xp + (i * b + j) * d;
        for (int64_t k = 0; k < d; ++k)
          o[k] += w * xr[k];
      }
    }
  });
}

void masked_mean_bwd(const Tensor& dout, const Tensor& mask, Tensor& dx) {
  constexpr const char* op = "masked_mean_bwd";
  check::shape(op, "dx", dx, {-1, -1, -1});
  const int64_t s = dx.dim(0), b = dx.dim(1), d = dx.dim(2);
  check::shape(op, "mask", mask, {s, b});
  check::shape(op, "dout", dout, {b, d});
  validate(op, dx, mask, dout);
  if (dx.device().is_cuda()) return cuda::masked_mean_bwd(dout, mask, dx);
  dispatch_floating(dx.dtype(), [&]<typename T>() {
    const T* gp = dout.data<T>();
    const T* mp = mask.data<T>();
    T* dp = dx.data<T>();
    for (int64_t j = 0; j < b; ++j) {
      double total = 0;
      for (int64_t i = 0; i < s; ++i)
        total += mp[i * b + j];
      S2S_CHECK(total > 0, op, ": column ", j, " of the mask has no real position");
      const T* g = gp + j * d;
      for (int64_t i = 0; i < s; ++i) {
        const T w = static_cast<T>(mp[i * b + j] / total);
        if (w == T(0)) continue;
        T* r = dp + (i * b + j) * d;
        for (int64_t k = 0; k < d; ++k)
          r[k] += w * g[k];
      }
    }
  });
}

}  // namespace s2s::ops
