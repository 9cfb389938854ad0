// BatchNorm2d: parameters, running statistics, and the op pair.
#include "seq2seq/layers/batch_norm2d.h"

namespace s2s {

BatchNorm2d::BatchNorm2d(BatchNorm2dOptions options) : options_(std::move(options)) {
  const BatchNorm2dOptions& o = options_;
  S2S_CHECK_AS(ConfigError, o.channels > 0, "BatchNorm2d '", o.name, "': channels (", o.channels,
               ") must be positive");
  S2S_CHECK_AS(ConfigError, o.eps > 0 && o.momentum >= 0 && o.momentum <= 1, "BatchNorm2d '",
               o.name, "': eps (", o.eps, ") must be > 0 and momentum (", o.momentum,
               ") in [0, 1]");
  auto make = [&](const char* name, double value, bool trainable) {
    Parameter p = Parameter::make(join_name(o.name, name), {o.channels}, o.dtype, o.device);
    init_constant(p.value, value);
    p.trainable = trainable;
    return p;
  };
  weight_ = make("weight", 1.0, true);
  bias_ = make("bias", 0.0, true);
  running_mean_ = make("running_mean", 0.0, false);
  running_var_ = make("running_var", 1.0, false);
  save_mean_ = Tensor::empty({o.channels}, o.dtype, o.device);
  save_inv_std_ = Tensor::empty({o.channels}, o.dtype, o.device);
}

void BatchNorm2d::collect_parameters(std::vector<Parameter*>& out) {
  out.push_back(&weight_);
  out.push_back(&bias_);
  out.push_back(&running_mean_);
  out.push_back(&running_var_);
}

Tensor BatchNorm2d::forward(const Tensor& x) {
  S2S_CHECK_SHAPE(x.defined() && x.rank() == 4 && x.dim(1) == options_.channels, "BatchNorm2d '",
                  options_.name, "' forward: x is ", x.str(), ", expected [N, ", options_.channels,
                  ", H, W]");
  x_ = x;
  batch_stats_ = training();
  Tensor y = Tensor::empty(x.shape(), options_.dtype, options_.device);
  ops::batch_norm_fwd(x, weight_.value, bias_.value, running_mean_.value, running_var_.value,
                      {batch_stats_, options_.eps, options_.momentum}, y, save_mean_,
                      save_inv_std_);
  return y;
}

Tensor BatchNorm2d::backward(const Tensor& dy) {
  S2S_CHECK(x_.defined(), "BatchNorm2d '", options_.name,
            "' backward: no forward to backpropagate");
  Tensor dx = Tensor::empty(x_.shape(), options_.dtype, options_.device);
  ops::batch_norm_bwd(x_, dy, weight_.value, save_mean_, save_inv_std_, batch_stats_, dx,
                      weight_.grad, bias_.grad);
  return dx;
}

}  // namespace s2s
