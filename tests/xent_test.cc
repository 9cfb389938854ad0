// ops::log_softmax_xent and ops::log_softmax: sums and per-row log-probs against a naive double
// reference, gradients against central differences (label smoothing, padding, grad_scale),
// float against double, stability for large logits, and rejection of bad inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "seq2seq/ops/log_softmax_xent.h"
#include "tests/test_util.h"

namespace s2s {
namespace {

using testing::cast;
using testing::gradient_check;
using testing::max_relative_error;
using testing::random_tensor;
using testing::relative_norm_error;
using testing::values;

struct Reference {
  ops::XentSums sums;
  std::vector<double> target_log_probs;
  std::vector<double> grad;  // d(loss sum)/d(logits) * grad_scale
};

// The definition, written the slow and obvious way: full log-softmax per row, then the loss.
Reference naive_xent(const Tensor& logits, const std::vector<int32_t>& targets,
                     const ops::XentOptions& o) {
  const std::vector<double> x = values(logits);
  const int64_t n = logits.dim(0), v = logits.dim(1);
  Reference r;
  r.target_log_probs.assign(n, 0.0);
  r.grad.assign(n * v, 0.0);
  const double eps = o.label_smoothing;
  for (int64_t i = 0; i < n; ++i) {
    if (targets[i] == o.pad_id) continue;
    double max = -INFINITY, sum = 0;
    for (int64_t j = 0; j < v; ++j)
      max = std::max(max, x[i * v + j]);
    for (int64_t j = 0; j < v; ++j)
      sum += std::exp(x[i * v + j] - max);
    double mean_nll = 0;
    for (int64_t j = 0; j < v; ++j) {
      const double logp = x[i * v + j] - max - std::log(sum);
      mean_nll -= logp / static_cast<double>(v);
      const double q = (j == targets[i] ? 1 - eps : 0) + eps / static_cast<double>(v);
      r.grad[i * v + j] = (std::exp(logp) - q) * o.grad_scale;
    }
    const double nll = -(x[i * v + targets[i]] - max - std::log(sum));
    r.sums.nll += nll;
    r.sums.loss += (1 - eps) * nll + eps * mean_nll;
    ++r.sums.tokens;
    r.target_log_probs[i] = -nll;
  }
  return r;
}

constexpr int32_t kPad = 0;
const std::vector<int32_t> kTargets = {3, kPad, 6, 1, kPad, 4};  // two padding rows

TEST(LogSoftmaxXent, MatchesNaiveReferenceWithSmoothingAndPadding) {
  for (double eps : {0.0, 0.1}) {
    const ops::XentOptions o{.label_smoothing = eps, .pad_id = kPad, .grad_scale = 0.37};
    Tensor logits = random_tensor({6, 7}, DType::f64, 1, -3, 3);
    const Reference ref = naive_xent(logits, kTargets, o);
    Tensor lp = Tensor::empty({6}, DType::f64);
    const Tensor targets = Tensor::from_vector(kTargets, {6});
    const ops::XentSums sums = ops::log_softmax_xent(logits, targets, o, &lp);
    EXPECT_EQ(sums.tokens, 4);
    EXPECT_NEAR(sums.loss, ref.sums.loss, 1e-12 * ref.sums.loss);
    EXPECT_NEAR(sums.nll, ref.sums.nll, 1e-12 * ref.sums.nll);
    if (eps == 0) {
      EXPECT_DOUBLE_EQ(sums.loss, sums.nll);
    }
    EXPECT_LT(max_relative_error(values(lp), ref.target_log_probs), 1e-12);
    EXPECT_LT(max_relative_error(values(logits), ref.grad), 1e-12) << "eps " << eps;
    for (int64_t j = 0; j < 7; ++j)  // padding rows: zero gradient
      EXPECT_EQ(logits.data<double>()[1 * 7 + j], 0.0);
    EXPECT_EQ(lp.data<double>()[1], 0.0);
  }
}

TEST(LogSoftmaxXent, GradientMatchesCentralDifferences) {
  const ops::XentOptions o{.label_smoothing = 0.1, .pad_id = kPad, .grad_scale = 0.37};
  const Tensor targets = Tensor::from_vector(kTargets, {6});
  Tensor logits = random_tensor({6, 7}, DType::f64, 2, -3, 3);
  Tensor grad = logits.clone();
  ops::log_softmax_xent(grad, targets, o);
  const auto loss = [&] { return ops::log_softmax_xent_loss(logits, targets, o).loss * 0.37; };
  EXPECT_LT(gradient_check(loss, logits, grad), 1e-6);
}

TEST(LogSoftmaxXent, LossOnlyLeavesLogitsUntouchedAndAgrees) {
  const ops::XentOptions o{.label_smoothing = 0.2, .pad_id = kPad};
  const Tensor targets = Tensor::from_vector(kTargets, {6});
  const Tensor logits = random_tensor({6, 7}, DType::f32, 3);
  const std::vector<double> before = values(logits);
  const ops::XentSums a = ops::log_softmax_xent_loss(logits, targets, o);
  EXPECT_EQ(values(logits), before);
  Tensor copy = logits.clone();
  const ops::XentSums b = ops::log_softmax_xent(copy, targets, o);
  // Equal up to float exp rounding: the two paths may evaluate exp with different Eigen kernels.
  EXPECT_NEAR(a.loss, b.loss, 1e-6 * b.loss);
  EXPECT_NEAR(a.nll, b.nll, 1e-6 * b.nll);
  EXPECT_EQ(a.tokens, b.tokens);
}

TEST(LogSoftmaxXent, FloatMatchesDouble) {
  // A realistic row length: float exp and rounding over V = 1000 terms, sums in double.
  const int64_t n = 16, v = 1000;
  std::vector<int32_t> t(n);
  for (int64_t i = 0; i < n; ++i)
    t[i] = static_cast<int32_t>((i * 379) % v);
  t[5] = -1;
  const Tensor targets = Tensor::from_vector(t, {n});
  const ops::XentOptions o{.label_smoothing = 0.1, .grad_scale = 1.0 / 15};
  Tensor l64 = random_tensor({n, v}, DType::f64, 4, -8, 8);
  Tensor l32 = cast(l64, DType::f32);
  Tensor lp64 = Tensor::empty({n}, DType::f64), lp32 = Tensor::empty({n}, DType::f32);
  const ops::XentSums s64 = ops::log_softmax_xent(l64, targets, o, &lp64);
  const ops::XentSums s32 = ops::log_softmax_xent(l32, targets, o, &lp32);
  EXPECT_LT(std::abs(s32.loss - s64.loss) / s64.loss, 1e-5);
  EXPECT_LT(std::abs(s32.nll - s64.nll) / s64.nll, 1e-5);
  EXPECT_LT(relative_norm_error(lp32, lp64), 1e-5);
  EXPECT_LT(relative_norm_error(l32, l64), 1e-5);
}

TEST(LogSoftmaxXent, StableForLargeLogits) {
  // exp(1e4) overflows any float; subtracting the row maximum must make the shift invisible.
  Tensor small = random_tensor({3, 50}, DType::f32, 5, -2, 2);
  Tensor large = small.clone();
  for (int64_t i = 0; i < large.numel(); ++i)
    large.data<float>()[i] += 1e4f;
  const Tensor targets = Tensor::from_vector<int32_t>({0, 10, 49}, {3});
  const ops::XentSums a = ops::log_softmax_xent(small, targets);
  const ops::XentSums b = ops::log_softmax_xent(large, targets);
  ASSERT_TRUE(std::isfinite(b.loss));
  // 1e4 in float carries ~5e-4 absolute rounding per logit.
  EXPECT_NEAR(a.loss, b.loss, 3e-3);
  EXPECT_LT(relative_norm_error(large, small), 1e-2);
}

TEST(LogSoftmaxXent, AllPaddingGivesNothing) {
  Tensor logits = random_tensor({2, 5}, DType::f32, 6);
  const ops::XentSums s =
      ops::log_softmax_xent(logits, Tensor::from_vector<int32_t>({-1, -1}, {2}));
  EXPECT_EQ(s.tokens, 0);
  EXPECT_EQ(s.loss, 0.0);
  for (double g : values(logits))
    EXPECT_EQ(g, 0.0);
}

TEST(LogSoftmaxXent, RejectsBadInputs) {
  Tensor logits = Tensor::zeros({2, 5}, DType::f32);
  const Tensor targets = Tensor::from_vector<int32_t>({1, 2}, {2});
  try {
    ops::log_softmax_xent(logits, Tensor::from_vector<int32_t>({1, 5}, {2}));
    FAIL() << "out-of-range target accepted";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("targets[1] = 5"), std::string::npos) << e.what();
  }
  EXPECT_THROW(ops::log_softmax_xent(logits, Tensor::from_vector<int32_t>({-2, 0}, {2})),
               InvalidArgument);
  EXPECT_THROW(ops::log_softmax_xent(logits, targets, {.label_smoothing = 1.0}), InvalidArgument);
  EXPECT_THROW(ops::log_softmax_xent(logits, targets, {.label_smoothing = -0.1}), InvalidArgument);
  EXPECT_THROW(ops::log_softmax_xent(logits, Tensor::from_vector<int32_t>({1}, {1})), ShapeError);
  EXPECT_THROW(ops::log_softmax_xent(logits, Tensor::zeros({2}, DType::f32)), InvalidArgument);
  Tensor ints = Tensor::zeros({2, 5}, DType::i32);
  EXPECT_THROW(ops::log_softmax_xent(ints, targets), InvalidArgument);
  Tensor lp = Tensor::zeros({2}, DType::f64);
  EXPECT_THROW(ops::log_softmax_xent(logits, targets, {}, &lp), InvalidArgument);
}

TEST(LogSoftmax, MatchesDefinitionAndWorksInPlace) {
  const Tensor x = random_tensor({4, 9}, DType::f64, 7, -5, 5);
  Tensor y = Tensor::empty({4, 9}, DType::f64);
  ops::log_softmax(x, y);
  const std::vector<double> xv = values(x), yv = values(y);
  for (int64_t i = 0; i < 4; ++i) {
    double sum = 0, lse = 0;
    for (int64_t j = 0; j < 9; ++j)
      sum += std::exp(xv[i * 9 + j]);
    lse = std::log(sum);
    double prob = 0;
    for (int64_t j = 0; j < 9; ++j) {
      EXPECT_NEAR(yv[i * 9 + j], xv[i * 9 + j] - lse, 1e-13);
      prob += std::exp(yv[i * 9 + j]);
    }
    EXPECT_NEAR(prob, 1.0, 1e-13);
  }
  Tensor z = cast(x, DType::f32);
  ops::log_softmax(z, z);
  EXPECT_LT(relative_norm_error(z, y), 1e-6);
  Tensor wrong = Tensor::empty({4, 8}, DType::f64);
  EXPECT_THROW(ops::log_softmax(x, wrong), ShapeError);
}

}  // namespace
}  // namespace s2s
