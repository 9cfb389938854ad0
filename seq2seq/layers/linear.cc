// Linear: one GEMM forward, two backward (dx and dW), plus the bias broadcast and its reduction.
#include "seq2seq/layers/linear.h"

#include "seq2seq/ops/elementwise.h"
#include "seq2seq/ops/gemm.h"

namespace s2s {
namespace {

// shape with its last dimension replaced by last.
Shape with_last(const Shape& shape, int64_t last) {
  std::vector<int64_t> dims = shape.dims();
  dims.back() = last;
  return Shape(dims);
}

}  // namespace

Linear::Linear(LinearOptions options) : options_(std::move(options)) {
  S2S_CHECK_AS(ConfigError, options_.in_features > 0 && options_.out_features > 0, "Linear '",
               options_.name, "': in_features (", options_.in_features, ") and out_features (",
               options_.out_features, ") must be positive");
  weight_ = Parameter::make(join_name(options_.name, "weight"),
                            {options_.out_features, options_.in_features}, options_.dtype,
                            options_.device);
  Rng rng(options_.seed);
  init_glorot_uniform(weight_.value, rng);
  if (options_.bias)
    bias_ = Parameter::make(join_name(options_.name, "bias"), {options_.out_features},
                            options_.dtype, options_.device);
}

void Linear::collect_parameters(std::vector<Parameter*>& out) {
  out.push_back(&weight_);
  if (options_.bias) out.push_back(&bias_);
}

Tensor Linear::forward(const Tensor& x) {
  const std::string op = "Linear '" + options_.name + "' forward";
  S2S_CHECK_SHAPE(x.defined() && x.rank() >= 2 && x.dim(-1) == options_.in_features, op, ": x is ",
                  x.str(), ", expected [..., ", options_.in_features, "]");
  x_ = x.reshape({x.numel() / options_.in_features, options_.in_features});
  Tensor y = Tensor::empty({x_.dim(0), options_.out_features}, options_.dtype, options_.device);
  weight_product(x_, weight_, y);
  if (options_.bias) ops::add_bias(y, bias_.value);
  return y.reshape(with_last(x.shape(), options_.out_features));
}

Tensor Linear::backward(const Tensor& dy) {
  const std::string op = "Linear '" + options_.name + "' backward";
  S2S_CHECK(x_.defined(), op, ": no forward to backpropagate");
  S2S_CHECK_SHAPE(dy.defined() && dy.rank() >= 1 &&
                      dy.numel() == x_.dim(0) * options_.out_features &&
                      dy.dim(-1) == options_.out_features,
                  op, ": dy is ", dy.str(), ", expected the shape of forward's output [..., ",
                  options_.out_features, "] with ", x_.dim(0), " rows");
  const Tensor dy2 = dy.reshape({x_.dim(0), options_.out_features});
  ops::gemm(dy2, true, x_, false, weight_.grad, 1.0, 1.0);
  if (options_.bias) ops::bias_grad(dy2, bias_.grad);
  Tensor dx = Tensor::empty(x_.shape(), options_.dtype, options_.device);
  ops::gemm(dy2, false, weight_.value, false, dx);
  return dx.reshape(with_last(dy.shape(), options_.in_features));
}

}  // namespace s2s
