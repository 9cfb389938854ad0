// Decoder: the interface the trainer and the search use (decoders/ implements it). Training runs
// the whole target teacher-forced and returns the loss with the gradients already computed (the
// output layer turns logits into gradients chunk by chunk, so forward and backward are one call);
// search starts a state per batch and advances it one token at a time.
#pragma once

#include <memory>
#include <vector>

#include "seq2seq/layers/layer.h"
#include "seq2seq/model/memory.h"
#include "seq2seq/ops/log_softmax_xent.h"
#include "seq2seq/random.h"

namespace s2s {

// Per-batch search state of a decoder: hidden states, input feeding, attention memory.
class DecoderState {
 public:
  virtual ~DecoderState() = default;
  // Keeps rows[i] of the old state as row i of the new one: drops finished hypotheses, reorders
  // beams, or repeats a sentence's row for each of its beams. Rows index the batch dimension N.
  virtual void select(const std::vector<int32_t>& rows) = 0;
  virtual int64_t rows() const = 0;  // N
  // A new state holding rows[i] of this one as row i; this one is unchanged. With append, lets
  // a best-first search keep every expanded prefix's state in one pool and step any subset.
  virtual std::unique_ptr<DecoderState> gather(const std::vector<int32_t>& rows) const = 0;
  // Appends the rows of other, a state of the same start() (gathered and stepped), after this
  // one's. Amortized: the rows are copied once into buffers that grow geometrically.
  virtual void append(const DecoderState& other) = 0;
};

class Decoder : public Layer {
 public:
  struct TrainResult {
    ops::XentSums loss;       // summed over real target tokens
    MemoryGradient d_memory;  // to pass to Encoder::backward
  };

  // target_input: [U, B] i32 (BOS then the target), target_output: [U, B] i32 (the target then
  // EOS; padding = xent.pad_id). Computes loss and accumulates every parameter gradient, with
  // d(loss)/d(logits) scaled by xent.grad_scale.
  virtual TrainResult forward_backward(const Memory& memory, const Tensor& target_input,
                                       const Tensor& target_output, const ops::XentOptions& xent,
                                       Rng* rng) = 0;
  // forward_backward in three parts, for a pipeline that puts the output layer on a stage of
  // its own (train.parallel.model): the attentional states to the output layer, [U * B, H]
  // (dropout applied; cached for backward_hidden); the output layer's loss, its parameters'
  // gradients and d_hidden; and the backward from d_hidden to the memory. forward_backward equals
  // the three in order. output_parameters: the output layer's (none shared with the rest).
  virtual Tensor forward_hidden(const Memory& memory, const Tensor& target_input, Rng* rng) = 0;
  virtual ops::XentSums output_loss(const Tensor& hidden, const Tensor& target_output,
                                    const ops::XentOptions& xent, Tensor& d_hidden) = 0;
  virtual MemoryGradient backward_hidden(const Tensor& d_hidden) = 0;
  virtual std::vector<Parameter*> output_parameters() = 0;
  virtual int64_t hidden_size() const = 0;
  // The same loss without gradients or caches (validation, scoring). target_log_probs, if given,
  // receives log P(y_u | y_<u, x) per target position, [U, B] (0 at padding).
  virtual ops::XentSums loss(const Memory& memory, const Tensor& target_input,
                             const Tensor& target_output, const ops::XentOptions& xent,
                             Tensor* target_log_probs = nullptr) = 0;

  // Search: a state for the batch of memory (N = B rows), then one step per output token.
  virtual std::unique_ptr<DecoderState> start(const Memory& memory) = 0;
  // previous: [N] i32, the token each row emitted last (BOS first). Returns log-probabilities of
  // the next token [N, V]; attention, if given, receives the attention weights [N, S].
  virtual Tensor step(DecoderState& state, const Tensor& previous, Tensor* attention = nullptr) = 0;

  virtual int64_t vocab_size() const = 0;
};

}  // namespace s2s
