// Attention: the decoder's attention over the encoder memory, Luong "general" or Bahdanau
// "additive". The work is split the way a decoder uses it: precompute() projects the memory to
// keys once per batch; then one call per decoder step. Training records each step
// (forward_step) and backpropagates them in reverse (backward_step), pushing the key gradients of
// all steps through the key projection once at the end (finish_backward); search calls
// infer_step, which records nothing. Values are the memory itself, so the context has Dm dims.
//
//   general:  keys = memory W_key^T            W_key [Dq, Dm]
//             score[b, s] = <query[b], keys[s, b]>
//   additive: keys = memory W_key^T            W_key [A, Dm], W_query [A, Dq], v [A]
//             score[b, s] = <v, tanh(keys[s, b] + W_query query[b])>
//   weights = masked softmax of score over s; context[b] = sum_s weights[b, s] memory[s, b]
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "seq2seq/layers/layer.h"
#include "seq2seq/ops/attention.h"

namespace s2s {

struct AttentionOptions {
  ops::AttentionKind kind = ops::AttentionKind::general;  // scoring function
  int64_t query_size = 0;          // Dq, the decoder state's width; required (> 0)
  int64_t memory_size = 0;         // Dm, the encoder memory's width (and the context's); required
  int64_t attention_size = 0;      // A, the additive scoring width; required for additive only
  DType dtype = DType::f32;        // f32, or f64 for gradient checks
  Device device = Device::cpu();   // where parameters and activations live
  std::string name = "attention";  // parameter prefix: "<name>.w_key", ".w_query", ".v"
  uint64_t seed = 0;               // stream for the initialisation (Glorot uniform, v as [1, A])
};

struct AttentionOutput {
  Tensor context;  // [B, Dm]
  Tensor weights;  // [B, S]; exactly 0 at padded positions, each row sums to 1
};

class Attention : public Layer {
 public:
  explicit Attention(AttentionOptions options);

  // Starts a batch: keeps views of memory and mask, projects the keys once (one GEMM), and drops
  // any recorded steps and gradient buffers of the previous batch. The caller must not overwrite
  // memory or mask while the batch is in use. mask has memory's dtype: nonzero = real position;
  // every column needs one.
  void precompute(const Tensor& memory, const Tensor& mask);  // [S, B, Dm], [S, B]

  // One decoder step, recorded for backward (training, teacher forcing): keeps the query and
  // the weights (and, additive, the projected query; tanh is recomputed in backward).
  AttentionOutput forward_step(const Tensor& query);  // [B, Dq]
  // One decoder step, recorded nowhere (search, evaluation): memory use does not grow with steps.
  AttentionOutput infer_step(const Tensor& query) const;  // [B, Dq]
  // Search with reordering: the batch's memory, mask and projected keys as a value the caller
  // owns, so a beam search can select, repeat or reorder its columns between steps; and a step
  // against it. Touches none of the training state.
  struct Prepared {
    Tensor memory;  // [S, N, Dm]
    Tensor mask;    // [S, N]
    Tensor keys;    // [S, N, K]
  };
  Prepared prepare(const Tensor& memory, const Tensor& mask) const;
  AttentionOutput infer_step(const Prepared& prepared, const Tensor& query) const;  // [N, Dq]

  // Steps recorded by forward_step and not yet backpropagated.
  int64_t recorded_steps() const { return static_cast<int64_t>(steps_.size()); }

  // Backpropagates the most recent recorded step not yet backpropagated, so steps go back in
  // the reverse order of forward_step, as an LSTM decoder's backward runs anyway. dweights is
  // the gradient reaching the weights directly (coverage, alignment losses) or undefined.
  // Returns dquery [B, Dq]; accumulates the memory gradient through the values and the keys'
  // gradient (internally, until finish_backward) and the grads of w_query and v.
  Tensor backward_step(const Tensor& dcontext,        // [B, Dm]
                       const Tensor& dweights = {});  // [B, S] or undefined
  // After the last backward_step: pushes the keys' gradient summed over all steps through the
  // key projection (one GEMM for dmemory, one for w_key's grad) and returns the whole memory
  // gradient, values and keys paths together, and resets the gradient buffers. Throws if recorded
  // steps remain. Padded memory rows must be finite here (0 * NaN in w_key's grad GEMM).
  Tensor finish_backward();  // -> dmemory [S, B, Dm]

  void collect_parameters(std::vector<Parameter*>& out) override;
  const AttentionOptions& options() const { return options_; }
  Parameter& w_key() { return w_key_; }      // [Dq, Dm] general, [A, Dm] additive
  Parameter& w_query() { return w_query_; }  // [A, Dq]; additive only
  Parameter& v() { return v_; }              // [A]; additive only

 private:
  struct Step {
    Tensor query;      // [B, Dq]
    Tensor projected;  // [B, A], W_query query; additive only
    Tensor weights;    // [B, S]
  };
  bool additive() const { return options_.kind == ops::AttentionKind::additive; }
  int64_t key_size() const { return additive() ? options_.attention_size : options_.query_size; }
  void check_query(const char* method, const Tensor& query) const;
  void check_memory(const std::string& op, const Tensor& memory, const Tensor& mask) const;
  Tensor project_keys(const Tensor& memory) const;
  AttentionOutput step(const Tensor& keys, const Tensor& memory, const Tensor& mask,
                       const Tensor& query, Tensor* projected) const;

  AttentionOptions options_;
  Parameter w_key_, w_query_, v_;
  Tensor memory_, mask_;  // the batch, as given to precompute
  Tensor keys_;           // [S, B, K], K = key_size()
  std::vector<Step> steps_;
  Tensor dkeys_;    // [S, B, K], summed over the backpropagated steps
  Tensor dmemory_;  // [S, B, Dm], the values path so far
};

}  // namespace s2s
