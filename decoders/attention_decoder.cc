// AttentionDecoder: teacher-forced training with backward through time, validation loss, and
// the one-step interface search uses.
#include "decoders/attention_decoder.h"

#include <algorithm>
#include <cmath>

#include "seq2seq/lstm_layout.h"
#include "seq2seq/ops/check.h"
#include "seq2seq/ops/dropout.h"
#include "seq2seq/ops/elementwise.h"
#include "seq2seq/ops/gemm.h"
#include "seq2seq/ops/index_select.h"
#include "seq2seq/ops/lstm_cell.h"

namespace s2s {
namespace {

constexpr int kGates = lstm::kNumGates;

EmbeddingOptions embedding_options(const AttentionDecoderOptions& o) {
  S2S_CHECK_AS(ConfigError, o.vocab_size > 0 && o.embed_size > 0 && o.hidden_size > 0,
               "decoder: vocab_size, embed_size and hidden_size must be positive");
  S2S_CHECK_AS(ConfigError, o.memory_size > 0, "decoder: memory_size must be positive");
  S2S_CHECK_AS(ConfigError, o.num_layers >= 1, "decoder: num_layers must be at least 1, got ",
               o.num_layers);
  S2S_CHECK_AS(ConfigError, !o.tie_embeddings || o.embed_size == o.hidden_size,
               "decoder: tie_embeddings needs embed_size == hidden_size, got ", o.embed_size,
               " and ", o.hidden_size);
  S2S_CHECK_AS(ConfigError, o.dropout >= 0 && o.dropout < 1, "decoder: dropout must be in [0, 1)");
  return {o.vocab_size,
          o.embed_size,
          o.pad_id,
          o.dtype,
          o.device,
          join_name(o.name, "embedding"),
          Rng(o.seed).split(1).seed()};
}

AttentionOptions attention_options(const AttentionDecoderOptions& o) {
  AttentionOptions a;
  a.kind = o.attention;
  a.query_size = o.hidden_size;
  a.memory_size = o.memory_size;
  a.attention_size = o.attention_size > 0 ? o.attention_size : o.hidden_size;
  a.dtype = o.dtype;
  a.device = o.device;
  a.name = join_name(o.name, "attention");
  a.seed = Rng(o.seed).split(2).seed();
  return a;
}

// torch.nn.LSTM's initialisation, U(-1/sqrt(H), 1/sqrt(H)), and the forget bias at 1.
void init_lstm_weight(Tensor& w, Rng& rng, int64_t hidden) {
  init_uniform(w, rng, 1.0 / std::sqrt(static_cast<double>(hidden)));
}

void init_lstm_bias(Tensor& b, int64_t hidden) {
  Tensor host = Tensor::zeros(b.shape(), b.dtype());
  Tensor forget = host.slice(lstm::gate_offset(lstm::Gate::f, hidden),
                             lstm::gate_offset(lstm::Gate::f, hidden) + hidden);
  init_constant(forget, lstm::kForgetBiasInit);
  b.copy_from(host);
}

// Allocates t unless it already has this shape (steady-state training reuses its buffers).
void ensure(Tensor& t, Shape shape, DType dtype, Device device) {
  if (!t.defined() || !(t.shape() == shape) || t.device() != device || t.dtype() != dtype)
    t = Tensor::empty(shape, dtype, device);
}

Tensor rows(const Tensor& t) {
  return t.reshape({t.dim(0) * t.dim(1), t.dim(2)});
}  // [U*B, D]

class AttentionDecoderState : public DecoderState {
 public:
  std::vector<Tensor> h, c;       // per layer [N, H]
  Tensor feed;                    // [N, H]
  Attention::Prepared attention;  // what row i attends over: column columns[i] of `prepared`
  Attention::Prepared prepared;   // memory, mask and keys of the batch, computed once
  std::vector<int32_t> columns;
  // `attention` no longer matches `columns`: gathered again by the next step, not before, so a
  // pool of states that is only gathered from (a best-first search's) never holds a copy of the
  // memory per row.
  bool attention_stale = false;

