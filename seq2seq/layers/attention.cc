// Attention layer: parameters, the key projection, and the per-step record that lets a
// teacher-forced decoder backpropagate U steps while search keeps nothing.
#include "seq2seq/layers/attention.h"

#include "seq2seq/ops/check.h"
#include "seq2seq/ops/gemm.h"

namespace s2s {

Attention::Attention(AttentionOptions options) : options_(std::move(options)) {
  const std::string& name = options_.name;
  S2S_CHECK_AS(ConfigError, options_.query_size > 0 && options_.memory_size > 0, "Attention '",
               name, "': query_size (", options_.query_size, ") and memory_size (",
               options_.memory_size, ") must be positive");
  S2S_CHECK_AS(ConfigError, !additive() || options_.attention_size > 0, "Attention '", name,
               "': the additive kind needs attention_size > 0, got ", options_.attention_size);
  const DType dtype = options_.dtype;
  const Device device = options_.device;
  Rng rng(options_.seed);
  w_key_ =
      Parameter::make(join_name(name, "w_key"), {key_size(), options_.memory_size}, dtype, device);
  init_glorot_uniform(w_key_.value, rng);
  if (additive()) {
    const int64_t a = options_.attention_size;
    w_query_ = Parameter::make(join_name(name, "w_query"), {a, options_.query_size}, dtype, device);
    init_glorot_uniform(w_query_.value, rng);
    v_ = Parameter::make(join_name(name, "v"), {a}, dtype, device);
    Tensor v_as_row = v_.value.reshape({1, a});  // a [1, A] projection of the tanh layer
    init_glorot_uniform(v_as_row, rng);
  }
}

void Attention::collect_parameters(std::vector<Parameter*>& out) {
  out.push_back(&w_key_);
  if (additive()) {
    out.push_back(&w_query_);
    out.push_back(&v_);
  }
}

void Attention::check_memory(const std::string& op, const Tensor& memory,
                             const Tensor& mask) const {
  ops::check::shape(op.c_str(), "memory", memory, {-1, -1, options_.memory_size});
  ops::check::same_kind(op.c_str(), "the parameters", w_key_.value, "memory", memory);
  ops::check::shape(op.c_str(), "mask", mask, {memory.dim(0), memory.dim(1)});
  ops::check::same_kind(op.c_str(), "memory", memory, "mask", mask);
}

Tensor Attention::project_keys(const Tensor& memory) const {
  const int64_t s = memory.dim(0), b = memory.dim(1);
  Tensor keys = Tensor::empty({s, b, key_size()}, options_.dtype, options_.device);
  Tensor keys_2d = keys.reshape({s * b, key_size()});
  weight_product(memory.reshape({s * b, options_.memory_size}), w_key_, keys_2d);
  return keys;
}

void Attention::precompute(const Tensor& memory, const Tensor& mask) {
  check_memory("Attention '" + options_.name + "' precompute", memory, mask);
  memory_ = memory;
  mask_ = mask;
  steps_.clear();
  dkeys_ = dmemory_ = Tensor();
  keys_ = project_keys(memory);
}

Attention::Prepared Attention::prepare(const Tensor& memory, const Tensor& mask) const {
  check_memory("Attention '" + options_.name + "' prepare", memory, mask);
  return {memory, mask, project_keys(memory)};
}

AttentionOutput Attention::infer_step(const Prepared& prepared, const Tensor& query) const {
  const std::string op = "Attention '" + options_.name + "' infer_step";
  ops::check::shape(op.c_str(), "prepared keys", prepared.keys,
                    {prepared.memory.dim(0), prepared.memory.dim(1), key_size()});
  ops::check::shape(op.c_str(), "query", query, {prepared.memory.dim(1), options_.query_size});
  ops::check::same_kind(op.c_str(), "memory", prepared.memory, "query", query);
  return step(prepared.keys, prepared.memory, prepared.mask, query, nullptr);
}

void Attention::check_query(const char* method, const Tensor& query) const {
  const std::string op = "Attention '" + options_.name + "' " + method;
  S2S_CHECK(keys_.defined(), op, ": call precompute(memory, mask) first");
  ops::check::shape(op.c_str(), "query", query, {memory_.dim(1), options_.query_size});
  ops::check::same_kind(op.c_str(), "memory", memory_, "query", query);
}

AttentionOutput Attention::step(const Tensor& keys, const Tensor& memory, const Tensor& mask,
                                const Tensor& query, Tensor* projected) const {
  const int64_t s = memory.dim(0), b = memory.dim(1);
  AttentionOutput out{Tensor::empty({b, options_.memory_size}, options_.dtype, options_.device),
                      Tensor::empty({b, s}, options_.dtype, options_.device)};
  if (!additive()) {
    ops::attention_fwd(options_.kind, keys, query, Tensor(), memory, mask, out.weights,
                       out.context);
    return out;
  }
  Tensor pq = Tensor::empty({b, options_.attention_size}, options_.dtype, options_.device);
  weight_product(query, w_query_, pq);
  ops::attention_fwd(options_.kind, keys, pq, v_.value, memory, mask, out.weights, out.context);
  if (projected) *projected = pq;
  return out;
}

AttentionOutput Attention::forward_step(const Tensor& query) {
  check_query("forward_step", query);
  Step record{query, Tensor(), Tensor()};
  AttentionOutput out = step(keys_, memory_, mask_, query, &record.projected);
  record.weights = out.weights;
  steps_.push_back(std::move(record));
  return out;
}

AttentionOutput Attention::infer_step(const Tensor& query) const {
  check_query("infer_step", query);
  return step(keys_, memory_, mask_, query, nullptr);
}

Tensor Attention::backward_step(const Tensor& dcontext, const Tensor& dweights) {
  const std::string op = "Attention '" + options_.name + "' backward_step";
  S2S_CHECK(!steps_.empty(), op, ": no recorded step left (forward_step records one)");
  // Checked before the step is consumed, so a bad call leaves the record intact.
  const int64_t s = memory_.dim(0), b = memory_.dim(1);
  ops::check::shape(op.c_str(), "dcontext", dcontext, {b, options_.memory_size});
  ops::check::same_kind(op.c_str(), "memory", memory_, "dcontext", dcontext);
  if (dweights.defined()) {
    ops::check::shape(op.c_str(), "dweights", dweights, {b, s});
    ops::check::same_kind(op.c_str(), "memory", memory_, "dweights", dweights);
  }
  const Step record = std::move(steps_.back());
  steps_.pop_back();
  if (!dkeys_.defined()) {
    dkeys_ = Tensor::zeros(keys_.shape(), options_.dtype, options_.device);
    dmemory_ = Tensor::zeros(memory_.shape(), options_.dtype, options_.device);
  }
  if (!additive()) {
    Tensor dquery = Tensor::zeros(record.query.shape(), options_.dtype, options_.device);
    Tensor no_dv;
    ops::attention_bwd(options_.kind, keys_, record.query, Tensor(), memory_, mask_, record.weights,
                       dcontext, dweights, dkeys_, dquery, no_dv, dmemory_);
    return dquery;
  }
  Tensor dprojected = Tensor::zeros(record.projected.shape(), options_.dtype, options_.device);
  ops::attention_bwd(options_.kind, keys_, record.projected, v_.value, memory_, mask_,
                     record.weights, dcontext, dweights, dkeys_, dprojected, v_.grad, dmemory_);
  ops::gemm(dprojected, true, record.query, false, w_query_.grad, 1.0, 1.0);
  Tensor dquery = Tensor::empty(record.query.shape(), options_.dtype, options_.device);
  ops::gemm(dprojected, false, w_query_.value, false, dquery);
  return dquery;
}

Tensor Attention::finish_backward() {
  const std::string op = "Attention '" + options_.name + "' finish_backward";
  S2S_CHECK(keys_.defined(), op, ": call precompute(memory, mask) first");
  S2S_CHECK(steps_.empty(), op, ": ", steps_.size(),
            " recorded steps were not backpropagated (backward_step each first)");
  if (!dkeys_.defined())  // no step was backpropagated: the memory gradient is zero
    return Tensor::zeros(memory_.shape(), options_.dtype, options_.device);
  const int64_t rows = memory_.dim(0) * memory_.dim(1);
  const Tensor dkeys_2d = dkeys_.reshape({rows, key_size()});
  Tensor dmemory_2d = dmemory_.reshape({rows, options_.memory_size});
  ops::gemm(dkeys_2d, false, w_key_.value, false, dmemory_2d, 1.0, 1.0);
  ops::gemm(dkeys_2d, true, memory_.reshape({rows, options_.memory_size}), false, w_key_.grad, 1.0,
            1.0);
  Tensor dmemory = dmemory_;
  dkeys_ = dmemory_ = Tensor();
  return dmemory;
}

}  // namespace s2s
