// Pooling over NCHW feature maps: max and average over square windows, and the global average
// (one value per channel) that summarises an image.
#pragma once

#include <cstdint>

#include "seq2seq/tensor.h"

namespace s2s::ops {

// Windows of kernel x kernel moved by stride, without padding: OH = (H - kernel) / stride + 1
// (rows and columns that no full window reaches are dropped, as PyTorch does by default).
struct Pool2dArgs {
  int64_t kernel = 2;  // >= 1
  int64_t stride = 2;  // >= 1
};

// OH for input length H, or 0 when the kernel is longer than the input.
int64_t pool_output_size(int64_t in, const Pool2dArgs& args);

// y[n, c, i, j] = max over the window of x; argmax[n, c, i, j] = the flat index ih * W + iw of
// the maximum within its plane (the first one on ties).
//   x: [N, C, H, W]; y: [N, C, OH, OW] x's dtype; argmax: [N, C, OH, OW] i32
void max_pool2d_fwd(const Tensor& x, const Pool2dArgs& args, Tensor& y, Tensor& argmax);
// dx = 0, then dx[n, c, argmax[n, c, i, j]] += dy[n, c, i, j].  dx: [N, C, H, W], overwritten.
void max_pool2d_bwd(const Tensor& dy, const Tensor& argmax, Tensor& dx);

// y[n, c, i, j] = the mean of the window of x.
void avg_pool2d_fwd(const Tensor& x, const Pool2dArgs& args, Tensor& y);
// dx = 0, then each dy spread evenly over its window.  dx: [N, C, H, W], overwritten.
void avg_pool2d_bwd(const Tensor& dy, const Pool2dArgs& args, Tensor& dx);

// y[n, c] = the mean of x[n, c, :, :].  x: [N, C, H, W]; y: [N, C]
void global_avg_pool_fwd(const Tensor& x, Tensor& y);
// dx[n, c, :, :] (+)= dy[n, c] / (H * W); accumulate or overwrite.
void global_avg_pool_bwd(const Tensor& dy, Tensor& dx, bool accumulate = false);

}  // namespace s2s::ops
