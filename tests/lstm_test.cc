// The LSTM cell ops and the Lstm layer: one step against the textbook formula, exact gradients
// (double-precision finite differences) for the cell and for whole stacks with padding, dropout
// and residuals, f32 against f64, and padding against running each sequence alone.
#include <gtest/gtest.h>

#include <cmath>

#include "seq2seq/layers/lstm.h"
#include "seq2seq/lstm_layout.h"
#include "seq2seq/ops/elementwise.h"
#include "seq2seq/ops/lstm_cell.h"
#include "tests/test_util.h"

namespace s2s {
namespace {

using testing::cast;
using testing::gradient_check;
using testing::max_relative_error;
using testing::random_tensor;
using testing::relative_norm_error;
using testing::values;
using testing::weighted_sum;

constexpr DType f64 = DType::f64;
constexpr double kGradTolerance = 1e-6;  // the bar for every double-precision gradient check

double sigmoid(double x) {
  return 1.0 / (1.0 + std::exp(-x));
}

// mask [T, B]: 1 where t < lengths[b].
Tensor length_mask(int64_t steps, const std::vector<int64_t>& lengths, DType dtype) {
  std::vector<double> m;
  for (int64_t t = 0; t < steps; ++t)
    for (int64_t len : lengths)
      m.push_back(t < len ? 1.0 : 0.0);
  return cast(Tensor::from_vector(m, {steps, static_cast<int64_t>(lengths.size())}), dtype);
}

// Row-sums of a [B, 4H] gradient: the gradient of a bias broadcast over the batch.
Tensor column_sums(const Tensor& t) {
  const auto v = values(t);
  std::vector<double> out(t.dim(1), 0.0);
  for (int64_t r = 0; r < t.dim(0); ++r)
    for (int64_t j = 0; j < t.dim(1); ++j)
      out[j] += v[r * t.dim(1) + j];
  return Tensor::from_vector(out, {t.dim(1)});
}

// ---- the cell op ----------------------------------------------------------------------------

TEST(LstmCell, OneStepMatchesNaiveFormula) {
  const int64_t batch = 3, hidden = 5;
  for (DType dtype : {DType::f32, DType::f64}) {
    Tensor pre = random_tensor({batch, 4 * hidden}, dtype, 1, -3, 3);
    Tensor bias = random_tensor({4 * hidden}, dtype, 2);
    Tensor c_prev = random_tensor({batch, hidden}, dtype, 3);
    Tensor h_prev = random_tensor({batch, hidden}, dtype, 4);
    Tensor mask = cast(Tensor::from_vector<double>({1, 0, 1}, {batch}), dtype);
    Tensor gates = pre.clone(), c = Tensor::empty({batch, hidden}, dtype);
    Tensor h = Tensor::empty({batch, hidden}, dtype);
    ops::lstm_cell_fwd(gates, bias, c_prev, h_prev, mask, c, h);

    const auto a = values(pre), bv = values(bias), cp = values(c_prev), hp = values(h_prev);
    std::vector<double> want_c, want_h;
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t j = 0; j < hidden; ++j) {
        auto pre_act = [&](lstm::Gate g) {
          const int64_t k = lstm::gate_offset(g, hidden) + j;
          return a[b * 4 * hidden + k] + bv[k];
        };
        const double i = sigmoid(pre_act(lstm::Gate::i)), f = sigmoid(pre_act(lstm::Gate::f));
        const double g = std::tanh(pre_act(lstm::Gate::g)), o = sigmoid(pre_act(lstm::Gate::o));
        const double cn = f * cp[b * hidden + j] + i * g;
        const bool real = b != 1;
        want_c.push_back(real ? cn : cp[b * hidden + j]);
        want_h.push_back(real ? o * std::tanh(cn) : hp[b * hidden + j]);
      }
    // f32: Eigen's rational tanh/logistic are within a few ulp each, and h = o * tanh(f * c + i *
    // g) chains about ten roundings of 6e-8; f64: the same chain at 1e-16.
    const double tolerance = dtype == DType::f32 ? 5e-6 : 1e-14;
    EXPECT_LT(max_relative_error(values(c), want_c), tolerance) << dtype_name(dtype);
    EXPECT_LT(max_relative_error(values(h), want_h), tolerance) << dtype_name(dtype);
    // The cache holds the activations: sigmoid(a_i + b_i) in the first slot of a real row.
    EXPECT_NEAR(values(gates)[0], sigmoid(a[0] + bv[0]), tolerance);
  }
}

// Loss = sum(wh * h) + sum(wc * c) after one step, differentiated through every input.
TEST(LstmCell, GradientsMatchFiniteDifferences) {
  const int64_t batch = 4, hidden = 3;
  Tensor pre = random_tensor({batch, 4 * hidden}, f64, 11, -2, 2);
  Tensor bias = random_tensor({4 * hidden}, f64, 12);
  Tensor c_prev = random_tensor({batch, hidden}, f64, 13);
  Tensor h_prev = random_tensor({batch, hidden}, f64, 14);
  Tensor mask = Tensor::from_vector<double>({1, 0, 1, 0}, {batch});
  Tensor wh = random_tensor({batch, hidden}, f64, 15);
  Tensor wc = random_tensor({batch, hidden}, f64, 16);

  auto loss = [&] {
    Tensor gates = pre.clone(), c = Tensor::empty({batch, hidden}, f64);
    Tensor h = Tensor::empty({batch, hidden}, f64);
    ops::lstm_cell_fwd(gates, bias, c_prev, h_prev, mask, c, h);
    return weighted_sum(h, wh) + weighted_sum(c, wc);
  };
  for (bool in_place : {false, true}) {
    Tensor gates = pre.clone(), c = Tensor::empty({batch, hidden}, f64);
    Tensor h = Tensor::empty({batch, hidden}, f64);
    ops::lstm_cell_fwd(gates, bias, c_prev, h_prev, mask, c, h);
    Tensor dgates = in_place ? gates : Tensor::empty({batch, 4 * hidden}, f64);
    Tensor dh = wh.clone(), dc = wc.clone();
    Tensor dc_prev = in_place ? dc : Tensor::empty({batch, hidden}, f64);
    Tensor dh_carry = in_place ? dh : Tensor::empty({batch, hidden}, f64);
    Tensor dbias = random_tensor({4 * hidden}, f64, 17);  // accumulated into
    const Tensor dbias_before = dbias.clone();
    ops::lstm_cell_bwd(gates, c_prev, c, mask, dh, dc, dgates, dc_prev, dh_carry, dbias);
    ops::axpy(-1.0, dbias_before, dbias);

    EXPECT_LT(gradient_check(loss, pre, dgates), kGradTolerance) << "in_place " << in_place;
    EXPECT_LT(gradient_check(loss, bias, column_sums(dgates)), kGradTolerance);
    EXPECT_LT(max_relative_error(dbias, column_sums(dgates)), 1e-14);
    EXPECT_LT(gradient_check(loss, c_prev, dc_prev), kGradTolerance);
    EXPECT_LT(gradient_check(loss, h_prev, dh_carry), kGradTolerance);
    const auto dg = values(dgates);
    for (int64_t j = 4 * hidden; j < 8 * hidden; ++j)  // row 1 is padding
      EXPECT_EQ(dg[j], 0.0) << "a padded row has no gate gradient";
  }
}

TEST(LstmCell, UndefinedDcAndNoMask) {
  const int64_t batch = 2, hidden = 4;
  Tensor pre = random_tensor({batch, 4 * hidden}, f64, 21, -2, 2);
  Tensor c_prev = random_tensor({batch, hidden}, f64, 22);
  Tensor h_prev = random_tensor({batch, hidden}, f64, 23);
  Tensor wh = random_tensor({batch, hidden}, f64, 24);
  auto loss = [&] {
    Tensor gates = pre.clone(), c = Tensor::empty({batch, hidden}, f64);
    Tensor h = Tensor::empty({batch, hidden}, f64);
    ops::lstm_cell_fwd(gates, Tensor(), c_prev, h_prev, Tensor(), c, h);
    return weighted_sum(h, wh);
  };
  Tensor gates = pre.clone(), c = Tensor::empty({batch, hidden}, f64);
  Tensor h = Tensor::empty({batch, hidden}, f64);
  ops::lstm_cell_fwd(gates, Tensor(), c_prev, h_prev, Tensor(), c, h);
  Tensor dc_prev = Tensor::empty({batch, hidden}, f64), no_carry, no_dbias;
  ops::lstm_cell_bwd(gates, c_prev, c, Tensor(), wh, Tensor(), gates, dc_prev, no_carry, no_dbias);
  EXPECT_LT(gradient_check(loss, pre, gates), kGradTolerance);
  EXPECT_LT(gradient_check(loss, c_prev, dc_prev), kGradTolerance);
}

TEST(LstmCell, RejectsBadArguments) {
  Tensor gates = Tensor::zeros({2, 12}), c_prev = Tensor::zeros({2, 3});
  Tensor h_prev = Tensor::zeros({2, 3}), c = Tensor::zeros({2, 3}), h = Tensor::zeros({2, 3});
  Tensor bad_gates = Tensor::zeros({2, 10});
  EXPECT_THROW(ops::lstm_cell_fwd(bad_gates, Tensor(), c_prev, h_prev, Tensor(), c, h), ShapeError);
  Tensor bad_mask = Tensor::zeros({3});
  EXPECT_THROW(ops::lstm_cell_fwd(gates, Tensor(), c_prev, h_prev, bad_mask, c, h), ShapeError);
  Tensor mask64 = Tensor::zeros({2}, f64);
  EXPECT_THROW(ops::lstm_cell_fwd(gates, Tensor(), c_prev, h_prev, mask64, c, h), InvalidArgument);
  Tensor mask = Tensor::zeros({2}), no_carry, dbias = Tensor::zeros({12});
  EXPECT_THROW(ops::lstm_cell_bwd(gates, c_prev, c, mask, h, Tensor(), gates, c, no_carry, dbias),
               InvalidArgument);
  Tensor carry = Tensor::zeros({2, 3}), bad_dbias = Tensor::zeros({3});
  EXPECT_THROW(ops::lstm_cell_bwd(gates, c_prev, c, mask, h, Tensor(), gates, c, carry, bad_dbias),
               ShapeError);
  Tensor out = Tensor::zeros({1, 2, 4});
  EXPECT_THROW(ops::lstm_output_fwd(Tensor::zeros({1, 2, 3}), Tensor(), out, 2), ShapeError);
}

// ---- the layer ------------------------------------------------------------------------------

struct Case {
  const char* name;
  int layers;
  bool bidirectional;
  bool residual;
  double dropout;
  std::vector<int64_t> lengths;  // empty: no mask
  bool initial_state;
  int64_t steps, input, hidden;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.name;
}

class LstmGradient : public ::testing::TestWithParam<Case> {};

// Loss = <w_out, output> + <w_h, h_n> + <w_c, c_n>; every parameter, x, h0 and c0 checked.
TEST_P(LstmGradient, MatchesFiniteDifferences) {
  const Case& k = GetParam();
  LstmOptions options;
  options.input_size = k.input;
  options.hidden_size = k.hidden;
  options.num_layers = k.layers;
  options.bidirectional = k.bidirectional;
  options.residual = k.residual;
  options.dropout = k.dropout;
  options.dtype = f64;
  options.seed = 5;
  Lstm lstm(options);
  const int64_t batch = k.lengths.empty() ? 2 : static_cast<int64_t>(k.lengths.size());
  const int64_t rows = k.layers * lstm.directions(), width = k.hidden * lstm.directions();
  Tensor x = random_tensor({k.steps, batch, k.input}, f64, 31);
  Tensor mask = k.lengths.empty() ? Tensor() : length_mask(k.steps, k.lengths, f64);
  LstmState initial;
  if (k.initial_state) {
    initial.h = random_tensor({rows, batch, k.hidden}, f64, 32);
    initial.c = random_tensor({rows, batch, k.hidden}, f64, 33);
  }
  Tensor w_out = random_tensor({k.steps, batch, width}, f64, 34);
  Tensor w_h = random_tensor({rows, batch, k.hidden}, f64, 35);
  Tensor w_c = random_tensor({rows, batch, k.hidden}, f64, 36);
  constexpr uint64_t kDropoutSeed = 77;  // the same masks in every evaluation

  auto loss = [&] {
    Rng rng(kDropoutSeed);
    Lstm::Output out = lstm.forward(x, mask, initial, &rng);
    return weighted_sum(out.output, w_out) + weighted_sum(out.final_state.h, w_h) +
           weighted_sum(out.final_state.c, w_c);
  };
  lstm.zero_grad();
  Rng rng(kDropoutSeed);
  Lstm::Output out = lstm.forward(x, mask, initial, &rng);
  if (mask.defined()) {  // nothing past a sequence's end
    const auto o = values(out.output);
    for (int64_t t = 0; t < k.steps; ++t)
      for (int64_t b = 0; b < batch; ++b) {
        if (t < k.lengths[b]) continue;
        for (int64_t j = 0; j < width; ++j)
          ASSERT_EQ(o[(t * batch + b) * width + j], 0.0) << "t " << t << " b " << b;
      }
  }
  Lstm::Gradients grads = lstm.backward(w_out, {w_h, w_c});

  for (Parameter* p : lstm.parameters())
    EXPECT_LT(gradient_check(loss, p->value, p->grad), kGradTolerance) << p->name;
  EXPECT_LT(gradient_check(loss, x, grads.dx), kGradTolerance) << "x";
  if (k.initial_state) {
    EXPECT_LT(gradient_check(loss, initial.h, grads.d_initial.h), kGradTolerance) << "h0";
    EXPECT_LT(gradient_check(loss, initial.c, grads.d_initial.c), kGradTolerance) << "c0";
  }
}

INSTANTIATE_TEST_SUITE_P(
    Stacks, LstmGradient,
    ::testing::Values(
        Case{"OneLayerPadded", 1, false, false, 0.0, {5, 3, 1}, true, 5, 3, 4},
        Case{"OneLayerNoMaskZeroState", 1, false, false, 0.0, {}, false, 3, 2, 3},
        Case{"TwoLayersBidirectional", 2, true, false, 0.0, {4, 2, 3}, true, 4, 3, 3},
        Case{"ThreeLayersBiResidualDropout", 3, true, true, 0.3, {4, 1, 3}, true, 4, 3, 2},
        Case{"ThreeLayersUniResidualNoMask", 3, false, true, 0.0, {}, true, 3, 2, 3}),
    [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

LstmOptions small_options(DType dtype) {
  LstmOptions options;
  options.input_size = 6;
  options.hidden_size = 8;
  options.num_layers = 2;
  options.bidirectional = true;
  options.dtype = dtype;
  options.seed = 9;
  return options;
}

// Copies every parameter of `from` into `to` (same structure, any floating dtypes).
void copy_parameters(Lstm& from, Lstm& to) {
  const auto src = from.parameters(), dst = to.parameters();
  ASSERT_EQ(src.size(), dst.size());
  for (size_t i = 0; i < src.size(); ++i)
    dst[i]->value.copy_from(cast(src[i]->value, dst[i]->value.dtype()));
}

TEST(Lstm, FloatForwardMatchesDouble) {
  Lstm lstm32(small_options(DType::f32)), lstm64(small_options(f64));
  copy_parameters(lstm32, lstm64);  // f64 gets exactly the f32 weights
  const std::vector<int64_t> lengths = {7, 4, 6, 1};
  Tensor x = random_tensor({7, 4, 6}, DType::f32, 41);
  Tensor h0 = random_tensor({4, 4, 8}, DType::f32, 42);
  Tensor c0 = random_tensor({4, 4, 8}, DType::f32, 43);
  Lstm::Output a = lstm32.forward(x, length_mask(7, lengths, DType::f32), {h0, c0});
  Lstm::Output b =
      lstm64.forward(cast(x, f64), length_mask(7, lengths, f64), {cast(h0, f64), cast(c0, f64)});
  // f32 rounding (6e-8) grows by the sums of E + H products and a few gate nonlinearities per
  // step; 1e-5 leaves a margin of ~10x over what this size shows.
  EXPECT_LT(relative_norm_error(a.output, b.output), 1e-5);
  EXPECT_LT(relative_norm_error(a.final_state.h, b.final_state.h), 1e-5);
  EXPECT_LT(relative_norm_error(a.final_state.c, b.final_state.c), 1e-5);
}

// Slices sequence b (its first `len` steps) out of a [T, B, D] tensor as [len, 1, D].
Tensor sequence(const Tensor& t, int64_t b, int64_t len) {
  const auto v = values(t);
  const int64_t batch = t.dim(1), d = t.dim(2);
  std::vector<double> out;
  for (int64_t s = 0; s < len; ++s)
    for (int64_t j = 0; j < d; ++j)
      out.push_back(v[(s * batch + b) * d + j]);
  return cast(Tensor::from_vector(out, {len, 1, d}), t.dtype());
}

// A padded batch gives each sequence what it gets alone: outputs, final states, input and
// initial-state gradients, and parameter gradients summed over the sequences.
TEST(Lstm, PaddedBatchMatchesSequencesRunAlone) {
  LstmOptions options = small_options(f64);
  options.num_layers = 3;
  options.residual = true;
  Lstm lstm(options);
  const std::vector<int64_t> lengths = {5, 2, 4};
  const int64_t steps = 5, batch = 3, rows = 6, width = 16;
  Tensor x = random_tensor({steps, batch, 6}, f64, 51);
  LstmState initial{random_tensor({rows, batch, 8}, f64, 52),
                    random_tensor({rows, batch, 8}, f64, 53)};
  Tensor d_out = random_tensor({steps, batch, width}, f64, 54);
  LstmState d_final{random_tensor({rows, batch, 8}, f64, 55),
                    random_tensor({rows, batch, 8}, f64, 56)};
  lstm.zero_grad();
  Lstm::Output padded = lstm.forward(x, length_mask(steps, lengths, f64), initial);
  Lstm::Gradients padded_grads = lstm.backward(d_out, d_final);
  std::vector<Tensor> batched_grads;
  for (Parameter* p : lstm.parameters())
    batched_grads.push_back(p->grad.clone());

  // [L*dirs, B, H] -> the rows of sequence b, as [L*dirs, 1, H]: the same slicing, transposed.
  auto state_of = [&](const Tensor& s, int64_t b) {
    const auto v = values(s);
    std::vector<double> out;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < 8; ++j)
        out.push_back(v[(r * batch + b) * 8 + j]);
    return Tensor::from_vector(out, {rows, 1, 8});
  };
  lstm.zero_grad();  // the single runs accumulate into fresh grads
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t len = lengths[b];
    Lstm::Output alone = lstm.forward(sequence(x, b, len), Tensor(),
                                      {state_of(initial.h, b), state_of(initial.c, b)});
    EXPECT_LT(max_relative_error(sequence(padded.output, b, len), alone.output), 1e-12) << b;
    EXPECT_LT(max_relative_error(state_of(padded.final_state.h, b), alone.final_state.h), 1e-12);
    EXPECT_LT(max_relative_error(state_of(padded.final_state.c, b), alone.final_state.c), 1e-12);
    Lstm::Gradients g =
        lstm.backward(sequence(d_out, b, len), {state_of(d_final.h, b), state_of(d_final.c, b)});
    EXPECT_LT(max_relative_error(sequence(padded_grads.dx, b, len), g.dx), 1e-12) << b;
    EXPECT_LT(max_relative_error(state_of(padded_grads.d_initial.h, b), g.d_initial.h), 1e-12);
    EXPECT_LT(max_relative_error(state_of(padded_grads.d_initial.c, b), g.d_initial.c), 1e-12);
  }
  const auto params = lstm.parameters();
  for (size_t i = 0; i < params.size(); ++i)
    EXPECT_LT(max_relative_error(batched_grads[i], params[i]->grad), 1e-10) << params[i]->name;
}

TEST(Lstm, ParameterNamesShapesAndInit) {
  LstmOptions options = small_options(DType::f32);
  options.name = "encoder.lstm";
  Lstm lstm(options);
  const auto params = lstm.parameters();
  ASSERT_EQ(params.size(), 12u);
  EXPECT_EQ(params[0]->name, "encoder.lstm.0.fwd.w_ih");
  EXPECT_EQ(params[1]->name, "encoder.lstm.0.fwd.w_hh");
  EXPECT_EQ(params[2]->name, "encoder.lstm.0.fwd.b");
  EXPECT_EQ(params[3]->name, "encoder.lstm.0.bwd.w_ih");
  EXPECT_EQ(params[6]->name, "encoder.lstm.1.fwd.w_ih");
  EXPECT_EQ(params[0]->value.shape(), (Shape{32, 6}));
  EXPECT_EQ(params[6]->value.shape(), (Shape{32, 16}));  // layer 1 reads both directions
  EXPECT_EQ(params[7]->value.shape(), (Shape{32, 8}));
  const auto b = values(lstm.bias(0, 0).value);
  for (int64_t j = 0; j < 32; ++j)
    EXPECT_EQ(b[j], j >= 8 && j < 16 ? 1.0 : 0.0) << "only the forget slice starts at 1";
  options.bidirectional = false;
  options.num_layers = 1;
  EXPECT_EQ(Lstm(options).parameters()[1]->name, "encoder.lstm.0.w_hh");
}

TEST(Lstm, DropoutOnlyWhileTraining) {
  LstmOptions options = small_options(DType::f32);
  options.dropout = 0.5;
  Lstm lstm(options);
  Tensor x = random_tensor({3, 2, 6}, DType::f32, 61);
  EXPECT_THROW(lstm.forward(x, Tensor()), InvalidArgument);  // training needs an rng
  lstm.set_training(false);
  Lstm::Output a = lstm.forward(x, Tensor());
  Rng rng(1);
  Lstm::Output b = lstm.forward(x, Tensor(), {}, &rng);
  EXPECT_EQ(values(a.output), values(b.output));
  EXPECT_EQ(rng.counter(), 0u) << "evaluation draws nothing";
}

TEST(Lstm, RejectsBadArguments) {
  Lstm lstm(small_options(DType::f32));
  EXPECT_THROW(lstm.forward(Tensor::zeros({3, 2, 5}), Tensor()), ShapeError);
  EXPECT_THROW(lstm.forward(Tensor::zeros({3, 2, 6}, f64), Tensor()), InvalidArgument);
  EXPECT_THROW(lstm.forward(Tensor::zeros({3, 2, 6}), Tensor::zeros({3, 3})), ShapeError);
  EXPECT_THROW(lstm.forward(Tensor::zeros({3, 2, 6}), Tensor(), {Tensor::zeros({2, 2, 8}), {}}),
               ShapeError);
  EXPECT_THROW(lstm.backward(Tensor::zeros({3, 2, 16})), InvalidArgument);  // no forward yet
  lstm.forward(Tensor::zeros({3, 2, 6}), Tensor());
  EXPECT_THROW(lstm.backward(Tensor::zeros({3, 2, 8})), ShapeError);
  LstmOptions bad = small_options(DType::f32);
  bad.hidden_size = 0;
  EXPECT_THROW(Lstm{bad}, InvalidArgument);
}

}  // namespace
}  // namespace s2s
