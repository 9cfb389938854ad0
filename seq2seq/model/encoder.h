// Encoder: the interface both encoders implement (encoders/ for tokens, image_encoder/ for
// images). Training calls encode then backward; search calls encode once per batch.
#pragma once

#include "seq2seq/error.h"
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

  // Model parallelism (train.parallel.model stages 4): encode and backward in two parts, the
  // bottom (embedding and first layer) and the upper layers with the summary, for a pipeline that
  // puts them on two ranks. encode = encode_upper(encode_bottom(...)), backward = backward_bottom
  // (backward_upper(...)); each part keeps its own cache. upper_parameters: the upper part's.
  // Encoders that cannot be split throw ConfigError.
  virtual Tensor encode_bottom(const Tensor&, const Tensor&, Rng*) { throw unsplittable(); }
  virtual Memory encode_upper(const Tensor&, const Tensor&, Rng*) { throw unsplittable(); }
  virtual Tensor backward_upper(const MemoryGradient&) { throw unsplittable(); }
  virtual void backward_bottom(const Tensor&) { throw unsplittable(); }
  virtual std::vector<Parameter*> upper_parameters() { throw unsplittable(); }

 private:
  static ConfigError unsplittable() {
    return ConfigError(
        "this encoder cannot be split across pipeline stages (train.parallel.model.stages 4 "
        "needs a token encoder of at least 2 layers)");
  }
};

}  // namespace s2s