  void select(const std::vector<int32_t>& keep) override {
    for (auto* list : {&h, &c})
      for (Tensor& t : *list)
        t = ops::index_select(t, 0, keep);
    feed = ops::index_select(feed, 0, keep);
    buffers_.clear();  // the rows now live in fresh tensors
    std::vector<int32_t> next(keep.size());
    for (size_t i = 0; i < keep.size(); ++i)
      next[i] = columns[keep[i]];
    // A beam search reorders hypotheses within a sentence at every step, which leaves the
    // sentence of each row, and so its memory, unchanged: gather only when that changes.
    if (next == columns) return;
    columns = std::move(next);
    mark_attention_stale();
  }

  void mark_attention_stale() {
    attention = Attention::Prepared{};  // no copy of the memory outlives its rows
    attention_stale = true;
  }

  // Brings `attention` in line with `columns` (step calls it).
  void gather_attention() {
    if (!attention_stale) return;
    attention.memory = ops::index_select(prepared.memory, 1, columns);
    attention.mask = ops::index_select(prepared.mask, 1, columns);
    attention.keys = ops::index_select(prepared.keys, 1, columns);
    attention_stale = false;
  }

  std::unique_ptr<DecoderState> gather(const std::vector<int32_t>& keep) const override {
    auto copy = std::make_unique<AttentionDecoderState>();
    copy->h = h, copy->c = c, copy->feed = feed;
    copy->attention = attention, copy->prepared = prepared, copy->columns = columns;
    copy->attention_stale = attention_stale;
    copy->select(keep);
    return copy;
  }

  void append(const DecoderState& base) override {
    const auto& other = dynamic_cast<const AttentionDecoderState&>(base);
    S2S_CHECK(other.prepared.memory.raw_data() == prepared.memory.raw_data() &&
                  other.h.size() == h.size(),
              "decoder state append: the states come from different batches or models");
    const int64_t old_rows = rows(), total = old_rows + other.rows();
    std::vector<Tensor*> views;
    std::vector<const Tensor*> added;
    for (size_t l = 0; l < h.size(); ++l) {
      views.push_back(&h[l]), added.push_back(&other.h[l]);
      views.push_back(&c[l]), added.push_back(&other.c[l]);
    }
    views.push_back(&feed), added.push_back(&other.feed);
    if (buffers_.empty() || buffers_[0].dim(0) < total) {
      const int64_t capacity = std::max<int64_t>({total, 2 * old_rows, 64});
      std::vector<Tensor> grown;
      for (const Tensor* view : views) {
        Tensor buffer = Tensor::empty({capacity, view->dim(1)}, view->dtype(), view->device());
        if (old_rows > 0) buffer.slice(0, old_rows).copy_from(*view);
        grown.push_back(std::move(buffer));
      }
      buffers_ = std::move(grown);
    }
    for (size_t i = 0; i < views.size(); ++i) {
      if (other.rows() > 0) buffers_[i].slice(old_rows, total).copy_from(*added[i]);
      *views[i] = buffers_[i].slice(0, total);
    }
    columns.insert(columns.end(), other.columns.begin(), other.columns.end());
    mark_attention_stale();
  }

 private:
  std::vector<Tensor> buffers_;  // append's storage: h and c per layer, then feed; [capacity, H]

