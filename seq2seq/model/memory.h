// Memory: what every encoder hands the decoder (DESIGN.md "Data flow"). The token encoder's
// memory is one vector per source token, the image encoder's one per feature-grid cell; the
// decoder attends over either the same way (Show, Attend and Tell).
#pragma once

#include "seq2seq/tensor.h"

namespace s2s {

struct Memory {
  Tensor vectors;  // [S, B, D] what attention reads (its values; the decoder projects its keys)
  Tensor mask;     // [S, B] 1 = real position, 0 = padding; vectors' dtype
  Tensor summary;  // [B, Ds] one vector per sequence that initialises the decoder state
};

// The gradient of a Memory, as the decoder returns it to the encoder.
struct MemoryGradient {
  Tensor vectors;  // [S, B, D]
  Tensor summary;  // [B, Ds]
};

}  // namespace s2s
