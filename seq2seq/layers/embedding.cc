// Embedding: initialisation and the reshapes around ops::embedding_fwd/bwd.
#include "seq2seq/layers/embedding.h"

#include "seq2seq/ops/embedding.h"

namespace s2s {

Embedding::Embedding(EmbeddingOptions options) : options_(std::move(options)) {
  S2S_CHECK_AS(ConfigError, options_.vocab_size > 0 && options_.embed_size > 0, "Embedding '",
               options_.name, "': vocab_size (", options_.vocab_size, ") and embed_size (",
               options_.embed_size, ") must be positive");
  S2S_CHECK_AS(ConfigError, options_.pad_id >= -1 && options_.pad_id < options_.vocab_size,
               "Embedding '", options_.name, "': pad_id ", options_.pad_id,
               " must be -1 (none) or an id below vocab_size ", options_.vocab_size);
  weight_ =
      Parameter::make(join_name(options_.name, "weight"),
                      {options_.vocab_size, options_.embed_size}, options_.dtype, options_.device);
  Rng rng(options_.seed);
  init_glorot_uniform(weight_.value, rng);
  // The pad row is never read, but a zero row keeps exported weights meaning what they say.
  if (options_.pad_id >= 0) {
    Tensor pad_row = weight_.value.select(options_.pad_id);
    pad_row.zero();
  }
}

void Embedding::collect_parameters(std::vector<Parameter*>& out) {
  out.push_back(&weight_);
}

Tensor Embedding::forward(const Tensor& ids) {
  S2S_CHECK_SHAPE(ids.defined() && ids.rank() >= 1 && ids.rank() <= 3, "Embedding '", options_.name,
                  "' forward: ids is ", ids.str(), ", expected rank 1 to 3");
  ids_ = ids.reshape({ids.numel()});
  Tensor out = Tensor::empty({ids.numel(), options_.embed_size}, options_.dtype, options_.device);
  if (weight_.quantized())  // an int8 model's table (s2s quantize)
    ops::embedding_fwd(weight_.int8, ids_, out, options_.pad_id);
  else
    ops::embedding_fwd(weight_.value, ids_, out, options_.pad_id);
  std::vector<int64_t> dims = ids.shape().dims();
  dims.push_back(options_.embed_size);
  return out.reshape(Shape(dims));
}

void Embedding::backward(const Tensor& dout) {
  S2S_CHECK(ids_.defined(), "Embedding '", options_.name,
            "' backward: no forward to backpropagate");
  S2S_CHECK_SHAPE(dout.defined() && dout.rank() >= 1 &&
                      dout.numel() == ids_.numel() * options_.embed_size &&
                      dout.dim(-1) == options_.embed_size,
                  "Embedding '", options_.name, "' backward: dout is ", dout.str(),
                  ", expected forward's output shape [..., ", options_.embed_size, "] with ",
                  ids_.numel(), " rows");
  ops::embedding_bwd(ids_, dout.reshape({ids_.numel(), options_.embed_size}), weight_.grad,
                     options_.pad_id);
}

}  // namespace s2s
