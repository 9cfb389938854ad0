// Dropout: the mask is a pure function of (seed, counter) — reproducible, independent of dtype,
// advancing the Rng — keeps about 1 - p of the elements, scales kept ones by 1/(1-p), p = 0 is the
// identity, backward is the mask, and bad arguments are rejected.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "seq2seq/ops/dropout.h"
#include "tests/test_util.h"

namespace s2s {
namespace {

using testing::gradient_check;
using testing::random_tensor;
using testing::values;
using testing::weighted_sum;

std::vector<double> mask_of(uint64_t seed, int64_t n, double p, DType dtype = DType::f32) {
  Rng rng(seed);
  const Tensor x = random_tensor({n}, dtype, 1);
  Tensor mask = Tensor::empty({n}, dtype), y = Tensor::empty({n}, dtype);
  ops::dropout_fwd(x, p, rng, mask, y);
  return values(mask);
}

TEST(Dropout, ZeroProbabilityIsIdentity) {
  Rng rng(1);
  const Tensor x = random_tensor({3, 50}, DType::f32, 2);
  Tensor mask = Tensor::empty({3, 50}, DType::f32), y = Tensor::empty({3, 50}, DType::f32);
  ops::dropout_fwd(x, 0.0, rng, mask, y);
  EXPECT_EQ(values(y), values(x));
  for (double m : values(mask))
    EXPECT_EQ(m, 1.0);
}

TEST(Dropout, MaskIsFixedPerSeedAndIndependentOfDtype) {
  const std::vector<double> a = mask_of(7, 500, 0.3);
  EXPECT_EQ(mask_of(7, 500, 0.3), a);
  EXPECT_NE(mask_of(8, 500, 0.3), a);
  // f64 draws the same keep/drop decisions (the draw is in double whatever the dtype).
  const std::vector<double> d = mask_of(7, 500, 0.3, DType::f64);
  for (size_t i = 0; i < a.size(); ++i)
    EXPECT_EQ(a[i] == 0, d[i] == 0) << i;

  // The Rng advances by numel, so a second call draws a fresh mask, and the same one as a
  // stream started at that counter.
  Rng rng(7);
  const Tensor x = Tensor::zeros({500}, DType::f32);
  Tensor m1 = Tensor::empty({500}, DType::f32), m2 = m1.clone(), y = m1.clone();
  ops::dropout_fwd(x, 0.3, rng, m1, y);
  EXPECT_EQ(rng.counter(), 500u);
  ops::dropout_fwd(x, 0.3, rng, m2, y);
  EXPECT_NE(values(m2), values(m1));
  Rng later(7, 500);
  Tensor m3 = m1.clone();
  ops::dropout_fwd(x, 0.3, later, m3, y);
  EXPECT_EQ(values(m3), values(m2));
}

TEST(Dropout, KeepsAboutOneMinusPScaledByInverse) {
  const int64_t n = 200000;
  const double p = 0.3;
  const std::vector<double> m = mask_of(11, n, p);
  int64_t kept = 0;
  for (double v : m) {
    if (v != 0) {
      ++kept;
      EXPECT_FLOAT_EQ(static_cast<float>(v), static_cast<float>(1 / (1 - p)));
    }
  }
  // Binomial standard deviation sqrt(p(1-p)/n) ~ 1e-3: 5 sigma.
  EXPECT_NEAR(static_cast<double>(kept) / n, 1 - p, 5e-3);
}

TEST(Dropout, BackwardIsTheMaskAndMatchesCentralDifferences) {
  const Tensor x = random_tensor({4, 8}, DType::f64, 3);
  const Tensor w = random_tensor({4, 8}, DType::f64, 4);
  Tensor mask = Tensor::empty({4, 8}, DType::f64), y = Tensor::empty({4, 8}, DType::f64);
  Rng rng(5);
  ops::dropout_fwd(x, 0.4, rng, mask, y);
  Tensor dx = Tensor::empty({4, 8}, DType::f64);
  ops::dropout_bwd(w, mask, dx);
  const std::vector<double> wv = values(w), mv = values(mask), dxv = values(dx);
  for (size_t i = 0; i < wv.size(); ++i)
    EXPECT_EQ(dxv[i], wv[i] * mv[i]);
  const auto loss = [&] {
    Rng same(5);  // the same mask every evaluation
    Tensor m = Tensor::empty({4, 8}, DType::f64), out = Tensor::empty({4, 8}, DType::f64);
    ops::dropout_fwd(x, 0.4, same, m, out);
    return weighted_sum(out, w);
  };
  EXPECT_LT(gradient_check(loss, x, dx), 1e-6);
  // In place: y may be x, dx may be dy.
  Tensor inplace = x.clone();
  Rng again(5);
  ops::dropout_fwd(inplace, 0.4, again, mask, inplace);
  EXPECT_EQ(values(inplace), values(y));
  Tensor dy = w.clone();
  ops::dropout_bwd(dy, mask, dy);
  EXPECT_EQ(values(dy), dxv);
}

TEST(Dropout, RejectsBadArguments) {
  Rng rng(1);
  const Tensor x = Tensor::zeros({4}, DType::f32);
  Tensor mask = Tensor::empty({4}, DType::f32), y = Tensor::empty({4}, DType::f32);
  EXPECT_THROW(ops::dropout_fwd(x, 1.0, rng, mask, y), InvalidArgument);
  EXPECT_THROW(ops::dropout_fwd(x, -0.1, rng, mask, y), InvalidArgument);
  Tensor short_mask = Tensor::empty({3}, DType::f32);
  EXPECT_THROW(ops::dropout_fwd(x, 0.5, rng, short_mask, y), ShapeError);
  Tensor mask64 = Tensor::empty({4}, DType::f64);
  EXPECT_THROW(ops::dropout_fwd(x, 0.5, rng, mask64, y), InvalidArgument);
  EXPECT_THROW(ops::dropout_bwd(x, short_mask, y), ShapeError);
}

}  // namespace
}  // namespace s2s
