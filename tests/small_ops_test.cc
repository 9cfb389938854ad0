// masked_mean (the encoder summary) and index_select (search's row bookkeeping): exact
// gradients, padding ignored, every index checked.
#include <gtest/gtest.h>

#include "seq2seq/ops/index_select.h"
#include "seq2seq/ops/masked_mean.h"
#include "tests/test_util.h"

namespace s2s {
namespace {

using testing::gradient_check;
using testing::random_tensor;
using testing::weighted_sum;

TEST(MaskedMean, IgnoresPaddingAndHasExactGradients) {
  const int64_t s = 4, b = 3, d = 5;
  Tensor x = random_tensor({s, b, d}, DType::f64, 1);
  Tensor mask = Tensor::from_vector<double>({1, 1, 1, 1, 0, 1, 1, 0, 0, 1, 0, 0}, {s, b});
  Tensor out = Tensor::empty({b, d}, DType::f64);
  ops::masked_mean_fwd(x, mask, out);
  // Column 1 has one real position (s = 0): its mean is that vector.
  for (int64_t k = 0; k < d; ++k)
    EXPECT_DOUBLE_EQ(out.data<double>()[1 * d + k], x.data<double>()[(0 * b + 1) * d + k]);
  // Padded garbage changes nothing.
  Tensor poisoned = x.clone();
  poisoned.data<double>()[(3 * b + 1) * d] = 1e30;
  Tensor out2 = Tensor::empty({b, d}, DType::f64);
  ops::masked_mean_fwd(poisoned, mask, out2);
  EXPECT_EQ(out2.to_vector<double>(), out.to_vector<double>());

  Tensor w = random_tensor({b, d}, DType::f64, 2);
  Tensor dx = Tensor::zeros({s, b, d}, DType::f64);
  ops::masked_mean_bwd(w, mask, dx);
  const double err = gradient_check(
      [&] {
        Tensor y = Tensor::empty({b, d}, DType::f64);
        ops::masked_mean_fwd(x, mask, y);
        return weighted_sum(y, w);
      },
      x, dx);
  EXPECT_LT(err, 1e-6);
}

TEST(MaskedMean, AnEmptyColumnIsAnError) {
  Tensor x = Tensor::zeros({2, 2, 3}, DType::f32);
  Tensor mask = Tensor::from_vector<float>({1, 0, 1, 0}, {2, 2});
  Tensor out = Tensor::empty({2, 3}, DType::f32);
  EXPECT_THROW(ops::masked_mean_fwd(x, mask, out), InvalidArgument);
}

TEST(IndexSelect, PicksRepeatsAndReordersAlongEitherDimension) {
  Tensor rows = Tensor::from_vector<int32_t>({0, 1, 10, 11, 20, 21}, {3, 2});
  EXPECT_EQ(ops::index_select(rows, 0, {2, 0, 2}).to_vector<int32_t>(),
            (std::vector<int32_t>{20, 21, 0, 1, 20, 21}));
  Tensor cols = Tensor::from_vector<float>({0, 1, 2, 10, 11, 12}, {2, 3});
  EXPECT_EQ(ops::index_select(cols.reshape({2, 3, 1}), 1, {1, 1}).to_vector<float>(),
            (std::vector<float>{1, 1, 11, 11}));
  EXPECT_EQ(ops::index_select(rows, 0, {}).shape(), (Shape{0, 2}));
  EXPECT_THROW(ops::index_select(rows, 0, {3}), InvalidArgument);
  EXPECT_THROW(ops::index_select(rows, 0, {-1}), InvalidArgument);
  EXPECT_THROW(ops::index_select(rows, 2, {0}), InvalidArgument);
}

}  // namespace
}  // namespace s2s
