// relu: the rectifier of the image encoder's CNN.
#pragma once

#include "seq2seq/tensor.h"

namespace s2s::ops {

// y = max(x, 0); y may be x (the CNN rectifies in place).
void relu_fwd(const Tensor& x, Tensor& y);
// dx = dy where y > 0, else 0, with y = relu_fwd's output; dx may be dy.
void relu_bwd(const Tensor& y, const Tensor& dy, Tensor& dx);

}  // namespace s2s::ops
