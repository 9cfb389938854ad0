// GridMemory: the head both image encoders share. A feature map [B, F, H', W'] is projected by a
// 1x1 convolution to [B, D, H', W'] and becomes the Memory the decoder reads: cell (i, j) at
// s = i * W' + j plus learned row[i] + col[j] position vectors (attention is otherwise blind to
// where a cell is), dropout in training, an all-ones mask, and the global average of the projected
// map (before the positions) as the summary. backward accumulates the projection's and the
// position tables' gradients and returns the gradient of the feature map.
#pragma once

#include <string>
#include <vector>

#include "seq2seq/layers/conv2d.h"
#include "seq2seq/layers/parameter.h"
#include "seq2seq/model/memory.h"
#include "seq2seq/random.h"

namespace s2s {

class GridMemory {
 public:
  // Parameters name.project.* (1x1, features -> width) and name.position.row / .col
  // ([max_grid_size, width]), drawn from the streams 1000 and 2000 of seed.
  GridMemory(const std::string& name, int64_t features, int64_t max_grid_size, int64_t width,
             double dropout, DType dtype, Device device, uint64_t seed);

  // features: [B, F, H', W']. rng is needed when dropout > 0 and training.
  Memory forward(const Tensor& features, bool training, Rng* rng);
  // The gradient of the features, or an undefined tensor when input_gradient is false (a frozen
  // network below needs none).
  Tensor backward(const MemoryGradient& gradient, bool input_gradient = true);
  void collect_parameters(std::vector<Parameter*>& out);

 private:
  Conv2d project_;  // 1x1, F -> D
  Parameter row_;   // [max_grid_size, D]
  Parameter col_;   // [max_grid_size, D]
  double dropout_ = 0;
  Shape projected_shape_;
  Tensor dropout_mask_;  // [S, B, D] or undefined
};

}  // namespace s2s
