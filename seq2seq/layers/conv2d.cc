// Conv2d: the op pair plus He initialisation.
#include "seq2seq/layers/conv2d.h"

#include <cmath>

namespace s2s {

Conv2d::Conv2d(Conv2dOptions options) : options_(std::move(options)) {
  const Conv2dOptions& o = options_;
  S2S_CHECK_AS(ConfigError, o.in_channels > 0 && o.out_channels > 0, "Conv2d '", o.name,
               "': in_channels (", o.in_channels, ") and out_channels (", o.out_channels,
               ") must be positive");
  S2S_CHECK_AS(ConfigError, o.kernel_size >= 1 && o.stride >= 1 && o.padding >= 0, "Conv2d '",
               o.name, "': kernel_size (", o.kernel_size, ") and stride (", o.stride,
               ") must be >= 1 and padding (", o.padding, ") >= 0");
  weight_ = Parameter::make(join_name(o.name, "weight"),
                            {o.out_channels, o.in_channels, o.kernel_size, o.kernel_size}, o.dtype,
                            o.device);
  // He (Kaiming) uniform for ReLU networks: Var(w) = 2 / fan_in keeps activations' scale through
  // the stack; U(-b, b) has variance b^2 / 3, so b = sqrt(6 / fan_in).
  const double fan_in = static_cast<double>(o.in_channels * o.kernel_size * o.kernel_size);
  Rng rng(o.seed);
  init_uniform(weight_.value, rng, std::sqrt(6.0 / fan_in));
  if (o.bias)
    bias_ = Parameter::make(join_name(o.name, "bias"), {o.out_channels}, o.dtype, o.device);
}

void Conv2d::collect_parameters(std::vector<Parameter*>& out) {
  out.push_back(&weight_);
  if (options_.bias) out.push_back(&bias_);
}

int64_t Conv2d::output_size(int64_t in) const {
  return ops::conv_output_size(in, options_.kernel_size, options_.stride, options_.padding);
}

Tensor Conv2d::forward(const Tensor& x) {
  S2S_CHECK_SHAPE(x.defined() && x.rank() == 4 && x.dim(1) == options_.in_channels, "Conv2d '",
                  options_.name, "' forward: x is ", x.str(), ", expected [N, ",
                  options_.in_channels, ", H, W]");
  x_ = x;
  Tensor y =
      Tensor::empty({x.dim(0), options_.out_channels, output_size(x.dim(2)), output_size(x.dim(3))},
                    options_.dtype, options_.device);
  ops::conv2d_fwd(x, weight_.value, options_.bias ? bias_.value : Tensor(), args(), y);
  return y;
}

Tensor Conv2d::backward(const Tensor& dy, bool input_gradient) {
  S2S_CHECK(x_.defined(), "Conv2d '", options_.name, "' backward: no forward to backpropagate");
  Tensor dx;
  if (input_gradient) dx = Tensor::empty(x_.shape(), options_.dtype, options_.device);
  ops::conv2d_bwd(x_, weight_.value, dy, args(), input_gradient ? &dx : nullptr, weight_.grad,
                  options_.bias ? &bias_.grad : nullptr);
  return dx;
}

}  // namespace s2s
