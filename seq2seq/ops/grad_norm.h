// grad_norm: the global L2 norm of a set of tensors and clipping by it (Pascanu et al., 2013),
// the guard against the exploding gradients of recurrent networks.
#pragma once

#include <vector>

#include "seq2seq/tensor.h"

namespace s2s::ops {

// sqrt(sum over every element of every tensor of x^2), accumulated in double. Each tensor f32 or
// f64, any shape; the dtypes may differ. Undefined tensors are skipped.
double global_norm(const std::vector<Tensor>& tensors);

// Computes norm = global_norm(tensors); when norm > max_norm, scales every tensor in place by
// max_norm / norm, so their global norm becomes max_norm. Returns the norm before clipping.
// A non-finite norm (an inf or NaN gradient) is returned unchanged and nothing is scaled: the
// caller decides (skip the step, lower the loss scale) instead of having NaN spread into every
// tensor. max_norm > 0.
double clip_grad_norm(const std::vector<Tensor>& tensors, double max_norm);

}  // namespace s2s::ops
