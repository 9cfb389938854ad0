// optimizer_step: validates tensors and hyperparameters, then dispatches on dtype.
#include "seq2seq/ops/optimizer_step.h"

#include <cmath>

#include "seq2seq/cpu/optimizer_step_cpu.h"
#include "seq2seq/cuda_backend.h"
#include "seq2seq/ops/check.h"

namespace s2s::ops {
namespace {
void same_as_param(const char* op, const Tensor& param, const char* name, const Tensor& t) {
  S2S_CHECK_SHAPE(t.defined() && t.shape() == param.shape(), op, ": ", name, " (", t.str(),
                  ") does not have the shape of param (", param.str(), ")");
  check::same_kind(op, "param", param, name, t);
}
void check_lr_decay(const char* op, double lr, double weight_decay) {
  S2S_CHECK(std::isfinite(lr) && lr >= 0, op, ": lr must be finite and >= 0, got ", lr);
  S2S_CHECK(std::isfinite(weight_decay) && weight_decay >= 0, op,
            ": weight_decay must be finite and >= 0, got ", weight_decay);
}
}  // namespace

void adam_step(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, const AdamArgs& args) {
  constexpr const char* op = "adam_step";
  S2S_CHECK_SHAPE(param.defined(), op, ": param is undefined");
  check::floating(op, "param", param);
  same_as_param(op, param, "grad", grad);
  same_as_param(op, param, "m", m);
  same_as_param(op, param, "v", v);
  check_lr_decay(op, args.lr, args.weight_decay);
  S2S_CHECK(args.beta1 >= 0 && args.beta1 < 1, op, ": beta1 must be in [0, 1), got ", args.beta1);
  S2S_CHECK(args.beta2 >= 0 && args.beta2 < 1, op, ": beta2 must be in [0, 1), got ", args.beta2);
  S2S_CHECK(args.eps > 0 && std::isfinite(args.eps), op, ": eps must be positive, got ", args.eps);
  S2S_CHECK(args.step >= 1, op, ": step is 1-based, got ", args.step);
  if (param.device().is_cuda()) return cuda::adam_step(param, grad, m, v, args);
  dispatch_floating(param.dtype(), [&]<typename T>() {
    cpu::adam_step<T>(param.numel(), param.data<T>(), grad.data<T>(), m.data<T>(), v.data<T>(),
                      args);
  });
}

void sgd_step(Tensor& param, const Tensor& grad, Tensor* momentum_buffer, const SgdArgs& args) {
  constexpr const char* op = "sgd_step";
  S2S_CHECK_SHAPE(param.defined(), op, ": param is undefined");
  check::floating(op, "param", param);
  same_as_param(op, param, "grad", grad);
  if (momentum_buffer) same_as_param(op, param, "momentum_buffer", *momentum_buffer);
  check_lr_decay(op, args.lr, args.weight_decay);
  S2S_CHECK(args.momentum >= 0 && args.momentum < 1, op, ": momentum must be in [0, 1), got ",
            args.momentum);
  S2S_CHECK(args.momentum == 0 || momentum_buffer, op, ": momentum ", args.momentum,
            " needs a momentum_buffer");
  if (param.device().is_cuda()) return cuda::sgd_step(param, grad, momentum_buffer, args);
  dispatch_floating(param.dtype(), [&]<typename T>() {
    cpu::sgd_step<T>(param.numel(), param.data<T>(), grad.data<T>(),
                     momentum_buffer ? momentum_buffer->data<T>() : nullptr, args);
  });
}

}  // namespace s2s::ops
