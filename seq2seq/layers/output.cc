// Output: the chunked projection + loss loop; the arithmetic is ops::gemm, ops::add_bias,
// ops::bias_grad and ops::log_softmax_xent.
#include "seq2seq/layers/output.h"

#include <algorithm>

#include "seq2seq/ops/check.h"
#include "seq2seq/ops/elementwise.h"
#include "seq2seq/ops/gemm.h"

namespace s2s {

Output::Output(const std::string& prefix, int64_t vocab, int64_t dim, Rng& rng, DType dtype,
               Device device, OutputOptions options)
    : options_(options) {
  S2S_CHECK(vocab > 0 && dim > 0, "Output '", prefix, "': vocab and dim must be positive, got ",
            vocab, " and ", dim);
  S2S_CHECK(options.chunk_rows >= 0, "Output '", prefix, "': chunk_rows must be >= 0, got ",
            options.chunk_rows);
  weight_ = Parameter::make(join_name(prefix, "weight"), {vocab, dim}, dtype, device);
  init_glorot_uniform(weight_.value, rng);
  bias_ = Parameter::make(join_name(prefix, "bias"), {vocab}, dtype, device);
}

Output::Output(const std::string& prefix, Parameter& tied_weight, OutputOptions options)
    : tied_(&tied_weight), options_(options) {
  const Tensor& w = tied_weight.value;
  S2S_CHECK_SHAPE(w.defined() && w.rank() == 2 && w.dim(0) > 0 && w.dim(1) > 0, "Output '", prefix,
                  "': tied weight '", tied_weight.name, "' must be [V, D], got ", w.str());
  S2S_CHECK(w.dtype() != DType::i32, "Output '", prefix, "': tied weight '", tied_weight.name,
            "' is not floating: ", w.str());
  S2S_CHECK(options.chunk_rows >= 0, "Output '", prefix, "': chunk_rows must be >= 0, got ",
            options.chunk_rows);
  bias_ = Parameter::make(join_name(prefix, "bias"), {w.dim(0)}, w.dtype(), w.device());
}

int64_t Output::dim() const {
  return (tied_ ? tied_->value : weight_.value).dim(1);
}

int64_t Output::chunk_rows() const {
  if (options_.chunk_rows > 0) return options_.chunk_rows;
  const int64_t row_bytes = vocab() * static_cast<int64_t>(dtype_size(bias_.value.dtype()));
  return std::max<int64_t>(1, kChunkBytes / row_bytes);
}

void Output::collect_parameters(std::vector<Parameter*>& out) {
  if (!tied_) out.push_back(&weight_);
  out.push_back(&bias_);
}

void Output::check_hidden(const char* what, const Tensor& hidden) {
  ops::check::shape(what, "hidden", hidden, {-1, dim()});
  ops::check::same_kind(what, "weight", weight().value, "hidden", hidden);
}

void Output::check_targets(const char* what, const Tensor& hidden, const Tensor& targets) {
  ops::check::shape(what, "targets", targets, {hidden.dim(0)});
  ops::check::dtype(what, "targets", targets, DType::i32);
  ops::check::same_device(what, "hidden", hidden, "targets", targets);
}

Tensor& Output::chunk_buffer(int64_t rows) {
  const Tensor& w = weight().value;
  if (!buffer_.defined() || buffer_.dim(0) < rows || buffer_.dtype() != w.dtype() ||
      buffer_.device() != w.device())
    buffer_ = Tensor::empty({rows, vocab()}, w.dtype(), w.device());
  return buffer_;
}

ops::XentSums Output::forward_backward_loss(const Tensor& hidden, const Tensor& targets,
                                            const ops::XentOptions& xent, Tensor& d_hidden) {
  constexpr const char* what = "Output::forward_backward_loss";
  check_hidden(what, hidden);
  check_targets(what, hidden, targets);
  const int64_t n = hidden.dim(0);
  if (!d_hidden.defined())
    d_hidden = Tensor::empty(hidden.shape(), hidden.dtype(), hidden.device());
  ops::check::shape(what, "d_hidden", d_hidden, {n, dim()});
  ops::check::same_kind(what, "hidden", hidden, "d_hidden", d_hidden);

  Parameter& w = weight();
  const int64_t chunk = std::min(chunk_rows(), std::max<int64_t>(n, 1));
  Tensor& buffer = chunk_buffer(chunk);
  ops::XentSums sums;
  for (int64_t begin = 0; begin < n; begin += chunk) {
    const int64_t end = std::min(n, begin + chunk);
    const Tensor h = hidden.slice(begin, end);
    Tensor logits = buffer.slice(0, end - begin);
    ops::gemm(h, false, w.value, true, logits);  // [C, D] x [V, D]^T
    ops::add_bias(logits, bias_.value);
    sums += ops::log_softmax_xent(logits, targets.slice(begin, end), xent);
    Tensor dh = d_hidden.slice(begin, end);
    ops::gemm(logits, false, w.value, false, dh);                        // [C, V] x [V, D]
    ops::gemm(logits, true, h, false, w.grad, /*alpha=*/1, /*beta=*/1);  // [V, C] x [C, D]
    ops::bias_grad(logits, bias_.grad, /*accumulate=*/true);
  }
  return sums;
}

ops::XentSums Output::loss_only(const Tensor& hidden, const Tensor& targets,
                                const ops::XentOptions& xent, Tensor* target_log_probs) {
  constexpr const char* what = "Output::loss_only";
  check_hidden(what, hidden);
  check_targets(what, hidden, targets);
  const int64_t n = hidden.dim(0);
  if (target_log_probs) {
    ops::check::shape(what, "target_log_probs", *target_log_probs, {n});
    ops::check::same_kind(what, "hidden", hidden, "target_log_probs", *target_log_probs);
  }
  const int64_t chunk = std::min(chunk_rows(), std::max<int64_t>(n, 1));
  Tensor& buffer = chunk_buffer(chunk);
  ops::XentSums sums;
  for (int64_t begin = 0; begin < n; begin += chunk) {
    const int64_t end = std::min(n, begin + chunk);
    Tensor logits = buffer.slice(0, end - begin);
    ops::gemm(hidden.slice(begin, end), false, weight().value, true, logits);
    ops::add_bias(logits, bias_.value);
    Tensor lp;
    if (target_log_probs) lp = target_log_probs->slice(begin, end);
    sums += ops::log_softmax_xent_loss(logits, targets.slice(begin, end), xent,
                                       target_log_probs ? &lp : nullptr);
  }
  return sums;
}

Tensor Output::log_probs(const Tensor& hidden) {
  check_hidden("Output::log_probs", hidden);
  Tensor out = Tensor::empty({hidden.dim(0), vocab()}, hidden.dtype(), hidden.device());
  ops::gemm(hidden, false, weight().value, true, out);
  ops::add_bias(out, bias_.value);
  ops::log_softmax(out, out);
  return out;
}

}  // namespace s2s
