// Small elementwise ops the layers glue together with: bias, axpy, scale, tanh.
#pragma once

#include "seq2seq/tensor.h"

namespace s2s::ops {

// x[..., D] += bias[D], broadcast over every leading index.
void add_bias(Tensor& x, const Tensor& bias);
// dbias[D] = (accumulate ? dbias : 0) + sum of dy[..., D] over every leading index.
void bias_grad(const Tensor& dy, Tensor& dbias, bool accumulate = true);
// y += alpha * x; same shape.
void axpy(double alpha, const Tensor& x, Tensor& y);
// x *= alpha.
void scale(Tensor& x, double alpha);
// y = tanh(x); y may be x.
void tanh_fwd(const Tensor& x, Tensor& y);
// dx = (accumulate ? dx : 0) + dy * (1 - y^2), where y = tanh(x); dx may be dy if !accumulate.
void tanh_bwd(const Tensor& y, const Tensor& dy, Tensor& dx, bool accumulate = false);

}  // namespace s2s::ops
