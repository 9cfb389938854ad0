// conv2d: validates shapes, then dispatches on device and dtype.
#include "seq2seq/ops/conv2d.h"

#include "seq2seq/cpu/conv2d_cpu.h"
#include "seq2seq/ops/check.h"
#include "seq2seq/profiler.h"

namespace s2s::ops {
namespace {

cpu::ConvShape conv_shape(const char* op, const Tensor& x, const Tensor& weight,
                          const Conv2dArgs& args) {
  check::shape(op, "x", x, {-1, -1, -1, -1});
  check::floating(op, "x", x);
  check::shape(op, "weight", weight, {-1, x.dim(1), -1, -1});
  check::same_kind(op, "x", x, "weight", weight);
  S2S_CHECK(args.stride >= 1 && args.padding >= 0, op, ": stride (", args.stride,
            ") must be >= 1 and padding (", args.padding, ") >= 0");
  cpu::ConvShape s{
      x.dim(0),    x.dim(1),     x.dim(2), x.dim(3), weight.dim(0), weight.dim(2), weight.dim(3),
      args.stride, args.padding, 0,        0};
  S2S_CHECK_SHAPE(s.kh >= 1 && s.kw >= 1 && s.o >= 1, op, ": weight ", weight.str(),
                  " has an empty dimension");
  s.oh = conv_output_size(s.h, s.kh, s.stride, s.padding);
  s.ow = conv_output_size(s.w, s.kw, s.stride, s.padding);
  S2S_CHECK_SHAPE(s.oh >= 1 && s.ow >= 1, op, ": a ", s.kh, "x", s.kw, " kernel with padding ",
                  s.padding, " does not fit the ", s.h, "x", s.w, " input ", x.str());
  return s;
}

// The multiply-adds of the forward GEMM, counted twice: the profiler's FLOPs.
double conv_flops(const cpu::ConvShape& s) {
  return 2.0 * static_cast<double>(s.n * s.oh * s.ow) * static_cast<double>(s.o) *
         static_cast<double>(s.c * s.kh * s.kw);
}

}  // namespace

int64_t conv_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t padding) {
  const int64_t span = in + 2 * padding - kernel;
  return span < 0 || stride < 1 ? 0 : span / stride + 1;
}

void conv2d_fwd(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dArgs& args,
                Tensor& y) {
  constexpr const char* op = "conv2d_fwd";
  const cpu::ConvShape s = conv_shape(op, x, weight, args);
  if (bias.defined()) {
    check::shape(op, "bias", bias, {s.o});
    check::same_kind(op, "x", x, "bias", bias);
  }
  check::shape(op, "y", y, {s.n, s.o, s.oh, s.ow});
  check::same_kind(op, "x", x, "y", y);
  check::cpu_only(op, x);
  const profile::Scope scope("conv2d_fwd", conv_flops(s));
  dispatch_floating(x.dtype(), [&]<typename T>() {
    cpu::conv2d_fwd<T>(x.data<T>(), weight.data<T>(), bias.defined() ? bias.data<T>() : nullptr,
                       y.data<T>(), s);
  });
}

void conv2d_bwd(const Tensor& x, const Tensor& weight, const Tensor& dy, const Conv2dArgs& args,
                Tensor* dx, Tensor& dweight, Tensor* dbias) {
  constexpr const char* op = "conv2d_bwd";
  const cpu::ConvShape s = conv_shape(op, x, weight, args);
  check::shape(op, "dy", dy, {s.n, s.o, s.oh, s.ow});
  check::same_kind(op, "x", x, "dy", dy);
  check::shape(op, "dweight", dweight, {s.o, s.c, s.kh, s.kw});
  check::same_kind(op, "x", x, "dweight", dweight);
  if (dx) {
    check::shape(op, "dx", *dx, {s.n, s.c, s.h, s.w});
    check::same_kind(op, "x", x, "dx", *dx);
  }
  if (dbias) {
    check::shape(op, "dbias", *dbias, {s.o});
    check::same_kind(op, "x", x, "dbias", *dbias);
  }
  check::cpu_only(op, x);
  const profile::Scope scope("conv2d_bwd", conv_flops(s) * (dx ? 2 : 1));
  dispatch_floating(x.dtype(), [&]<typename T>() {
    cpu::conv2d_bwd<T>(x.data<T>(), weight.data<T>(), dy.data<T>(), dx ? dx->data<T>() : nullptr,
                       dweight.data<T>(), dbias ? dbias->data<T>() : nullptr, s);
  });
}

}  // namespace s2s::ops