 public:
  int64_t rows() const override { return feed.dim(0); }
};

}  // namespace

AttentionDecoder::AttentionDecoder(AttentionDecoderOptions options)
    : options_(std::move(options)),
      embedding_(embedding_options(options_)),
      attention_(attention_options(options_)) {
  const auto& o = options_;
  const int64_t h = o.hidden_size;
  Rng rng = Rng(o.seed).split(3);
  for (int l = 0; l < o.num_layers; ++l) {
    const std::string prefix = join_name(o.name, "lstm." + std::to_string(l));
    LayerParams p;
    p.w_ih = Parameter::make(join_name(prefix, "w_ih"), {kGates * h, l == 0 ? o.embed_size : h},
                             o.dtype, o.device);
    init_lstm_weight(p.w_ih.value, rng, h);
    if (l == 0 && o.input_feeding) {
      p.w_feed = Parameter::make(join_name(prefix, "w_feed"), {kGates * h, h}, o.dtype, o.device);
      init_lstm_weight(p.w_feed.value, rng, h);
    }
    p.w_hh = Parameter::make(join_name(prefix, "w_hh"), {kGates * h, h}, o.dtype, o.device);
    init_lstm_weight(p.w_hh.value, rng, h);
    p.b = Parameter::make(join_name(prefix, "b"), {kGates * h}, o.dtype, o.device);
    init_lstm_bias(p.b.value, h);
    layers_.push_back(std::move(p));
  }
  if (o.summary_size > 0)
    for (int l = 0; l < o.num_layers; ++l)
      bridges_.emplace_back(LinearOptions{o.summary_size, h, true, o.dtype, o.device,
                                          join_name(o.name, "bridge." + std::to_string(l)),
                                          Rng(o.seed).split(10 + l).seed()});
  w_context_ = Parameter::make(join_name(o.name, "combine.w_context"), {h, o.memory_size}, o.dtype,
                               o.device);
  init_glorot_uniform(w_context_.value, rng);
  w_hidden_ = Parameter::make(join_name(o.name, "combine.w_hidden"), {h, h}, o.dtype, o.device);
  init_glorot_uniform(w_hidden_.value, rng);
  OutputOptions output_options;
  output_options.chunk_rows = o.output_chunk_rows;
  if (o.tie_embeddings) {
    output_ =
        std::make_unique<Output>(join_name(o.name, "output"), embedding_.weight(), output_options);
  } else {
    Rng output_rng = Rng(o.seed).split(4);
    output_ = std::make_unique<Output>(join_name(o.name, "output"), o.vocab_size, h, output_rng,
                                       o.dtype, o.device, output_options);
  }
}

void AttentionDecoder::collect_parameters(std::vector<Parameter*>& out) {
  embedding_.collect_parameters(out);
  for (LayerParams& p : layers_) {
    out.push_back(&p.w_ih);
    if (p.w_feed.value.defined()) out.push_back(&p.w_feed);
    out.push_back(&p.w_hh);
    out.push_back(&p.b);
  }
  for (Linear& bridge : bridges_)
    bridge.collect_parameters(out);
  attention_.collect_parameters(out);
  out.push_back(&w_context_);
  out.push_back(&w_hidden_);
  output_->collect_parameters(out);
}

void AttentionDecoder::check_targets(const char* what, const Memory& memory,
                                     const Tensor& target_input,
                                     const Tensor& target_output) const {
  const std::string op = "AttentionDecoder::" + std::string(what);
  ops::check::shape(op.c_str(), "memory.vectors", memory.vectors, {-1, -1, options_.memory_size});
  const int64_t b = memory.vectors.dim(1);
  ops::check::shape(op.c_str(), "target_input", target_input, {-1, b});
  ops::check::dtype(op.c_str(), "target_input", target_input, DType::i32);
  S2S_CHECK_SHAPE(target_input.dim(0) >= 1, op, ": the target needs at least one position");
  if (target_output.defined()) {
    ops::check::shape(op.c_str(), "target_output", target_output,
                      {target_input.dim(0), target_input.dim(1)});
    ops::check::dtype(op.c_str(), "target_output", target_output, DType::i32);
  }
  if (options_.summary_size > 0)
    ops::check::shape(op.c_str(), "memory.summary", memory.summary, {b, options_.summary_size});
}

void AttentionDecoder::initial_state(const Memory& memory, std::vector<Tensor>& h0) {
  const int64_t b = memory.vectors.dim(1);
  h0.assign(options_.num_layers, Tensor());
  for (int l = 0; l < options_.num_layers; ++l) {
    if (bridges_.empty()) {
      h0[l] = Tensor::zeros({b, hidden()}, options_.dtype, options_.device);
    } else {
      h0[l] = bridges_[l].forward(memory.summary);
      ops::tanh_fwd(h0[l], h0[l]);
    }
  }
}

Tensor AttentionDecoder::run_forward(const Memory& memory, const Tensor& target_input, bool record,
                                     Rng* rng) {
  const auto& o = options_;
  const int64_t u = target_input.dim(0), b = target_input.dim(1), h = hidden();
  const int num_layers = o.num_layers;
  const bool drop = training() && o.dropout > 0;
  S2S_CHECK(!drop || rng, "AttentionDecoder: dropout in training needs an Rng");
  Cache& k = cache_;
  k.gates.resize(num_layers);
  k.h.resize(num_layers);
  k.c.resize(num_layers);
  k.inputs.resize(num_layers);
  k.input_dropout.resize(num_layers);

  if (record && training() && o.word_dropout > 0) {
    S2S_CHECK(rng, "AttentionDecoder: word dropout in training needs an Rng");
    Tensor ids = target_input.to(Device::cpu());  // a copy: U x B ids, cheap to edit on the host
    int32_t* id = ids.data<int32_t>();
    for (int64_t i = b; i < u * b; ++i)  // row 0 is BOS
      if (id[i] != o.pad_id && rng->uniform() < o.word_dropout) id[i] = o.unk_id;
    k.embedded = embedding_.forward(o.device.is_cpu() ? ids : ids.to(o.device));
  } else {
    k.embedded = embedding_.forward(target_input);  // [U, B, E]
  }
  k.embed_dropout = Tensor();
  if (drop) {
    k.embed_dropout = Tensor::empty(k.embedded.shape(), o.dtype, o.device);
    ops::dropout_fwd(k.embedded, o.dropout, *rng, k.embed_dropout, k.embedded);
  }

  initial_state(memory, k.bridge_out);
  for (int l = 0; l < num_layers; ++l) {
    ensure(k.gates[l], {u, b, kGates * h}, o.dtype, o.device);
    ensure(k.h[l], {u + 1, b, h}, o.dtype, o.device);
    ensure(k.c[l], {u + 1, b, h}, o.dtype, o.device);
    Tensor h0 = k.h[l].select(0), c0 = k.c[l].select(0);
    h0.copy_from(k.bridge_out[l]);
    c0.zero();
    if (l > 0 && drop) {
      ensure(k.inputs[l], {u, b, h}, o.dtype, o.device);
      ensure(k.input_dropout[l], {u, b, h}, o.dtype, o.device);
    } else {
      k.inputs[l] = k.input_dropout[l] = Tensor();
    }
  }
  ensure(k.feed, {u, b, h}, o.dtype, o.device);
  ensure(k.context, {u, b, o.memory_size}, o.dtype, o.device);
  ensure(k.attentional, {u, b, h}, o.dtype, o.device);
  Tensor feed0 = k.feed.select(0);
  feed0.zero();

  // Layer 0's embedding projection for every position at once.
  Tensor g0_all = rows(k.gates[0]);
  weight_product(rows(k.embedded), layers_[0].w_ih, g0_all);

  Attention::Prepared prepared;
  if (record)
    attention_.precompute(memory.vectors, memory.mask);
  else
    prepared = attention_.prepare(memory.vectors, memory.mask);

  const Tensor no_mask;
  for (int64_t t = 0; t < u; ++t) {
    for (int l = 0; l < num_layers; ++l) {
      LayerParams& p = layers_[l];
      Tensor g = k.gates[l].select(t);
      const Tensor h_prev = k.h[l].select(t), c_prev = k.c[l].select(t);
      if (l == 0) {
        if (o.input_feeding) weight_product(k.feed.select(t), p.w_feed, g, 1.0);
      } else {
        Tensor x = k.h[l - 1].select(t + 1);
        if (drop) {
          Tensor kept = k.inputs[l].select(t), mask = k.input_dropout[l].select(t);
          ops::dropout_fwd(x, o.dropout, *rng, mask, kept);
          x = kept;
        }
        weight_product(x, p.w_ih, g);
      }
      weight_product(h_prev, p.w_hh, g, 1.0);
      Tensor c_new = k.c[l].select(t + 1), h_new = k.h[l].select(t + 1);
      ops::lstm_cell_fwd(g, p.b.value, c_prev, h_prev, no_mask, c_new, h_new);
    }
    const Tensor top = k.h[num_layers - 1].select(t + 1);
    AttentionOutput att =
        record ? attention_.forward_step(top) : attention_.infer_step(prepared, top);
    Tensor ctx = k.context.select(t);
    ctx.copy_from(att.context);
    Tensor a = k.attentional.select(t);
    weight_product(ctx, w_context_, a);
    weight_product(top, w_hidden_, a, 1.0);
    ops::tanh_fwd(a, a);
    if (t + 1 < u) {
      Tensor next_feed = k.feed.select(t + 1);
      next_feed.copy_from(a);
    }
  }

  Tensor hidden_out = rows(k.attentional);
  k.output_dropout = Tensor();
  if (drop) {
    hidden_out = hidden_out.clone();
    k.output_dropout = Tensor::empty(hidden_out.shape(), o.dtype, o.device);
    ops::dropout_fwd(hidden_out, o.dropout, *rng, k.output_dropout, hidden_out);
  }
  return hidden_out;  // [U * B, H]
}

Decoder::TrainResult AttentionDecoder::forward_backward(const Memory& memory,
                                                        const Tensor& target_input,
                                                        const Tensor& target_output,
                                                        const ops::XentOptions& xent, Rng* rng) {
  check_targets("forward_backward", memory, target_input, target_output);
  const int64_t u = target_input.dim(0), b = target_input.dim(1);
  const Tensor hidden_out = forward_hidden(memory, target_input, rng);
  TrainResult result;
  Tensor d_hidden;
  result.loss = output_loss(hidden_out, target_output.reshape({u * b}), xent, d_hidden);
  result.d_memory = backward_hidden(d_hidden);
  return result;
}

Tensor AttentionDecoder::forward_hidden(const Memory& memory, const Tensor& target_input,
                                        Rng* rng) {
  return run_forward(memory, target_input, /*record=*/true, rng);
}

ops::XentSums AttentionDecoder::output_loss(const Tensor& hidden, const Tensor& target_output,
                                            const ops::XentOptions& xent, Tensor& d_hidden) {
  return output_->forward_backward_loss(hidden, target_output.reshape({target_output.numel()}),
                                        xent, d_hidden);
}

std::vector<Parameter*> AttentionDecoder::output_parameters() {
  S2S_CHECK_AS(ConfigError, !options_.tie_embeddings,
               "decoder.tie_embeddings shares the output layer's weight with the target "
               "embedding: it cannot go to a pipeline stage of its own");
  return output_->parameters();
}

MemoryGradient AttentionDecoder::backward_hidden(const Tensor& d_hidden_in) {
  const auto& o = options_;
  Cache& k = cache_;
  const int64_t u = k.embedded.dim(0), b = k.embedded.dim(1), h = hidden();
  const int num_layers = o.num_layers;
  Tensor d_hidden = d_hidden_in;
  if (k.output_dropout.defined()) ops::dropout_bwd(d_hidden, k.output_dropout, d_hidden);
  const Tensor d_attentional = d_hidden.reshape({u, b, h});

  auto zeros = [&](Shape s) { return Tensor::zeros(s, o.dtype, o.device); };
  std::vector<Tensor> dh_recurrent(num_layers), dc(num_layers);
  for (int l = 0; l < num_layers; ++l)
    dh_recurrent[l] = zeros({b, h}), dc[l] = zeros({b, h});
  Tensor d_feed_next = zeros({b, h});
  Tensor d_pre_all = Tensor::empty({u, b, h}, o.dtype, o.device);
  Tensor d_ctx = Tensor::empty({b, o.memory_size}, o.dtype, o.device);
  Tensor d_top = Tensor::empty({b, h}, o.dtype, o.device);
  Tensor dh_total = Tensor::empty({b, h}, o.dtype, o.device);
  Tensor dx = Tensor::empty({b, h}, o.dtype, o.device);
  const Tensor no_mask;
  Tensor no_carry;

  for (int64_t t = u - 1; t >= 0; --t) {
    // h~_t = tanh(pre): its gradient comes from the loss and from step t+1's input feeding.
    Tensor d_pre = d_pre_all.select(t);
    d_pre.copy_from(d_attentional.select(t));
    ops::axpy(1.0, d_feed_next, d_pre);
    ops::tanh_bwd(k.attentional.select(t), d_pre, d_pre);
    ops::gemm(d_pre, false, w_context_.value, false, d_ctx);
    ops::gemm(d_pre, false, w_hidden_.value, false, d_top);
    const Tensor d_query = attention_.backward_step(d_ctx);
    ops::axpy(1.0, d_query, d_top);

    Tensor dh_in = d_top;
    for (int l = num_layers - 1; l >= 0; --l) {
      LayerParams& p = layers_[l];
      dh_total.copy_from(dh_in);
      ops::axpy(1.0, dh_recurrent[l], dh_total);
      Tensor g = k.gates[l].select(t);
      ops::lstm_cell_bwd(g, k.c[l].select(t), k.c[l].select(t + 1), no_mask, dh_total,
                         t == u - 1 ? Tensor() : dc[l], g, dc[l], no_carry, p.b.grad);
      ops::gemm(g, false, p.w_hh.value, false, dh_recurrent[l]);
      if (l > 0) {
        ops::gemm(g, false, p.w_ih.value, false, dx);
        if (k.input_dropout[l].defined()) ops::dropout_bwd(dx, k.input_dropout[l].select(t), dx);
        dh_in = dx;
      } else if (o.input_feeding) {
        ops::gemm(g, false, p.w_feed.value, false, d_feed_next);
      }
    }
  }

  // Weight gradients, one GEMM each over all positions.
  for (int l = 0; l < num_layers; ++l) {
    LayerParams& p = layers_[l];
    const Tensor dg = rows(k.gates[l]);  // [U*B, 4H]
    const Tensor input = l == 0                  ? rows(k.embedded)
                         : k.inputs[l].defined() ? rows(k.inputs[l])
                                                 : rows(k.h[l - 1].slice(1, u + 1));
    ops::gemm(dg, true, input, false, p.w_ih.grad, 1, 1);
    ops::gemm(dg, true, rows(k.h[l].slice(0, u)), false, p.w_hh.grad, 1, 1);
    if (l == 0 && o.input_feeding) ops::gemm(dg, true, rows(k.feed), false, p.w_feed.grad, 1, 1);
  }
  const Tensor d_pre_rows = rows(d_pre_all);
  ops::gemm(d_pre_rows, true, rows(k.context), false, w_context_.grad, 1, 1);
  ops::gemm(d_pre_rows, true, rows(k.h[num_layers - 1].slice(1, u + 1)), false, w_hidden_.grad, 1,
            1);

  // Into the embedding (one GEMM for all positions) and the memory.
  Tensor d_embedded = Tensor::empty(k.embedded.shape(), o.dtype, o.device);
  Tensor d_embedded_rows = rows(d_embedded);
  ops::gemm(rows(k.gates[0]), false, layers_[0].w_ih.value, false, d_embedded_rows);
  if (k.embed_dropout.defined()) ops::dropout_bwd(d_embedded, k.embed_dropout, d_embedded);
  embedding_.backward(d_embedded);

  MemoryGradient d_memory;
  d_memory.vectors = attention_.finish_backward();
  if (!bridges_.empty()) {
    d_memory.summary = zeros({b, o.summary_size});
    for (int l = 0; l < num_layers; ++l) {
      Tensor d_bridge = Tensor::empty({b, h}, o.dtype, o.device);
      ops::tanh_bwd(k.bridge_out[l], dh_recurrent[l], d_bridge);
      ops::axpy(1.0, bridges_[l].backward(d_bridge), d_memory.summary);
    }
  }
  return d_memory;
}

ops::XentSums AttentionDecoder::loss(const Memory& memory, const Tensor& target_input,
                                     const Tensor& target_output, const ops::XentOptions& xent,
                                     Tensor* target_log_probs) {
  check_targets("loss", memory, target_input, target_output);
  const int64_t u = target_input.dim(0), b = target_input.dim(1);
  const bool was_training = training();
  set_training(false);  // no dropout in evaluation
  Tensor hidden_out;
  try {
    hidden_out = run_forward(memory, target_input, /*record=*/false, nullptr);
  } catch (...) {
    set_training(was_training);
    throw;
  }
  set_training(was_training);
  Tensor flat_log_probs;
  if (target_log_probs) flat_log_probs = Tensor::empty({u * b}, options_.dtype, options_.device);
  ops::XentSums sums = output_->loss_only(hidden_out, target_output.reshape({u * b}), xent,
                                          target_log_probs ? &flat_log_probs : nullptr);
  if (target_log_probs) *target_log_probs = flat_log_probs.reshape({u, b});
  return sums;
}

std::unique_ptr<DecoderState> AttentionDecoder::start(const Memory& memory) {
  ops::check::shape("AttentionDecoder::start", "memory.vectors", memory.vectors,
                    {-1, -1, options_.memory_size});
  auto state = std::make_unique<AttentionDecoderState>();
  const int64_t b = memory.vectors.dim(1);
  initial_state(memory, state->h);
  for (int l = 0; l < options_.num_layers; ++l)
    state->c.push_back(Tensor::zeros({b, hidden()}, options_.dtype, options_.device));
  state->feed = Tensor::zeros({b, hidden()}, options_.dtype, options_.device);
  state->prepared = attention_.prepare(memory.vectors, memory.mask);
  state->attention = state->prepared;
  state->columns.resize(b);
  for (int64_t j = 0; j < b; ++j)
    state->columns[j] = static_cast<int32_t>(j);
  return state;
}

Tensor AttentionDecoder::step(DecoderState& base, const Tensor& previous, Tensor* attention) {
  auto& state = dynamic_cast<AttentionDecoderState&>(base);
  state.gather_attention();
  const int64_t n = state.rows(), h = hidden();
  ops::check::shape("AttentionDecoder::step", "previous", previous, {n});
  const auto& o = options_;
  Tensor x = embedding_.forward(previous);  // [N, E]
  const Tensor no_mask;
  for (int l = 0; l < o.num_layers; ++l) {
    LayerParams& p = layers_[l];
    Tensor g = Tensor::empty({n, kGates * h}, o.dtype, o.device);
    weight_product(x, p.w_ih, g);
    if (l == 0 && o.input_feeding) weight_product(state.feed, p.w_feed, g, 1.0);
    weight_product(state.h[l], p.w_hh, g, 1.0);
    Tensor c_new = Tensor::empty({n, h}, o.dtype, o.device);
    Tensor h_new = Tensor::empty({n, h}, o.dtype, o.device);
    ops::lstm_cell_fwd(g, p.b.value, state.c[l], state.h[l], no_mask, c_new, h_new);
    state.c[l] = c_new;
    state.h[l] = h_new;
    x = h_new;
  }
  AttentionOutput att = attention_.infer_step(state.attention, x);
  if (attention) *attention = att.weights;
  Tensor a = Tensor::empty({n, h}, o.dtype, o.device);
  weight_product(att.context, w_context_, a);
  weight_product(x, w_hidden_, a, 1.0);
  ops::tanh_fwd(a, a);
  state.feed = a;
  return output_->log_probs(a);
}

}  // namespace s2s
