// Lstm layer: the per-direction recurrence over ops (gemm, lstm_cell, dropout, elementwise), so
// the same code drives every backend the ops support.
#include "seq2seq/layers/lstm.h"

#include <cmath>

#include "seq2seq/lstm_layout.h"
#include "seq2seq/ops/check.h"
#include "seq2seq/ops/dropout.h"
#include "seq2seq/ops/elementwise.h"  // axpy
#include "seq2seq/ops/gemm.h"
#include "seq2seq/ops/lstm_cell.h"

namespace s2s {
namespace {

// Reallocates t only when the shape or kind changes: the cache of a training loop over one
// bucket shape is allocated once (fresh pages cost a fault each on first touch).
void ensure(Tensor& t, Shape shape, DType dtype, Device device) {
  if (!t.defined() || !(t.shape() == shape) || t.dtype() != dtype || t.device() != device)
    t = Tensor::empty(shape, dtype, device);
}

void check_state(const char* op, const char* name, const Tensor& t, const char* ref_name,
                 const Tensor& ref, int64_t rows, int64_t batch, int64_t hidden) {
  if (!t.defined()) return;
  ops::check::shape(op, name, t, {rows, batch, hidden});
  ops::check::same_kind(op, ref_name, ref, name, t);
}

}  // namespace

Lstm::Lstm(LstmOptions options) : options_(std::move(options)) {
  const LstmOptions& o = options_;
  S2S_CHECK(o.input_size > 0, "Lstm ", o.name, ": input_size must be > 0, got ", o.input_size);
  S2S_CHECK(o.hidden_size > 0, "Lstm ", o.name, ": hidden_size must be > 0, got ", o.hidden_size);
  S2S_CHECK(o.num_layers >= 1, "Lstm ", o.name, ": num_layers must be >= 1, got ", o.num_layers);
  S2S_CHECK(o.dropout >= 0 && o.dropout < 1, "Lstm ", o.name, ": dropout must be in [0, 1), got ",
            o.dropout);
  S2S_CHECK(o.dtype == DType::f32 || o.dtype == DType::f64, "Lstm ", o.name,
            ": dtype must be f32 or f64, got ", dtype_name(o.dtype));
  const int64_t h = o.hidden_size, gates = lstm::kNumGates * h;
  const int dirs = directions();
  Rng rng(o.seed);
  const double bound = 1.0 / std::sqrt(static_cast<double>(h));
  stages_.resize(o.num_layers);
  for (int l = 0; l < o.num_layers; ++l) {
    Stage& stage = stages_[l];
    stage.input_size = l == 0 ? o.input_size : h * dirs;
    stage.residual = o.residual && l >= kResidualFrom && stage.input_size == h * dirs;
    stage.cells.resize(dirs);
    for (int d = 0; d < dirs; ++d) {
      std::string prefix = join_name(o.name, std::to_string(l));
      if (o.bidirectional) prefix += d == 0 ? ".fwd" : ".bwd";
      Cell& cell = stage.cells[d];
      cell.w_ih = Parameter::make(prefix + ".w_ih", {gates, stage.input_size}, o.dtype, o.device);
      cell.w_hh = Parameter::make(prefix + ".w_hh", {gates, h}, o.dtype, o.device);
      cell.b = Parameter::make(prefix + ".b", {gates}, o.dtype, o.device);
      init_uniform(cell.w_ih.value, rng, bound);
      init_uniform(cell.w_hh.value, rng, bound);
      Tensor forget_bias =
          cell.b.value.slice(lstm::gate_offset(lstm::Gate::f, h),
                             lstm::gate_offset(lstm::Gate::f, h) + h);  // a view: init in place
      init_constant(forget_bias, lstm::kForgetBiasInit);
    }
  }
}

Lstm::Cell& Lstm::cell(int layer, int direction) {
  S2S_CHECK(layer >= 0 && layer < options_.num_layers && direction >= 0 && direction < directions(),
            "Lstm ", options_.name, ": no layer ", layer, " direction ", direction);
  return stages_[layer].cells[direction];
}

void Lstm::collect_parameters(std::vector<Parameter*>& out) {
  for (Stage& stage : stages_)
    for (Cell& cell : stage.cells) {
      out.push_back(&cell.w_ih);
      out.push_back(&cell.w_hh);
      out.push_back(&cell.b);
    }
}

Lstm::Output Lstm::forward(const Tensor& x, const Tensor& mask, const LstmState& initial,
                           Rng* rng) {
  constexpr const char* op = "Lstm::forward";
  const LstmOptions& o = options_;
  const int dirs = directions();
  const int64_t h = o.hidden_size, rows = o.num_layers * dirs;
  ops::check::shape(op, "x", x, {-1, -1, o.input_size});
  S2S_CHECK(x.dtype() == o.dtype && x.device() == o.device, op, ": x is ", x.str(),
            ", but the layer ", o.name, " holds ", dtype_name(o.dtype), " on ", o.device.str());
  const int64_t steps = x.dim(0), batch = x.dim(1);
  S2S_CHECK_SHAPE(steps >= 1, op, ": x ", x.str(), " has no timesteps");
  if (mask.defined()) {
    ops::check::shape(op, "mask", mask, {steps, batch});
    ops::check::same_kind(op, "x", x, "mask", mask);
  }
  check_state(op, "initial.h", initial.h, "x", x, rows, batch, h);
  check_state(op, "initial.c", initial.c, "x", x, rows, batch, h);
  const bool drop = training() && o.dropout > 0 && o.num_layers > 1;
  S2S_CHECK(!drop || rng, op, ": ", o.name, " trains with dropout ", o.dropout,
            " but was given no rng");

  steps_ = steps;
  batch_ = batch;
  mask_ = mask;
  Output result;
  result.final_state.h = Tensor::empty({rows, batch, h}, o.dtype, o.device);
  result.final_state.c = Tensor::empty({rows, batch, h}, o.dtype, o.device);
  Tensor input = x;
  for (int l = 0; l < o.num_layers; ++l) {
    Stage& stage = stages_[l];
    if (l > 0 && drop) {
      ensure(stage.dropout_mask, input.shape(), o.dtype, o.device);
      ops::dropout_fwd(input, o.dropout, *rng, stage.dropout_mask, input);  // input is ours
    } else {
      stage.dropout_mask = Tensor();
    }
    stage.input = input;
    Tensor output = Tensor::empty({steps, batch, h * dirs}, o.dtype, o.device);
    for (int d = 0; d < dirs; ++d)
      forward_cell(l, d, initial, output, result.final_state);
    if (stage.residual) ops::axpy(1.0, stage.input, output);
    input = output;
  }
  result.output = input;
  cached_ = true;
  return result;
}

void Lstm::forward_cell(int layer, int direction, const LstmState& initial, Tensor& output,
                        LstmState& final_state) {
  const LstmOptions& o = options_;
  Stage& stage = stages_[layer];
  Cell& cell = stage.cells[direction];
  const int64_t steps = steps_, batch = batch_, h = o.hidden_size, gates = lstm::kNumGates * h;
  const int64_t row = layer * directions() + direction;
  const bool reverse = direction == 1;
  ensure(cell.gates, {steps, batch, gates}, o.dtype, o.device);
  ensure(cell.h, {steps + 1, batch, h}, o.dtype, o.device);
  ensure(cell.c, {steps + 1, batch, h}, o.dtype, o.device);

  // All timesteps' input projections in one GEMM; the bias joins in the fused cell pass.
  Tensor g2 = cell.gates.reshape({steps * batch, gates});
  weight_product(stage.input.reshape({steps * batch, stage.input_size}), cell.w_ih, g2);

  // The state before time t sits at index t (forward) or t + 1 (reverse), so the states read as
  // h_prev over all steps form one contiguous [T, B, H] block for backward's dW_hh GEMM.
  const int64_t start = reverse ? steps : 0;
  for (auto [state, given] : {std::pair{&cell.h, &initial.h}, {&cell.c, &initial.c}}) {
    Tensor first = state->select(start);
    if (given->defined())
      first.copy_from(given->select(row));
    else
      first.zero();
  }
  for (int64_t s = 0; s < steps; ++s) {
    const int64_t t = reverse ? steps - 1 - s : s;
    const int64_t prev = reverse ? t + 1 : t, next = reverse ? t : t + 1;
    Tensor g = cell.gates.select(t);  // [B, 4H]
    Tensor h_prev = cell.h.select(prev), h_next = cell.h.select(next);
    Tensor c_next = cell.c.select(next);
    weight_product(h_prev, cell.w_hh, g, 1.0);
    ops::lstm_cell_fwd(g, cell.b.value, cell.c.select(prev), h_prev,
                       mask_.defined() ? mask_.select(t) : Tensor(), c_next, h_next);
  }
  const Tensor outputs = reverse ? cell.h.slice(0, steps) : cell.h.slice(1, steps + 1);
  ops::lstm_output_fwd(outputs, mask_, output, direction * h);
  const int64_t end = reverse ? 0 : steps;
  final_state.h.select(row).copy_from(cell.h.select(end));
  final_state.c.select(row).copy_from(cell.c.select(end));
}

Lstm::Gradients Lstm::backward(const Tensor& d_output, const LstmState& d_final) {
  constexpr const char* op = "Lstm::backward";
  const LstmOptions& o = options_;
  S2S_CHECK(cached_, op, ": ", o.name,
            " has no forward to differentiate (one backward per forward)");
  const int dirs = directions();
  const int64_t h = o.hidden_size, rows = o.num_layers * dirs;
  ops::check::shape(op, "d_output", d_output, {steps_, batch_, h * dirs});
  S2S_CHECK(d_output.dtype() == o.dtype && d_output.device() == o.device, op, ": d_output is ",
            d_output.str(), ", but the layer ", o.name, " holds ", dtype_name(o.dtype), " on ",
            o.device.str());
  check_state(op, "d_final.h", d_final.h, "d_output", d_output, rows, batch_, h);
  check_state(op, "d_final.c", d_final.c, "d_output", d_output, rows, batch_, h);
  cached_ = false;

  Gradients result;
  result.d_initial.h = Tensor::empty({rows, batch_, h}, o.dtype, o.device);
  result.d_initial.c = Tensor::empty({rows, batch_, h}, o.dtype, o.device);
  Tensor dy = d_output;
  for (int l = o.num_layers - 1; l >= 0; --l) {
    Stage& stage = stages_[l];
    Tensor dx = Tensor::empty({steps_, batch_, stage.input_size}, o.dtype, o.device);
    for (int d = 0; d < dirs; ++d)
      backward_cell(l, d, dy, d_final, dx, result.d_initial);
    if (stage.residual) ops::axpy(1.0, dy, dx);
    if (stage.dropout_mask.defined()) ops::dropout_bwd(dx, stage.dropout_mask, dx);
    stage.input = Tensor();  // free the cached activations of layers above as we go
    dy = dx;
  }
  result.dx = dy;
  mask_ = Tensor();
  return result;
}

void Lstm::backward_cell(int layer, int direction, const Tensor& d_output, const LstmState& d_final,
                         Tensor& dx, LstmState& d_initial) {
  const LstmOptions& o = options_;
  Stage& stage = stages_[layer];
  Cell& cell = stage.cells[direction];
  const int64_t steps = steps_, batch = batch_, h = o.hidden_size, gates = lstm::kNumGates * h;
  const int64_t row = layer * directions() + direction;
  const bool reverse = direction == 1;
  ensure(cell.dh, {steps, batch, h}, o.dtype, o.device);
  if (mask_.defined()) ensure(cell.carry, {batch, h}, o.dtype, o.device);
  Tensor carry = mask_.defined() ? cell.carry : Tensor();

  ops::lstm_output_bwd(d_output, mask_, direction * h, cell.dh);
  const int64_t last = reverse ? 0 : steps - 1;  // the time forward processed last
  if (d_final.h.defined()) {
    Tensor dh_last = cell.dh.select(last);
    ops::axpy(1.0, d_final.h.select(row), dh_last);
  }
  Tensor dc = d_initial.c.select(row);  // carried back step by step, ends as dc0
  if (d_final.c.defined())
    dc.copy_from(d_final.c.select(row));
  else
    dc.zero();

  for (int64_t s = 0; s < steps; ++s) {
    const int64_t t = reverse ? s : steps - 1 - s;
    const int64_t prev = reverse ? t + 1 : t, next = reverse ? t : t + 1;
    Tensor g = cell.gates.select(t);  // activations in, their pre-activation gradients out
    ops::lstm_cell_bwd(g, cell.c.select(prev), cell.c.select(next),
                       mask_.defined() ? mask_.select(t) : Tensor(), cell.dh.select(t), dc, g, dc,
                       carry, cell.b.grad);
    // dh_prev = dh_carry + dgates · w_hh, straight into the previous step's dh (or dh0).
    const bool first_step = s == steps - 1;
    Tensor dh_prev = first_step ? d_initial.h.select(row) : cell.dh.select(reverse ? t + 1 : t - 1);
    double beta = 1.0;
    if (first_step && carry.defined())
      dh_prev.copy_from(carry);
    else if (first_step)
      beta = 0.0;
    else if (carry.defined())
      ops::axpy(1.0, carry, dh_prev);
    ops::gemm(g, false, cell.w_hh.value, false, dh_prev, 1.0, beta);
  }

  // Weight gradients over all timesteps at once: T * B rows in each GEMM.
  const Tensor dg = cell.gates.reshape({steps * batch, gates});
  const Tensor input = stage.input.reshape({steps * batch, stage.input_size});
  const Tensor h_prev =
      (reverse ? cell.h.slice(1, steps + 1) : cell.h.slice(0, steps)).reshape({steps * batch, h});
  ops::gemm(dg, true, input, false, cell.w_ih.grad, 1.0, 1.0);
  ops::gemm(dg, true, h_prev, false, cell.w_hh.grad, 1.0, 1.0);
  Tensor dx2 = dx.reshape({steps * batch, stage.input_size});
  ops::gemm(dg, false, cell.w_ih.value, false, dx2, 1.0, direction == 0 ? 0.0 : 1.0);
}

}  // namespace s2s
