// Elementwise ops (add_bias, bias_grad, axpy, scale, tanh_fwd, tanh_bwd): values against naive
// loops, backward ops against central differences in double, float against double, aliasing as
// documented, and rejection of mismatched arguments.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "seq2seq/ops/elementwise.h"
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

TEST(AddBias, BroadcastsOverLeadingDimensions) {
  const Tensor x = random_tensor({2, 3, 4}, DType::f64, 1);
  const Tensor b = random_tensor({4}, DType::f64, 2);
  Tensor y = x.clone();
  ops::add_bias(y, b);
  const std::vector<double> xv = values(x), bv = values(b), yv = values(y);
  for (size_t i = 0; i < xv.size(); ++i)
    EXPECT_DOUBLE_EQ(yv[i], xv[i] + bv[i % 4]);
}

TEST(BiasGrad, MatchesCentralDifferencesAndAccumulates) {
  const Tensor x = random_tensor({3, 5}, DType::f64, 3);
  Tensor b = random_tensor({5}, DType::f64, 4);
  const Tensor w = random_tensor({3, 5}, DType::f64, 5);  // dL/dy
  Tensor db = Tensor::zeros({5}, DType::f64);
  ops::bias_grad(w, db, /*accumulate=*/false);
  const auto loss = [&] {
    Tensor y = x.clone();
    ops::add_bias(y, b);
    return weighted_sum(y, w);
  };
  EXPECT_LT(gradient_check(loss, b, db), 1e-6);

  Tensor acc = Tensor::empty({5}, DType::f64);
  acc.fill(1.0);
  ops::bias_grad(w, acc, /*accumulate=*/true);
  for (int64_t i = 0; i < 5; ++i)
    EXPECT_NEAR(acc.data<double>()[i], 1.0 + db.data<double>()[i], 1e-14);
  acc.fill(7.0);
  ops::bias_grad(w, acc, /*accumulate=*/false);
  EXPECT_EQ(values(acc), values(db));
}

TEST(Axpy, AndScaleMatchNaive) {
  const Tensor x = random_tensor({17}, DType::f64, 6);
  Tensor y = random_tensor({17}, DType::f64, 7);
  const std::vector<double> xv = values(x), y0 = values(y);
  ops::axpy(-0.75, x, y);
  ops::scale(y, 3.0);
  const std::vector<double> yv = values(y);
  for (size_t i = 0; i < xv.size(); ++i)
    EXPECT_NEAR(yv[i], 3.0 * (y0[i] - 0.75 * xv[i]), 1e-14);
  Tensor yf = cast(Tensor::from_vector<double>(y0, {17}), DType::f32);
  ops::axpy(-0.75, cast(x, DType::f32), yf);
  ops::scale(yf, 3.0);
  EXPECT_LT(relative_norm_error(values(yf), yv), 1e-6);
}

TEST(Tanh, ForwardMatchesStdAndBackwardMatchesCentralDifferences) {
  Tensor x = random_tensor({4, 6}, DType::f64, 8, -3, 3);
  Tensor y = Tensor::empty({4, 6}, DType::f64);
  ops::tanh_fwd(x, y);
  const std::vector<double> xv = values(x), yv = values(y);
  for (size_t i = 0; i < xv.size(); ++i)
    EXPECT_NEAR(yv[i], std::tanh(xv[i]), 1e-15);

  const Tensor w = random_tensor({4, 6}, DType::f64, 9);
  Tensor dx = Tensor::empty({4, 6}, DType::f64);
  ops::tanh_bwd(y, w, dx);
  const auto loss = [&] {
    Tensor out = Tensor::empty({4, 6}, DType::f64);
    ops::tanh_fwd(x, out);
    return weighted_sum(out, w);
  };
  EXPECT_LT(gradient_check(loss, x, dx), 1e-6);

  // accumulate adds; !accumulate with dx == dy overwrites in place.
  Tensor acc = dx.clone();
  ops::tanh_bwd(y, w, acc, /*accumulate=*/true);
  for (int64_t i = 0; i < acc.numel(); ++i)
    EXPECT_NEAR(acc.data<double>()[i], 2 * dx.data<double>()[i], 1e-15);
  Tensor inplace = w.clone();
  ops::tanh_bwd(y, inplace, inplace);
  EXPECT_EQ(values(inplace), values(dx));
}

TEST(Tanh, FloatMatchesDoubleAndInPlace) {
  const Tensor x = random_tensor({1000}, DType::f64, 10, -6, 6);
  Tensor y64 = Tensor::empty({1000}, DType::f64);
  ops::tanh_fwd(x, y64);
  Tensor y32 = cast(x, DType::f32);
  ops::tanh_fwd(y32, y32);  // y may be x
  EXPECT_LT(max_relative_error(values(y32), values(y64)), 1e-6);
}

TEST(Elementwise, RejectsMismatchedArguments) {
  Tensor x = Tensor::zeros({3, 4}, DType::f32);
  EXPECT_THROW(ops::add_bias(x, Tensor::zeros({3}, DType::f32)), ShapeError);
  EXPECT_THROW(ops::add_bias(x, Tensor::zeros({4}, DType::f64)), InvalidArgument);
  Tensor db = Tensor::zeros({5}, DType::f32);
  EXPECT_THROW(ops::bias_grad(x, db), ShapeError);
  Tensor y = Tensor::zeros({4, 3}, DType::f32);
  EXPECT_THROW(ops::axpy(1.0, x, y), ShapeError);
  EXPECT_THROW(ops::tanh_fwd(x, y), ShapeError);
  Tensor dx = Tensor::zeros({3, 4}, DType::f64);
  EXPECT_THROW(ops::tanh_bwd(x, x, dx), InvalidArgument);
  Tensor ints = Tensor::zeros({3}, DType::i32);
  EXPECT_THROW(ops::scale(ints, 2.0), InvalidArgument);
}

}  // namespace
}  // namespace s2s
