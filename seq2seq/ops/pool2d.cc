// Pooling: validation and dispatch.
#include "seq2seq/ops/pool2d.h"

#include "seq2seq/cpu/pool2d_cpu.h"
#include "seq2seq/ops/check.h"
#include "seq2seq/profiler.h"

namespace s2s::ops {
namespace {

cpu::PoolShape pool_shape(const char* op, const Tensor& x, const Pool2dArgs& args) {
  check::shape(op, "x", x, {-1, -1, -1, -1});
  check::floating(op, "x", x);
  S2S_CHECK(args.kernel >= 1 && args.stride >= 1, op, ": kernel (", args.kernel, ") and stride (",
            args.stride, ") must be >= 1");
  cpu::PoolShape s{x.dim(0) * x.dim(1),
                   x.dim(2),
                   x.dim(3),
                   args.kernel,
                   args.stride,
                   pool_output_size(x.dim(2), args),
                   pool_output_size(x.dim(3), args)};
  S2S_CHECK_SHAPE(s.oh >= 1 && s.ow >= 1, op, ": a ", args.kernel, "x", args.kernel,
                  " window does not fit the input ", x.str());
  return s;
}

}  // namespace

int64_t pool_output_size(int64_t in, const Pool2dArgs& args) {
  return in < args.kernel || args.stride < 1 ? 0 : (in - args.kernel) / args.stride + 1;
}

void max_pool2d_fwd(const Tensor& x, const Pool2dArgs& args, Tensor& y, Tensor& argmax) {
  constexpr const char* op = "max_pool2d_fwd";
  const cpu::PoolShape s = pool_shape(op, x, args);
  check::shape(op, "y", y, {x.dim(0), x.dim(1), s.oh, s.ow});
  check::same_kind(op, "x", x, "y", y);
  check::shape(op, "argmax", argmax, {x.dim(0), x.dim(1), s.oh, s.ow});
  check::dtype(op, "argmax", argmax, DType::i32);
  check::same_device(op, "x", x, "argmax", argmax);
  check::cpu_only(op, x);
  const profile::Scope scope("max_pool2d_fwd");
  dispatch_floating(x.dtype(), [&]<typename T>() {
    cpu::max_pool2d_fwd<T>(x.data<T>(), y.data<T>(), argmax.data<int32_t>(), s);
  });
}

void max_pool2d_bwd(const Tensor& dy, const Tensor& argmax, Tensor& dx) {
  constexpr const char* op = "max_pool2d_bwd";
  check::shape(op, "dx", dx, {-1, -1, -1, -1});
  check::floating(op, "dx", dx);
  check::shape(op, "dy", dy, {dx.dim(0), dx.dim(1), -1, -1});
  check::same_kind(op, "dx", dx, "dy", dy);
  check::shape(op, "argmax", argmax, {dy.dim(0), dy.dim(1), dy.dim(2), dy.dim(3)});
  check::dtype(op, "argmax", argmax, DType::i32);
  check::same_device(op, "dx", dx, "argmax", argmax);
  check::cpu_only(op, dx);
  // The window geometry is in argmax already; only the plane sizes matter here.
  const cpu::PoolShape s{dx.dim(0) * dx.dim(1), dx.dim(2), dx.dim(3), 1, 1, dy.dim(2), dy.dim(3)};
  const profile::Scope scope("max_pool2d_bwd");
  dispatch_floating(dx.dtype(), [&]<typename T>() {
    cpu::max_pool2d_bwd<T>(dy.data<T>(), argmax.data<int32_t>(), dx.data<T>(), s);
  });
}

void avg_pool2d_fwd(const Tensor& x, const Pool2dArgs& args, Tensor& y) {
  constexpr const char* op = "avg_pool2d_fwd";
  const cpu::PoolShape s = pool_shape(op, x, args);
  check::shape(op, "y", y, {x.dim(0), x.dim(1), s.oh, s.ow});
  check::same_kind(op, "x", x, "y", y);
  check::cpu_only(op, x);
  const profile::Scope scope("avg_pool2d_fwd");
  dispatch_floating(x.dtype(),
                    [&]<typename T>() { cpu::avg_pool2d_fwd<T>(x.data<T>(), y.data<T>(), s); });
}

void avg_pool2d_bwd(const Tensor& dy, const Pool2dArgs& args, Tensor& dx) {
  constexpr const char* op = "avg_pool2d_bwd";
  const cpu::PoolShape s = pool_shape(op, dx, args);
  check::shape(op, "dy", dy, {dx.dim(0), dx.dim(1), s.oh, s.ow});
  check::same_kind(op, "dx", dx, "dy", dy);
  check::cpu_only(op, dx);
  const profile::Scope scope("avg_pool2d_bwd");
  dispatch_floating(dx.dtype(),
                    [&]<typename T>() { cpu::avg_pool2d_bwd<T>(dy.data<T>(), dx.data<T>(), s); });
}

void global_avg_pool_fwd(const Tensor& x, Tensor& y) {
  constexpr const char* op = "global_avg_pool_fwd";
  check::shape(op, "x", x, {-1, -1, -1, -1});
  check::floating(op, "x", x);
  check::shape(op, "y", y, {x.dim(0), x.dim(1)});
  check::same_kind(op, "x", x, "y", y);
  S2S_CHECK_SHAPE(x.dim(2) * x.dim(3) > 0, op, ": x ", x.str(), " has an empty plane");
  check::cpu_only(op, x);
  const profile::Scope scope("global_avg_pool_fwd");
  dispatch_floating(x.dtype(), [&]<typename T>() {
    cpu::global_avg_pool_fwd<T>(x.data<T>(), y.data<T>(), x.dim(0) * x.dim(1), x.dim(2) * x.dim(3));
  });
}

void global_avg_pool_bwd(const Tensor& dy, Tensor& dx, bool accumulate) {
  constexpr const char* op = "global_avg_pool_bwd";
  check::shape(op, "dx", dx, {-1, -1, -1, -1});
  check::floating(op, "dx", dx);
  check::shape(op, "dy", dy, {dx.dim(0), dx.dim(1)});
  check::same_kind(op, "dx", dx, "dy", dy);
  S2S_CHECK_SHAPE(dx.dim(2) * dx.dim(3) > 0, op, ": dx ", dx.str(), " has an empty plane");
  check::cpu_only(op, dx);
  const profile::Scope scope("global_avg_pool_bwd");
  dispatch_floating(dx.dtype(), [&]<typename T>() {
    cpu::global_avg_pool_bwd<T>(dy.data<T>(), dx.data<T>(), dx.dim(0) * dx.dim(1),
                                dx.dim(2) * dx.dim(3), accumulate);
  });
}

}  // namespace s2s::ops
