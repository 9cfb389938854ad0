// GridMemory: the head both image encoders share. A projected feature map [B, D, H', W'] becomes
// the Memory the decoder reads: cell (i, j) at s = i * W' + j plus learned row[i] + col[j]
// position vectors (attention is otherwise blind to where a cell is), dropout in training, an
// all-ones mask, and the global average of the map (before the positions) as the summary.
// backward returns the gradient of the projected map and accumulates the position tables'.
#pragma once

#include <string>
#include <vector>

#include "seq2seq/layers/parameter.h"
#include "seq2seq/model/memory.h"
#include "seq2seq/random.h"

namespace s2s {

class GridMemory {
 public:
  GridMemory() = default;
  // Parameters name.position.row / name.position.col, [max_grid_size, width], drawn from rng.
  GridMemory(const std::string& name, int64_t max_grid_size, int64_t width, double dropout,
             DType dtype, Device device, Rng rng);

  // rng is needed when dropout > 0 and training.
  Memory forward(const Tensor& projected, bool training, Rng* rng);
  Tensor backward(const MemoryGradient& gradient);
  void collect_parameters(std::vector<Parameter*>& out);

 private:
  Parameter row_;  // [max_grid_size, D]
  Parameter col_;  // [max_grid_size, D]
  double dropout_ = 0;
  Shape projected_shape_;
  Tensor dropout_mask_;  // [S, B, D] or undefined
};

}  // namespace s2s
