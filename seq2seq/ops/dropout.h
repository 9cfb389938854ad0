// Inverted dropout: scale at training time so inference needs no change.
#pragma once

#include "seq2seq/random.h"
#include "seq2seq/tensor.h"

namespace s2s::ops {

// mask = 0 with probability p, else 1/(1-p), drawn from a block of x.numel() counters reserved
// from rng (so the mask is reproducible and backend-independent); y = x * mask. y may be x.
// 0 <= p < 1. x, mask, y: one shape.
void dropout_fwd(const Tensor& x, double p, Rng& rng, Tensor& mask, Tensor& y);
// dx = dy * mask; dx may be dy.
void dropout_bwd(const Tensor& dy, const Tensor& mask, Tensor& dx);

}  // namespace s2s::ops
