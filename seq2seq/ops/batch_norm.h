// batch_norm: batch normalization (Ioffe & Szegedy 2015) per channel over N, H and W, the
// normalization of the image encoder's CNN.
#pragma once

#include "seq2seq/tensor.h"

namespace s2s::ops {

struct BatchNormArgs {
  bool training = true;   // batch statistics (and a running-statistics update), else running ones
  double eps = 1e-5;      // added to the variance, > 0
  double momentum = 0.1;  // running = (1 - momentum) * running + momentum * batch, in [0, 1]
};

// y[n, c, h, w] = gamma[c] * (x[n, c, h, w] - mean[c]) * inv_std[c] + beta[c], inv_std[c] =
// 1 / sqrt(var[c] + eps), where in training mode mean and var are the batch's (over the M = N*H*W
// values of channel c; var biased, as the normalization uses it) and running_mean/running_var
// are updated with the batch's mean and unbiased variance (PyTorch's convention; M >= 2 needed;
// a channel whose batch statistics are not finite leaves its running ones unchanged); in
// inference mode they are running_mean/running_var, left unchanged.
//   x, y:                          [N, C, H, W] (y may be x)
//   gamma, beta:                   [C]
//   running_mean, running_var:     [C], updated in training mode
//   save_mean, save_inv_std:       [C], receive the mean and inv_std used, for batch_norm_bwd
void batch_norm_fwd(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                    Tensor& running_var, const BatchNormArgs& args, Tensor& y, Tensor& save_mean,
                    Tensor& save_inv_std);

// The gradients of batch_norm_fwd for dy [N, C, H, W], from forward's x and saved statistics.
// batch_stats: forward ran in training mode, so mean and inv_std depend on x (the full batch-norm
// gradient); false: they were constants (inference mode, a frozen network).
//   dx: [N, C, H, W], overwritten;  dgamma, dbeta: [C], accumulated (+=)
void batch_norm_bwd(const Tensor& x, const Tensor& dy, const Tensor& gamma, const Tensor& save_mean,
                    const Tensor& save_inv_std, bool batch_stats, Tensor& dx, Tensor& dgamma,
                    Tensor& dbeta);

}  // namespace s2s::ops
