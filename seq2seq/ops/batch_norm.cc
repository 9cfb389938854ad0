// batch_norm: validation and dispatch.
#include "seq2seq/ops/batch_norm.h"

#include "seq2seq/cpu/batch_norm_cpu.h"
#include "seq2seq/ops/check.h"
#include "seq2seq/profiler.h"

namespace s2s::ops {

void batch_norm_fwd(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                    Tensor& running_var, const BatchNormArgs& args, Tensor& y, Tensor& save_mean,
                    Tensor& save_inv_std) {
  constexpr const char* op = "batch_norm_fwd";
  check::shape(op, "x", x, {-1, -1, -1, -1});
  check::floating(op, "x", x);
  const int64_t c = x.dim(1);
  const std::pair<const char*, const Tensor*> per_channel[] = {{"gamma", &gamma},
                                                               {"beta", &beta},
                                                               {"running_mean", &running_mean},
                                                               {"running_var", &running_var},
                                                               {"save_mean", &save_mean},
                                                               {"save_inv_std", &save_inv_std}};
  for (const auto& [name, t] : per_channel) {
    check::shape(op, name, *t, {c});
    check::same_kind(op, "x", x, name, *t);
  }
  S2S_CHECK_SHAPE(x.shape() == y.shape(), op, ": x ", x.str(), " and y ", y.str(), " differ");
  check::same_kind(op, "x", x, "y", y);
  S2S_CHECK(args.eps > 0 && args.momentum >= 0 && args.momentum <= 1, op, ": eps (", args.eps,
            ") must be > 0 and momentum (", args.momentum, ") in [0, 1]");
  const int64_t m = x.dim(0) * x.dim(2) * x.dim(3);
  S2S_CHECK_SHAPE(!args.training || m >= 2, op,
                  ": training mode needs at least 2 values per channel (N*H*W) for a variance, "
                  "got x ",
                  x.str());
  check::cpu_only(op, x);
  const profile::Scope scope("batch_norm_fwd");
  dispatch_floating(x.dtype(), [&]<typename T>() {
    cpu::batch_norm_fwd<T>(x.data<T>(), gamma.data<T>(), beta.data<T>(), running_mean.data<T>(),
                           running_var.data<T>(), args.training, args.eps, args.momentum, x.dim(0),
                           c, x.dim(2) * x.dim(3), y.data<T>(), save_mean.data<T>(),
                           save_inv_std.data<T>());
  });
}

void batch_norm_bwd(const Tensor& x, const Tensor& dy, const Tensor& gamma, const Tensor& save_mean,
                    const Tensor& save_inv_std, bool batch_stats, Tensor& dx, Tensor& dgamma,
                    Tensor& dbeta) {
  constexpr const char* op = "batch_norm_bwd";
  check::shape(op, "x", x, {-1, -1, -1, -1});
  check::floating(op, "x", x);
  const int64_t c = x.dim(1);
  const std::pair<const char*, const Tensor*> per_channel[] = {{"gamma", &gamma},
                                                               {"save_mean", &save_mean},
                                                               {"save_inv_std", &save_inv_std},
                                                               {"dgamma", &dgamma},
                                                               {"dbeta", &dbeta}};
  for (const auto& [name, t] : per_channel) {
    check::shape(op, name, *t, {c});
    check::same_kind(op, "x", x, name, *t);
  }
  S2S_CHECK_SHAPE(x.shape() == dy.shape() && x.shape() == dx.shape(), op, ": x ", x.str(), ", dy ",
                  dy.str(), " and dx ", dx.str(), " differ");
  check::same_kind(op, "x", x, "dy", dy);
  check::same_kind(op, "x", x, "dx", dx);
  check::cpu_only(op, x);
  const profile::Scope scope("batch_norm_bwd");
  dispatch_floating(x.dtype(), [&]<typename T>() {
    cpu::batch_norm_bwd<T>(x.data<T>(), dy.data<T>(), gamma.data<T>(), save_mean.data<T>(),
                           save_inv_std.data<T>(), batch_stats, x.dim(0), c, x.dim(2) * x.dim(3),
                           dx.data<T>(), dgamma.data<T>(), dbeta.data<T>());
  });
}

}  // namespace s2s::ops
