// TokenEncoder: the encoder of the translate and reply jobs. Token ids -> embeddings -> one
// bidirectional LSTM layer -> optional further unidirectional layers (residual connections from
// the third layer on, as GNMT) -> Memory: one vector per source token, and their masked mean as
// the summary that initialises the decoder.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "seq2seq/layers/embedding.h"
#include "seq2seq/layers/lstm.h"
#include "seq2seq/model/encoder.h"

namespace s2s {

struct TokenEncoderOptions {
  int64_t vocab_size = 0;     // source vocabulary; required
  int64_t embed_size = 256;   // E
  int64_t hidden_size = 256;  // H per direction of the bottom layer; memory vectors have 2H
  int num_layers = 2;         // 1 bidirectional + (num_layers - 1) unidirectional layers of 2H
  bool residual = true;       // residual connections in the upper stack (its layers 3+)
  double dropout = 0.0;       // on embeddings and between layers, training only
  int32_t pad_id = 0;         // source padding id (embeds to zeros)
  DType dtype = DType::f32;
  Device device = Device::cpu();
  std::string name = "encoder";  // parameter prefix
  uint64_t seed = 0;             // initialisation
};

class TokenEncoder : public Encoder {
 public:
  explicit TokenEncoder(TokenEncoderOptions options);

  // source: [S, B] i32, source_mask: [S, B] (dtype of the model), 1 = token, 0 = padding.
  Memory encode(const Tensor& source, const Tensor& source_mask, Rng* rng) override;
  void backward(const MemoryGradient& gradient) override;
  Tensor encode_bottom(const Tensor& source, const Tensor& source_mask, Rng* rng) override;
  Memory encode_upper(const Tensor& bottom, const Tensor& source_mask, Rng* rng) override;
  Tensor backward_upper(const MemoryGradient& gradient) override;
  void backward_bottom(const Tensor& d_bottom) override;
  std::vector<Parameter*> upper_parameters() override;
  int64_t memory_size() const override { return 2 * options_.hidden_size; }
  int64_t summary_size() const override { return 2 * options_.hidden_size; }
  void collect_parameters(std::vector<Parameter*>& out) override;
  const TokenEncoderOptions& options() const { return options_; }

 private:
  TokenEncoderOptions options_;
  Embedding embedding_;
  Lstm bottom_;                 // bidirectional, 1 layer
  std::optional<Lstm> upper_;   // unidirectional, num_layers - 1 layers of 2H
  Tensor embedded_;             // [S, B, E] after dropout
  Tensor dropout_mask_;         // [S, B, E] or undefined
  Tensor mask_;                 // [S, B]
  Tensor vectors_;              // [S, B, 2H]
  Tensor bottom_out_;           // [S, B, 2H]: the upper stack's input, kept for its backward
  bool bottom_cached_ = false;  // encode_bottom ran since the last backward_bottom
};

}  // namespace s2s
