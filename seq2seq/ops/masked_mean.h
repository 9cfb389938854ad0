// masked_mean: the mean of a sequence's vectors over its real positions, the summary an encoder
// hands the decoder to initialise its state.
#pragma once

#include "seq2seq/tensor.h"

namespace s2s::ops {

// out[b] = sum_s mask[s, b] * x[s, b] / sum_s mask[s, b]. Every column needs a real position.
//   x:    [S, B, D]
//   mask: [S, B], x's dtype; 0 = padding, 1 = real (weights other than 0/1 are used as given)
//   out:  [B, D]
void masked_mean_fwd(const Tensor& x, const Tensor& mask, Tensor& out);
// dx[s, b] += mask[s, b] * dout[b] / sum_s mask[s, b]  (accumulates into dx)
void masked_mean_bwd(const Tensor& dout, const Tensor& mask, Tensor& dx);

}  // namespace s2s::ops
