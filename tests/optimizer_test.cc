// Optimizer updates (ops::adam_step, ops::sgd_step) against naive scalar references over several
// steps, the Optimizer class's state and bookkeeping, gradient-norm clipping, and rejection of bad
// arguments.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "seq2seq/ops/grad_norm.h"
#include "seq2seq/ops/optimizer_step.h"
#include "seq2seq/optimizer.h"
#include "tests/test_util.h"

namespace s2s {
namespace {

using testing::max_relative_error;
using testing::random_tensor;
using testing::relative_norm_error;
using testing::values;

// Adam/AdamW for one scalar, straight from the formulas in ops/optimizer_step.h.
struct ScalarAdam {
  double p, m = 0, v = 0;
  void step(double g, const ops::AdamArgs& a) {
    p *= 1 - a.lr * a.weight_decay;
    m = a.beta1 * m + (1 - a.beta1) * g;
    v = a.beta2 * v + (1 - a.beta2) * g * g;
    const double m_hat = m / (1 - std::pow(a.beta1, a.step));
    const double v_hat = v / (1 - std::pow(a.beta2, a.step));
    p -= a.lr * m_hat / (std::sqrt(v_hat) + a.eps);
  }
};

// A gradient that changes from step to step.
Tensor grad_at(int step, Shape shape, DType dtype) {
  return random_tensor(shape, dtype, 100 + step, -2, 2);
}

TEST(AdamStep, MatchesScalarReferenceOverSteps) {
  for (DType dtype : {DType::f64, DType::f32}) {
    const Shape shape{3, 1500};  // over one 2048-element block: the blocked loop's tail runs
    Tensor p = random_tensor(shape, dtype, 1);
    Tensor m = Tensor::zeros(shape, dtype), v = Tensor::zeros(shape, dtype);
    std::vector<ScalarAdam> ref;
    for (double x : values(p))
      ref.push_back({x});
    for (int t = 1; t <= 5; ++t) {
      const ops::AdamArgs args{
          .lr = 0.01 * t, .beta1 = 0.9, .beta2 = 0.98, .eps = 1e-6, .weight_decay = 0.1, .step = t};
      const Tensor g = grad_at(t, shape, dtype);
      ops::adam_step(p, g, m, v, args);
      const std::vector<double> gv = values(g);
      for (size_t i = 0; i < ref.size(); ++i)
        ref[i].step(gv[i], args);
    }
    std::vector<double> expected;
    for (const ScalarAdam& s : ref)
      expected.push_back(s.p);
    // f32: five steps of a few float roundings each; norm-wise, since parameters passing near
    // zero carry tiny absolute but large relative rounding.
    if (dtype == DType::f32)
      EXPECT_LT(relative_norm_error(values(p), expected), 1e-6);
    else
      EXPECT_LT(max_relative_error(values(p), expected), 1e-13);
  }
}

TEST(SgdStep, PlainAndMomentumMatchScalarReference) {
  const Shape shape{2500};
  Tensor p_plain = random_tensor(shape, DType::f64, 2);
  Tensor p_mom = p_plain.clone();
  Tensor buf = Tensor::zeros(shape, DType::f64);
  std::vector<double> ref_plain = values(p_plain), ref_mom = ref_plain, ref_buf(shape.numel());
  for (int t = 1; t <= 4; ++t) {
    const Tensor g = grad_at(t, shape, DType::f64);
    ops::sgd_step(p_plain, g, nullptr, {.lr = 0.1, .weight_decay = 0.01});
    ops::sgd_step(p_mom, g, &buf, {.lr = 0.1, .momentum = 0.9});
    const std::vector<double> gv = values(g);
    for (size_t i = 0; i < gv.size(); ++i) {
      ref_plain[i] = ref_plain[i] * (1 - 0.1 * 0.01) - 0.1 * gv[i];
      ref_buf[i] = 0.9 * ref_buf[i] + gv[i];
      ref_mom[i] -= 0.1 * ref_buf[i];
    }
  }
  EXPECT_LT(max_relative_error(values(p_plain), ref_plain), 1e-13);
  EXPECT_LT(max_relative_error(values(p_mom), ref_mom), 1e-13);
  EXPECT_LT(max_relative_error(values(buf), ref_buf), 1e-13);
}

TEST(OptimizerStep, RejectsBadArguments) {
  Tensor p = Tensor::zeros({4}, DType::f32), g = Tensor::zeros({4}, DType::f32);
  Tensor m = Tensor::zeros({4}, DType::f32), v = Tensor::zeros({4}, DType::f32);
  Tensor short_v = Tensor::zeros({3}, DType::f32), v64 = Tensor::zeros({4}, DType::f64);
  EXPECT_THROW(ops::adam_step(p, g, m, short_v, {}), ShapeError);
  EXPECT_THROW(ops::adam_step(p, g, m, v64, {}), InvalidArgument);
  EXPECT_THROW(ops::adam_step(p, g, m, v, {.step = 0}), InvalidArgument);
  EXPECT_THROW(ops::adam_step(p, g, m, v, {.beta1 = 1.0}), InvalidArgument);
  EXPECT_THROW(ops::adam_step(p, g, m, v, {.eps = 0}), InvalidArgument);
  EXPECT_THROW(ops::adam_step(p, g, m, v, {.lr = -1}), InvalidArgument);
  EXPECT_THROW(ops::sgd_step(p, g, nullptr, {.momentum = 0.9}), InvalidArgument);
  EXPECT_THROW(ops::sgd_step(p, short_v, nullptr, {}), ShapeError);
  EXPECT_THROW(ops::sgd_step(p, g, nullptr, {.weight_decay = -0.1}), InvalidArgument);
}

std::vector<Parameter> make_params() {
  std::vector<Parameter> params;
  params.push_back(Parameter::make("enc.w", {4, 3}, DType::f64, Device::cpu()));
  params.push_back(Parameter::make("enc.b", {3}, DType::f64, Device::cpu()));
  params.push_back(Parameter::make("frozen", {2}, DType::f64, Device::cpu()));
  params[2].trainable = false;
  for (size_t i = 0; i < params.size(); ++i)
    params[i].value.copy_from(random_tensor(params[i].value.shape(), DType::f64, 10 + i));
  return params;
}

TEST(Optimizer, AdamUpdatesTrainableParametersAndNamesState) {
  std::vector<Parameter> params = make_params();
  std::vector<Parameter*> ptrs = {&params[0], &params[1], &params[2]};
  const OptimizerOptions options{.beta2 = 0.98, .weight_decay = 0.01};
  Optimizer opt(options);
  // The reference: adam_step on copies with the same step counter.
  Tensor w = params[0].value.clone(), wm = Tensor::zeros({4, 3}, DType::f64),
         wv = Tensor::zeros({4, 3}, DType::f64);
  const std::vector<double> frozen = values(params[2].value);
  for (int t = 1; t <= 3; ++t) {
    for (size_t i = 0; i < params.size(); ++i)
      params[i].grad.copy_from(
          grad_at(t * 10 + static_cast<int>(i), params[i].grad.shape(), DType::f64));
    opt.step(ptrs, 0.05);
    ops::adam_step(w, params[0].grad, wm, wv,
                   {.lr = 0.05, .beta2 = 0.98, .weight_decay = 0.01, .step = t});
  }
  EXPECT_EQ(opt.steps_taken(), 3);
  EXPECT_EQ(values(params[0].value), values(w));
  EXPECT_EQ(values(params[2].value), frozen);

  const auto state = opt.state(ptrs);
  ASSERT_EQ(state.size(), 4u);  // m and v of the two trainable parameters
  EXPECT_EQ(state[0].first, "enc.w.adam_m");
  EXPECT_EQ(state[1].first, "enc.w.adam_v");
  EXPECT_EQ(state[2].first, "enc.b.adam_m");
  EXPECT_EQ(state[3].first, "enc.b.adam_v");
  EXPECT_EQ(values(state[0].second), values(wm));
  EXPECT_EQ(values(state[1].second), values(wv));

  // Restoring state and step count into a fresh optimizer continues the same run.
  std::vector<Parameter> copy = make_params();
  for (size_t i = 0; i < copy.size(); ++i)
    copy[i].value.copy_from(params[i].value);
  std::vector<Parameter*> copy_ptrs = {&copy[0], &copy[1], &copy[2]};
  Optimizer resumed(options);
  auto resumed_state = resumed.state(copy_ptrs);
  for (size_t i = 0; i < state.size(); ++i)
    resumed_state[i].second.copy_from(state[i].second);
  resumed.set_steps_taken(opt.steps_taken());
  for (size_t i = 0; i < params.size(); ++i) {
    params[i].grad.copy_from(grad_at(99, params[i].grad.shape(), DType::f64));
    copy[i].grad.copy_from(params[i].grad);
  }
  opt.step(ptrs, 0.05);
  resumed.step(copy_ptrs, 0.05);
  for (size_t i = 0; i < params.size(); ++i)
    EXPECT_EQ(values(copy[i].value), values(params[i].value)) << params[i].name;
}

TEST(Optimizer, SgdMomentumStateAndErrors) {
  std::vector<Parameter> params = make_params();
  std::vector<Parameter*> ptrs = {&params[0], &params[1], &params[2]};
  Optimizer plain({.kind = OptimizerKind::sgd});
  EXPECT_TRUE(plain.state(ptrs).empty());
  Optimizer momentum({.kind = OptimizerKind::sgd, .momentum = 0.9});
  const auto state = momentum.state(ptrs);
  ASSERT_EQ(state.size(), 2u);
  EXPECT_EQ(state[0].first, "enc.w.momentum");

  const std::vector<double> before = values(params[1].value);
  params[1].grad.fill(1.0);
  momentum.step(ptrs, 0.5);
  const std::vector<double> after = values(params[1].value);
  for (size_t i = 0; i < before.size(); ++i)
    EXPECT_DOUBLE_EQ(after[i], before[i] - 0.5);

  std::vector<Parameter*> twice = {&params[0], &params[0]};
  EXPECT_THROW(momentum.step(twice, 0.1), InvalidArgument);
  EXPECT_THROW(Optimizer({.beta1 = 1.5}), ConfigError);
  EXPECT_THROW(Optimizer({.eps = -1}), ConfigError);
  EXPECT_THROW(Optimizer({.kind = OptimizerKind::sgd, .momentum = 1.0}), ConfigError);
  EXPECT_THROW(Optimizer({.weight_decay = -1}), ConfigError);
}

TEST(ClipGradNorm, NormScalingAndNonFinite) {
  // Mixed dtypes: the norm is one sum over all of them.
  const Tensor a = random_tensor({5, 7}, DType::f32, 20);
  const Tensor b = random_tensor({13}, DType::f64, 21, -3, 3);
  double sum = 0;
  for (double x : values(a))
    sum += x * x;
  for (double x : values(b))
    sum += x * x;
  const double norm = std::sqrt(sum);
  // f32 tensors are squared and summed in float blocks of 256 (grad_norm_cpu.cc): ~1e-8.
  const double tolerance = 1e-7 * norm;
  EXPECT_NEAR(ops::global_norm({a, b}), norm, tolerance);

  // Under the threshold: unchanged.
  const std::vector<double> a0 = values(a), b0 = values(b);
  EXPECT_NEAR(ops::clip_grad_norm({a, b}, norm * 2), norm, tolerance);
  EXPECT_EQ(values(a), a0);
  EXPECT_EQ(values(b), b0);

  // Over: scaled to exactly max_norm, direction kept.
  const double max_norm = norm / 4;
  EXPECT_NEAR(ops::clip_grad_norm({a, b}, max_norm), norm, tolerance);
  EXPECT_NEAR(ops::global_norm({a, b}), max_norm, 1e-6 * max_norm);
  const std::vector<double> b1 = values(b);
  for (size_t i = 0; i < b1.size(); ++i)
    EXPECT_NEAR(b1[i], b0[i] / 4, 1e-7);

  // Non-finite: reported, nothing scaled.
  Tensor c = random_tensor({4}, DType::f32, 22);
  c.data<float>()[2] = NAN;
  const std::vector<double> a1 = values(a);
  EXPECT_TRUE(std::isnan(ops::clip_grad_norm({a, c}, 1e-3)));
  EXPECT_EQ(values(a), a1);
  c.data<float>()[2] = INFINITY;
  EXPECT_TRUE(std::isinf(ops::clip_grad_norm({a, c}, 1e-3)));
  EXPECT_EQ(values(a), a1);

  EXPECT_THROW(ops::clip_grad_norm({a}, 0.0), InvalidArgument);
  EXPECT_THROW(ops::global_norm({Tensor::zeros({2}, DType::i32)}), InvalidArgument);
  EXPECT_EQ(ops::global_norm({}), 0.0);
}

TEST(ClipGradNorm, OverParametersSkipsFrozen) {
  std::vector<Parameter> params = make_params();
  std::vector<Parameter*> ptrs = {&params[0], &params[1], &params[2]};
  for (Parameter& p : params)
    p.grad.fill(1.0);
  EXPECT_NEAR(grad_norm(ptrs), std::sqrt(12.0 + 3.0), 1e-12);  // the frozen 2 do not count
  EXPECT_NEAR(clip_grad_norm(ptrs, 1.0), std::sqrt(15.0), 1e-12);
  EXPECT_NEAR(grad_norm(ptrs), 1.0, 1e-12);
  EXPECT_EQ(values(params[2].grad), (std::vector<double>{1.0, 1.0}));
}

}  // namespace
}  // namespace s2s
