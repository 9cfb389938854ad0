// optimizer_step: the per-tensor parameter updates of the optimizers (Adam/AdamW, SGD with
// momentum). seq2seq/optimizer.h owns the per-parameter state and calls these.
#pragma once

#include <cstdint>

#include "seq2seq/tensor.h"

namespace s2s::ops {

struct AdamArgs {
  double lr = 1e-3;           // learning rate for this step (the schedule is the caller's)
  double beta1 = 0.9;         // decay of the first-moment average m, in [0, 1)
  double beta2 = 0.999;       // decay of the second-moment average v, in [0, 1)
  double eps = 1e-8;          // added to sqrt(v_hat) so tiny v cannot blow the step up; > 0
  double weight_decay = 0.0;  // decoupled (AdamW) decay per unit lr, >= 0; see adam_step
  int64_t step = 1;           // 1-based count of updates, including this one (bias correction)
};

// One Adam update with bias correction and decoupled weight decay (Loshchilov & Hutter, AdamW;
// PyTorch's torch.optim.AdamW):
//   param *= 1 - lr * weight_decay          (decay acts on the weights, not through m and v)
//   m = beta1 * m + (1 - beta1) * grad
//   v = beta2 * v + (1 - beta2) * grad^2
//   param -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
// param, grad, m, v: one shape, dtype and device; m and v start at zero.
void adam_step(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, const AdamArgs& args);

struct SgdArgs {
  double lr = 0.1;            // learning rate for this step
  double momentum = 0.0;      // in [0, 1); > 0 needs a momentum buffer
  double weight_decay = 0.0;  // decoupled decay as in AdamArgs, >= 0
};

// One SGD update (PyTorch's torch.optim.SGD without dampening or Nesterov, decay decoupled):
//   param *= 1 - lr * weight_decay
//   with momentum_buffer: buf = momentum * buf + grad; param -= lr * buf
//   without:              param -= lr * grad
// param, grad, *momentum_buffer: one shape, dtype and device; the buffer starts at zero.
void sgd_step(Tensor& param, const Tensor& grad, Tensor* momentum_buffer, const SgdArgs& args);

}  // namespace s2s::ops
