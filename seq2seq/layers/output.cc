// Output: the chunked projection + loss loop; the arithmetic is ops::gemm, ops::add_bias,
// ops::bias_grad and ops::log_softmax_xent.
#include "seq2seq/layers/output.h"

#include <algorithm>
#include <limits>

#include "seq2seq/ops/check.h"
#include "seq2seq/ops/elementwise.h"
#include "seq2seq/ops/gemm.h"
#include "seq2seq/ops/log_softmax_xent.h"
#include "seq2seq/parallel_for.h"

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
  const Parameter& w = tied_ ? *tied_ : weight_;
  return w.quantized() ? w.int8.cols() : w.value.dim(1);
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
  // The bias: the weight may be int8, the bias stays in the model's dtype and device.
  ops::check::same_kind(what, "bias", bias_.value, "hidden", hidden);
}

void Output::check_targets(const char* what, const Tensor& hidden, const Tensor& targets) {
  ops::check::shape(what, "targets", targets, {hidden.dim(0)});
  ops::check::dtype(what, "targets", targets, DType::i32);
  ops::check::same_device(what, "hidden", hidden, "targets", targets);
}

Tensor& Output::chunk_buffer(int64_t rows) {
  const Tensor& w = bias_.value;  // dtype and device of the logits (the weight may be int8)
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
    weight_product(h, w, logits);  // [C, D] x [V, D]^T
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
    weight_product(hidden.slice(begin, end), weight(), logits);
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
  if (allowed_.empty()) {
    Tensor out = Tensor::empty({hidden.dim(0), vocab()}, hidden.dtype(), hidden.device());
    weight_product(hidden, weight(), out);
    ops::add_bias(out, bias_.value);
    ops::log_softmax(out, out);
    return out;
  }
  // The shortlist: logits and normalization over the allowed ids, written into the allowed
  // columns of a buffer whose other columns hold -inf since restrict_vocabulary: no V-wide pass.
  const int64_t n = hidden.dim(0), allowed = static_cast<int64_t>(allowed_.size());
  Tensor logits = Tensor::empty({n, allowed}, hidden.dtype(), hidden.device());
  weight_product(hidden, allowed_weight_, logits);
  ops::add_bias(logits, allowed_bias_);
  ops::log_softmax(logits, logits);
  const int64_t v = vocab();
  if (!restricted_.defined() || restricted_.dim(0) < n || restricted_.dtype() != hidden.dtype()) {
    restricted_ = Tensor::empty({std::max<int64_t>(n, 1), v}, hidden.dtype());
    restricted_.fill(-std::numeric_limits<double>::infinity());
  }
  ops::dispatch_floating(hidden.dtype(), [&]<typename T>() {
    const T* in = logits.data<T>();
    T* o = restricted_.data<T>();
    parallel_for(n, 8, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r)
        for (int64_t j = 0; j < allowed; ++j)
          o[r * v + allowed_[j]] = in[r * allowed + j];
    });
  });
  return restricted_.slice(0, n);
}

void Output::restrict_vocabulary(const std::vector<int32_t>& ids) {
  allowed_.clear();
  allowed_weight_ = Parameter();
  allowed_bias_ = Tensor();
  restricted_ = Tensor();
  if (ids.empty() || !bias_.value.device().is_cpu()) return;
  const int64_t v = vocab();
  for (size_t i = 0; i < ids.size(); ++i)
    S2S_CHECK(ids[i] >= 0 && ids[i] < v && (i == 0 || ids[i] > ids[i - 1]),
              "Output::restrict_vocabulary: the ids must be sorted, unique and below ", v, "; got ",
              ids[i], " at position ", i);
  if (static_cast<int64_t>(ids.size()) == v) return;  // everything allowed: the exact path
  const int64_t allowed = static_cast<int64_t>(ids.size()), d = dim();
  const Parameter& w = weight();
  allowed_weight_.name = w.name + "[shortlist]";
  if (w.quantized()) {
    Tensor values = Tensor::empty({allowed, d}, DType::i8);
    Tensor scales = Tensor::empty({allowed}, DType::f32);
    Tensor sums = Tensor::empty({allowed}, DType::i32);
    for (int64_t j = 0; j < allowed; ++j) {
      std::copy_n(w.int8.values.data<int8_t>() + ids[j] * d, d, values.data<int8_t>() + j * d);
      scales.data<float>()[j] = w.int8.scales.data<float>()[ids[j]];
      sums.data<int32_t>()[j] = w.int8.row_sums.data<int32_t>()[ids[j]];
    }
    allowed_weight_.int8 = {std::move(values), std::move(scales), std::move(sums)};
  } else {
    allowed_weight_.value = Tensor::empty({allowed, d}, w.value.dtype());
    ops::dispatch_floating(w.value.dtype(), [&]<typename T>() {
      for (int64_t j = 0; j < allowed; ++j)
        std::copy_n(w.value.data<T>() + ids[j] * d, d, allowed_weight_.value.data<T>() + j * d);
    });
  }
  allowed_bias_ = Tensor::empty({allowed}, bias_.value.dtype());
  ops::dispatch_floating(bias_.value.dtype(), [&]<typename T>() {
    for (int64_t j = 0; j < allowed; ++j)
      allowed_bias_.data<T>()[j] = bias_.value.data<T>()[ids[j]];
  });
  allowed_ = ids;
}

int64_t Output::allowed_vocabulary() const {
  return allowed_.empty() ? vocab() : static_cast<int64_t>(allowed_.size());
}

}  // namespace s2s
