// TokenEncoder: embedding, bidirectional bottom layer, upper stack, mean summary.
#include "encoders/token_encoder.h"

#include "seq2seq/ops/check.h"
#include "seq2seq/ops/dropout.h"
#include "seq2seq/ops/elementwise.h"
#include "seq2seq/ops/masked_mean.h"

namespace s2s {
namespace {

EmbeddingOptions embedding_options(const TokenEncoderOptions& o) {
  S2S_CHECK_AS(ConfigError, o.vocab_size > 0 && o.embed_size > 0 && o.hidden_size > 0,
               "encoder: vocab_size, embed_size and hidden_size must be positive");
  S2S_CHECK_AS(ConfigError, o.num_layers >= 1, "encoder: num_layers must be at least 1, got ",
               o.num_layers);
  return {o.vocab_size,
          o.embed_size,
          o.pad_id,
          o.dtype,
          o.device,
          join_name(o.name, "embedding"),
          Rng(o.seed).split(1).seed()};
}

LstmOptions bottom_options(const TokenEncoderOptions& o) {
  LstmOptions l;
  l.input_size = o.embed_size;
  l.hidden_size = o.hidden_size;
  l.num_layers = 1;
  l.bidirectional = true;
  l.dtype = o.dtype;
  l.device = o.device;
  l.name = join_name(o.name, "bottom");
  l.seed = Rng(o.seed).split(2).seed();
  return l;
}

LstmOptions upper_options(const TokenEncoderOptions& o) {
  LstmOptions l;
  l.input_size = 2 * o.hidden_size;
  l.hidden_size = 2 * o.hidden_size;
  l.num_layers = o.num_layers - 1;
  l.residual = o.residual;
  l.dropout = o.dropout;
  l.dtype = o.dtype;
  l.device = o.device;
  l.name = join_name(o.name, "upper");
  l.seed = Rng(o.seed).split(3).seed();
  return l;
}

}  // namespace

TokenEncoder::TokenEncoder(TokenEncoderOptions options)
    : options_(std::move(options)),
      embedding_(embedding_options(options_)),
      bottom_(bottom_options(options_)) {
  if (options_.num_layers > 1) upper_.emplace(upper_options(options_));
}

void TokenEncoder::collect_parameters(std::vector<Parameter*>& out) {
  embedding_.collect_parameters(out);
  bottom_.collect_parameters(out);
  if (upper_) upper_->collect_parameters(out);
}

Memory TokenEncoder::encode(const Tensor& source, const Tensor& source_mask, Rng* rng) {
  return encode_upper(encode_bottom(source, source_mask, rng), source_mask, rng);
}

Tensor TokenEncoder::encode_bottom(const Tensor& source, const Tensor& source_mask, Rng* rng) {
  ops::check::shape("TokenEncoder::encode", "source", source, {-1, -1});
  ops::check::dtype("TokenEncoder::encode", "source", source, DType::i32);
  ops::check::shape("TokenEncoder::encode", "source_mask", source_mask,
                    {source.dim(0), source.dim(1)});
  mask_ = source_mask;
  embedded_ = embedding_.forward(source);  // [S, B, E]
  const bool drop = training() && options_.dropout > 0;
  S2S_CHECK(!drop || rng, "TokenEncoder: dropout in training needs an Rng");
  dropout_mask_ = Tensor();
  if (drop) {
    dropout_mask_ = Tensor::empty(embedded_.shape(), options_.dtype, options_.device);
    ops::dropout_fwd(embedded_, options_.dropout, *rng, dropout_mask_, embedded_);
  }
  bottom_.set_training(training());
  bottom_cached_ = true;
  return bottom_.forward(embedded_, mask_, {}, rng).output;
}

Memory TokenEncoder::encode_upper(const Tensor& bottom, const Tensor& source_mask, Rng* rng) {
  mask_ = source_mask;
  bottom_out_ = bottom;  // the upper stack keeps its input for backward: hold it
  vectors_ = bottom;
  if (upper_) {
    upper_->set_training(training());
    vectors_ = upper_->forward(bottom_out_, mask_, {}, rng).output;
  }
  const int64_t b = bottom.dim(1);
  Tensor summary = Tensor::empty({b, memory_size()}, options_.dtype, options_.device);
  ops::masked_mean_fwd(vectors_, mask_, summary);
  return {vectors_, mask_, summary};
}

void TokenEncoder::backward(const MemoryGradient& gradient) {
  backward_bottom(backward_upper(gradient));
}

Tensor TokenEncoder::backward_upper(const MemoryGradient& gradient) {
  S2S_CHECK(vectors_.defined(), "TokenEncoder::backward without encode");
  Tensor d_vectors = gradient.vectors.defined()
                         ? gradient.vectors.clone()
                         : Tensor::zeros(vectors_.shape(), options_.dtype, options_.device);
  if (gradient.summary.defined()) ops::masked_mean_bwd(gradient.summary, mask_, d_vectors);
  vectors_ = Tensor();
  bottom_out_ = Tensor();
  return upper_ ? upper_->backward(d_vectors).dx : d_vectors;
}

void TokenEncoder::backward_bottom(const Tensor& d_bottom) {
  S2S_CHECK(bottom_cached_, "TokenEncoder::backward_bottom without encode_bottom");
  Tensor d_embedded = bottom_.backward(d_bottom).dx;
  if (dropout_mask_.defined()) ops::dropout_bwd(d_embedded, dropout_mask_, d_embedded);
  embedding_.backward(d_embedded);
  bottom_cached_ = false;
}

std::vector<Parameter*> TokenEncoder::upper_parameters() {
  S2S_CHECK_AS(ConfigError, upper_.has_value(),
               "train.parallel.model.stages 4 splits the encoder after its first layer: it needs "
               "encoder.layers 2 or more, got 1");
  return upper_->parameters();
}

}  // namespace s2s
