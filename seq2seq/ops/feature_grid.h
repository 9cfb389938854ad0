// feature_grid: a CNN's final feature map as attention memory, one vector per grid cell, with a
// learned 2-D position embedding (a row vector plus a column vector) added so that attention can
// tell the cells apart (the image encoder's Memory; DESIGN.md "Data flow").
#pragma once

#include "seq2seq/tensor.h"

namespace s2s::ops {

// out[i * W + j, n, d] = x[n, d, i, j] + row[i, d] + col[j, d]
//   x:   [N, D, H, W]
//   row: [R, D], R >= H (a table sized for the largest grid; rows H.. unused)
//   col: [Q, D], Q >= W
//   out: [H * W, N, D]
void feature_grid_fwd(const Tensor& x, const Tensor& row, const Tensor& col, Tensor& out);
// The gradients for dout [H * W, N, D]: dx [N, D, H, W] overwritten; drow [R, D] and dcol [Q, D]
// accumulated (+=) in their first H and W rows.
void feature_grid_bwd(const Tensor& dout, Tensor& dx, Tensor& drow, Tensor& dcol);

}  // namespace s2s::ops
