// index_select: picks rows of one dimension by index, the way a search drops finished
// hypotheses, reorders beams or repeats a sentence once per beam.
#pragma once

#include <cstdint>
#include <vector>

#include "seq2seq/tensor.h"

namespace s2s::ops {

// A new tensor whose index i along dim is src's index indices[i] along dim (dim 0 or 1);
// indices may repeat and may be fewer or more than src.dim(dim). Every index is checked.
//   dim 0: src [N, ...]    -> [M, ...]
//   dim 1: src [S, N, ...] -> [S, M, ...]
Tensor index_select(const Tensor& src, int dim, const std::vector<int32_t>& indices);

}  // namespace s2s::ops
