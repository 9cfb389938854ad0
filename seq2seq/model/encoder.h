// Encoder: the interface both encoders implement (encoders/ for tokens, image_encoder/ for
// images). Training calls encode then backward; search calls encode once per batch.
#pragma once

#include "seq2seq/layers/layer.h"
#include "seq2seq/model/memory.h"
#include "seq2seq/random.h"

namespace s2s {

class Encoder : public Layer {
 public:
  // source: token ids [S, B] i32 with source_mask [S, B] (token encoder), or pixels [B, C, H, W]
  // with an undefined mask (image encoder). rng draws dropout masks in training mode.
  // The returned memory stays valid until the next encode.
  virtual Memory encode(const Tensor& source, const Tensor& source_mask, Rng* rng) = 0;
  // Backpropagates the last encode; accumulates parameter gradients.
  virtual void backward(const MemoryGradient& gradient) = 0;
  // Widths of the memory it produces: D and Ds.
  virtual int64_t memory_size() const = 0;
  virtual int64_t summary_size() const = 0;
};

}  // namespace s2s
