// Pool2d: the op pairs of both kinds.
#include "seq2seq/layers/pool2d.h"

namespace s2s {

PoolKind parse_pool_kind(const std::string& text) {
  if (text == "max") return PoolKind::max;
  if (text == "avg") return PoolKind::avg;
  throw ConfigError("pool kind '" + text + "': expected max or avg");
}

const char* pool_kind_name(PoolKind kind) {
  return kind == PoolKind::max ? "max" : "avg";
}

Pool2d::Pool2d(Pool2dOptions options) : options_(std::move(options)) {
  S2S_CHECK_AS(ConfigError, options_.kernel >= 1 && options_.stride >= 1, "Pool2d '", options_.name,
               "': kernel (", options_.kernel, ") and stride (", options_.stride, ") must be >= 1");
}

Tensor Pool2d::forward(const Tensor& x) {
  S2S_CHECK_SHAPE(x.defined() && x.rank() == 4, "Pool2d '", options_.name, "' forward: x is ",
                  x.str(), ", expected [N, C, H, W]");
  const int64_t oh = output_size(x.dim(2)), ow = output_size(x.dim(3));
  S2S_CHECK_SHAPE(oh >= 1 && ow >= 1, "Pool2d '", options_.name, "': a ", options_.kernel, "x",
                  options_.kernel, " window does not fit the ", x.dim(2), "x", x.dim(3),
                  " feature map (the image is too small for this network)");
  x_shape_ = x.shape();
  dtype_ = x.dtype();
  device_ = x.device();
  Tensor y = Tensor::empty({x.dim(0), x.dim(1), oh, ow}, x.dtype(), x.device());
  if (options_.kind == PoolKind::max) {
    argmax_ = Tensor::empty(y.shape(), DType::i32, x.device());
    ops::max_pool2d_fwd(x, args(), y, argmax_);
  } else {
    ops::avg_pool2d_fwd(x, args(), y);
  }
  ran_ = true;
  return y;
}

Tensor Pool2d::backward(const Tensor& dy) {
  S2S_CHECK(ran_, "Pool2d '", options_.name, "' backward: no forward to backpropagate");
  Tensor dx = Tensor::empty(x_shape_, dtype_, device_);
  if (options_.kind == PoolKind::max)
    ops::max_pool2d_bwd(dy, argmax_, dx);
  else
    ops::avg_pool2d_bwd(dy, args(), dx);
  return dx;
}

}  // namespace s2s
