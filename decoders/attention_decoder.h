// AttentionDecoder: the decoder of every job (Luong et al. 2015, with input feeding). Per target
// position t, with y the previous token and h~ the previous attentional vector:
//   x_t  = embedding(y_{t-1})                                  [B, E]
//   layer 0: LSTM on x_t and h~_{t-1} (input feeding)          -> h^0_t
//   layer l: LSTM on h^{l-1}_t (dropout between layers)        -> h^l_t
//   c_t  = attention(query h^top_t, over the memory)           [B, Dm]
//   h~_t = tanh(W_context c_t + W_hidden h^top_t)              [B, H]
//   P(y_t | y_<t, x) = softmax(W_out dropout(h~_t) + b)        (W_out may be the target embedding)
// Initial state: h^l_{-1} = tanh(bridge_l(memory summary)), c = 0, h~_{-1} = 0.
// Training runs all positions teacher-forced, then one backward through time that mirrors the
// LSTM hot path: layer 0's embedding projection for all positions is one GEMM each way, and each
// weight gradient is one GEMM over all positions.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "seq2seq/layers/attention.h"
#include "seq2seq/layers/embedding.h"
#include "seq2seq/layers/linear.h"
#include "seq2seq/layers/output.h"
#include "seq2seq/model/decoder.h"

namespace s2s {

struct AttentionDecoderOptions {
  int64_t vocab_size = 0;     // V, target vocabulary; required
  int64_t embed_size = 256;   // E
  int64_t hidden_size = 256;  // H
  int num_layers = 1;         // LSTM layers
  int64_t memory_size = 0;    // Dm, the encoder's memory width; required
  int64_t summary_size = 0;   // Ds, the encoder's summary width; 0: initial state is zero
  ops::AttentionKind attention = ops::AttentionKind::general;  // Luong general or Bahdanau
  int64_t attention_size = 0;                                  // A, additive attention only; 0: H
  bool input_feeding = true;                                   // feed h~_{t-1} into layer 0 (Luong)
  bool tie_embeddings = false;  // output projection = target embedding (needs E == H)
  double dropout = 0.0;         // on embeddings, between layers and on h~; training only
  // Training only: each target input token after the first (BOS) becomes unk_id with this
  // probability, so the decoder cannot lean on the words before alone and must read the memory
  // (Bowman et al. 2016's word dropout); the targets the loss scores stay whole.
  double word_dropout = 0.0;
  int32_t unk_id = 1;
  int32_t pad_id = 0;             // target padding id
  int64_t output_chunk_rows = 0;  // Output layer chunk; 0: its default (32 MiB of logits)
  DType dtype = DType::f32;
  Device device = Device::cpu();
  std::string name = "decoder";  // parameter prefix
  uint64_t seed = 0;
};

class AttentionDecoder : public Decoder {
 public:
  explicit AttentionDecoder(AttentionDecoderOptions options);

  TrainResult forward_backward(const Memory& memory, const Tensor& target_input,
                               const Tensor& target_output, const ops::XentOptions& xent,
                               Rng* rng) override;
  Tensor forward_hidden(const Memory& memory, const Tensor& target_input, Rng* rng) override;
  ops::XentSums output_loss(const Tensor& hidden, const Tensor& target_output,
                            const ops::XentOptions& xent, Tensor& d_hidden) override;
  MemoryGradient backward_hidden(const Tensor& d_hidden) override;
  std::vector<Parameter*> output_parameters() override;
  int64_t hidden_size() const override { return options_.hidden_size; }
  ops::XentSums loss(const Memory& memory, const Tensor& target_input, const Tensor& target_output,
                     const ops::XentOptions& xent, Tensor* target_log_probs = nullptr) override;
  std::unique_ptr<DecoderState> start(const Memory& memory) override;
  Tensor step(DecoderState& state, const Tensor& previous, Tensor* attention = nullptr) override;
  int64_t vocab_size() const override { return options_.vocab_size; }
  // A lexical shortlist for the steps of the next searches (Output::restrict_vocabulary): step()
  // gives -inf to every id not in ids; an empty list lifts the restriction.
  void restrict_vocabulary(const std::vector<int32_t>& ids) { output_->restrict_vocabulary(ids); }

  void collect_parameters(std::vector<Parameter*>& out) override;
  const AttentionDecoderOptions& options() const { return options_; }

 private:
  struct LayerParams {
    Parameter w_ih;    // [4H, E] (layer 0: the embedding input) or [4H, H]
    Parameter w_feed;  // [4H, H], layer 0 with input feeding only
    Parameter w_hh;    // [4H, H]
    Parameter b;       // [4H]
  };
  // Everything the backward pass reads, per batch (reused while shapes repeat).
  struct Cache {
    Tensor embedded;                    // [U, B, E] after dropout
    Tensor embed_dropout;               // [U, B, E] or undefined
    std::vector<Tensor> gates;          // per layer [U, B, 4H]: activations, then gradients
    std::vector<Tensor> h, c;           // per layer [U + 1, B, H]; index 0 = initial state
    std::vector<Tensor> inputs;         // per layer >= 1: [U, B, H] its input after dropout
    std::vector<Tensor> input_dropout;  // per layer >= 1: [U, B, H] mask or undefined
    Tensor feed;                        // [U, B, H] h~_{t-1} as fed to layer 0 (row 0 = 0)
    Tensor context;                     // [U, B, Dm]
    Tensor attentional;                 // [U, B, H] h~_t
    Tensor output_dropout;              // [U, B, H] mask or undefined
    std::vector<Tensor> bridge_out;     // per layer [B, H] tanh(bridge(summary))
  };

  void check_targets(const char* what, const Memory& memory, const Tensor& target_input,
                     const Tensor& target_output) const;
  // The teacher-forced forward pass; record: keep what backward needs (attention steps too).
  // Returns h~ after output dropout, [U * B, H].
  Tensor run_forward(const Memory& memory, const Tensor& target_input, bool record, Rng* rng);
  void initial_state(const Memory& memory, std::vector<Tensor>& h0);
  int64_t hidden() const { return options_.hidden_size; }

  AttentionDecoderOptions options_;
  Embedding embedding_;
  std::vector<LayerParams> layers_;
  std::vector<Linear> bridges_;  // one per layer; empty when summary_size == 0
  Attention attention_;
  Parameter w_context_;  // [H, Dm]
  Parameter w_hidden_;   // [H, H]
  std::unique_ptr<Output> output_;
  Cache cache_;
};

}  // namespace s2s
