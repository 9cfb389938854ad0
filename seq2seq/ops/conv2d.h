// conv2d: 2-D convolution (cross-correlation, as every framework computes it) over NCHW images,
// the op of the image encoder's CNN. CPU: im2col + one GEMM per group of images.
#pragma once

#include <cstdint>

#include "seq2seq/tensor.h"

namespace s2s::ops {

struct Conv2dArgs {
  int64_t stride = 1;   // the same along height and width, >= 1
  int64_t padding = 0;  // zeros added on each side of height and width, >= 0
};

// Output length along one axis: (in + 2 * padding - kernel) / stride + 1, or 0 when the padded
// input is shorter than the kernel.
int64_t conv_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t padding);

// y[n, o, i, j] = bias[o] + sum_{c, u, v} weight[o, c, u, v] * x[n, c, i*s - p + u, j*s - p + v]
// (positions outside the image read 0).
//   x:      [N, C, H, W]
//   weight: [O, C, KH, KW]   (PyTorch's layout)
//   bias:   [O], or undefined for none
//   y:      [N, O, OH, OW], preallocated; OH, OW by conv_output_size (both >= 1)
// One floating dtype and one device throughout. CUDA: no body yet (BackendUnavailable).
void conv2d_fwd(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dArgs& args,
                Tensor& y);

// The gradients of conv2d_fwd for dy [N, O, OH, OW]:
//   dx:      [N, C, H, W], overwritten; null when the input needs no gradient (the pixels)
//   dweight: [O, C, KH, KW], accumulated (+=)
//   dbias:   [O], accumulated (+=); null when the convolution has no bias
void conv2d_bwd(const Tensor& x, const Tensor& weight, const Tensor& dy, const Conv2dArgs& args,
                Tensor* dx, Tensor& dweight, Tensor* dbias);

}  // namespace s2s::ops
