// Output: the projection from decoder states to the vocabulary and the training loss on top of
// it. With a 32k vocabulary the logits are the largest tensor of training (N x V for N target
// tokens), so the loss is computed in chunks of rows and the full [N, V] never exists.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "seq2seq/layers/layer.h"
#include "seq2seq/ops/log_softmax_xent.h"

namespace s2s {

struct OutputOptions {
  // Rows of hidden per chunk in forward_backward_loss and loss_only. 0 (default): as many as
  // fit kChunkBytes of logits, i.e. 32 MiB / (V * sizeof(dtype)) rows (256 rows of f32 at
  // V = 32k), at least 1. A few hundred rows keep the GEMMs efficient.
  int64_t chunk_rows = 0;
};

class Output : public Layer {
 public:
  static constexpr int64_t kChunkBytes = int64_t{32} << 20;

  // An untied projection owning "<prefix>.weight" [V, D] (PyTorch's nn.Linear layout, Glorot
  // uniform from rng) and "<prefix>.bias" [V] (zeros).
  Output(const std::string& prefix, int64_t vocab, int64_t dim, Rng& rng, DType dtype = DType::f32,
         Device device = Device::cpu(), OutputOptions options = {});
  // A projection tied to tied_weight, the [V, D] weight of the target Embedding (Press & Wolf,
  // 2017): logits use it, its gradient accumulates into tied_weight.grad, and only the bias
  // "<prefix>.bias" belongs to this layer. The weight is listed by its owner alone (so
  // optimizers and checkpoints see it once), and the owner must outlive this layer.
  Output(const std::string& prefix, Parameter& tied_weight, OutputOptions options = {});

  // Loss and all gradients in one chunked pass, for training.
  //   hidden:   [N, D] decoder states, the layer's dtype and device
  //   targets:  [N] i32; rows with target == xent.pad_id contribute nothing
  //   d_hidden: [N, D], overwritten with d(loss)/d(hidden) * xent.grad_scale; allocated if
  //             undefined (a caller may pass a view of its own buffer instead)
  // Accumulates (+=) d(loss)/d(weight) * grad_scale into weight().grad and the same for the bias.
  // Per chunk of C rows: logits = H_c W^T + b into one reused [C, V] buffer, the fused xent
  // turns it into dlogits in place, then dH_c = dlogits W, dW += dlogits^T H_c, db += colsum.
  // Memory beyond inputs, outputs and parameters: the one [C, V] buffer (C = chunk_rows, at
  // most kChunkBytes by default), kept by the layer between calls. Results equal an unchunked
  // computation up to rounding (the dW/db sums are only reordered).
  ops::XentSums forward_backward_loss(const Tensor& hidden, const Tensor& targets,
                                      const ops::XentOptions& xent, Tensor& d_hidden);
  // The loss without gradients (validation, scoring), chunked the same way.
  //   target_log_probs: optional [N], log p(target) per row (0 on padding rows)
  ops::XentSums loss_only(const Tensor& hidden, const Tensor& targets, const ops::XentOptions& xent,
                          Tensor* target_log_probs = nullptr);
  // Log-probabilities of every token, for search: [N, D] -> [N, V]. Not chunked: search asks for
  // N = live hypotheses (batch x beam) rows, and needs them all. Under restrict_vocabulary the
  // logits of the allowed ids alone are computed and normalized over them; every other id gets
  // -inf, so a search over the [N, V] result never picks one. The result is then a view of a
  // buffer the layer keeps while the restriction lasts (its -inf columns are written once): it
  // is valid until the next call, and a caller may change it in place (an ensemble's sums, a
  // search's masks) as long as it writes no finite value into a column outside the shortlist.
  Tensor log_probs(const Tensor& hidden);
  // A lexical shortlist for search (Marian's --shortlist): ids, sorted and unique, each in
  // [0, V), are the only outputs log_probs allows until the next call; an empty list allows the
  // whole vocabulary again (the default, and exactly the unrestricted computation). The rows of
  // the weight (float or int8) and bias for the ids are copied here, once per batch of a search.
  // CPU only: on another device the restriction is ignored. Throws InvalidArgument for ids that
  // are not sorted, unique and in range.
  void restrict_vocabulary(const std::vector<int32_t>& ids);
  int64_t allowed_vocabulary() const;  // V, or the size of the restriction

  Parameter& weight() { return tied_ ? *tied_ : weight_; }  // [V, D]
  Parameter& bias() { return bias_; }                       // [V]
  bool tied() const { return tied_ != nullptr; }
  int64_t vocab() const { return bias_.value.dim(0); }
  int64_t dim() const;
  // The chunk size used for a batch of this layer's dtype.
  int64_t chunk_rows() const;

  void collect_parameters(std::vector<Parameter*>& out) override;

 private:
  void check_hidden(const char* what, const Tensor& hidden);
  void check_targets(const char* what, const Tensor& hidden, const Tensor& targets);
  Tensor& chunk_buffer(int64_t rows);

  Parameter weight_;           // undefined when tied
  Parameter* tied_ = nullptr;  // the Embedding's weight when tied
  Parameter bias_;
  OutputOptions options_;
  Tensor buffer_;  // [C, V] logits/dlogits of one chunk, reused across calls
  // restrict_vocabulary's subset: its ids, their weight rows ([V', D]; float or int8) and biases.
  std::vector<int32_t> allowed_;
  Parameter allowed_weight_;
  Tensor allowed_bias_;
  Tensor restricted_;  // [rows, V]: -inf outside the allowed columns (log_probs' result)
};

}  // namespace s2s
