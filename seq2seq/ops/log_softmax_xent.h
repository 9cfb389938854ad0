// log_softmax_xent: the training loss of s2s — log-softmax fused with label-smoothed
// cross-entropy and a padding mask — and plain log_softmax for search.
#pragma once

#include <cstdint>

#include "seq2seq/tensor.h"

namespace s2s::ops {

struct XentOptions {
  // eps in [0, 1); default 0 (plain cross-entropy). The target distribution puts 1 - eps on the
  // target and spreads eps uniformly over all V classes, so
  //   loss_row = (1 - eps) * (-log p_target) + eps * mean_v(-log p_v).
  double label_smoothing = 0.0;
  // Rows whose target equals pad_id are ignored: zero loss, zero gradient, not counted in
  // tokens. Default -1, so any padding marked with -1 works whatever the vocabulary.
  int32_t pad_id = -1;
  // The gradient written is d(sum of row losses)/d(logits) * grad_scale; default 1. Pass
  // 1 / tokens (or 1 / batch) to get the gradient of a mean without another pass over [N, V].
  double grad_scale = 1.0;
};

// Sums over the non-padding rows, in double whatever the logits' dtype.
struct XentSums {
  double loss = 0.0;   // label-smoothed loss: what the gradient is the gradient of
  double nll = 0.0;    // unsmoothed -log p(target): exp(nll / tokens) is the perplexity
  int64_t tokens = 0;  // rows whose target is not pad_id

  XentSums& operator+=(const XentSums& other) {
    loss += other.loss;
    nll += other.nll;
    tokens += other.tokens;
    return *this;
  }
};

// Loss and gradient in one pass; logits is OVERWRITTEN with d(loss)/d(logits) * grad_scale so
// the caller never holds a second [N, V] buffer. Padding rows become zero.
//   logits:  [N, V] f32 or f64
//   targets: [N] i32, each in [0, V) or equal to pad_id (else InvalidArgument naming the row)
//   target_log_probs: optional [N], logits' dtype: log p(target) per row, 0 on padding rows
// Numerically stable (the row maximum is subtracted before exp); sums accumulate in double.
XentSums log_softmax_xent(Tensor& logits, const Tensor& targets, const XentOptions& options = {},
                          Tensor* target_log_probs = nullptr);

// The same loss without the gradient: logits are left untouched (validation, scoring).
// options.grad_scale is ignored.
XentSums log_softmax_xent_loss(const Tensor& logits, const Tensor& targets,
                               const XentOptions& options = {}, Tensor* target_log_probs = nullptr);

// y = log_softmax(x) over the last dimension; y may be x.
//   x, y: [N, V] f32 or f64, one shape
void log_softmax(const Tensor& x, Tensor& y);

}  // namespace s2s::ops
