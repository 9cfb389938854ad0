// The CNN ops against naive direct loops (conv2d as the textbook six nested sums, pooling window
// by window, batch norm from its definition), their gradients against central differences in
// double precision, f32 against f64, and argument errors.
#include <gtest/gtest.h>

#include <cmath>
#include <ostream>
#include <vector>

#include "seq2seq/ops/batch_norm.h"
#include "seq2seq/ops/conv2d.h"
#include "seq2seq/ops/feature_grid.h"
#include "seq2seq/ops/pool2d.h"
#include "seq2seq/ops/relu.h"
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

// Direct convolution: y[n,o,i,j] = b[o] + sum_{c,u,v} w[o,c,u,v] * x[n,c,i*s-p+u,j*s-p+v].
std::vector<double> naive_conv(const Tensor& x, const Tensor& w, const Tensor& b, int64_t stride,
                               int64_t pad) {
  const auto xv = values(x), wv = values(w);
  const std::vector<double> bv = b.defined() ? values(b) : std::vector<double>(w.dim(0), 0.0);
  const int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2), wd = x.dim(3);
  const int64_t o = w.dim(0), kh = w.dim(2), kw = w.dim(3);
  const int64_t oh = (h + 2 * pad - kh) / stride + 1, ow = (wd + 2 * pad - kw) / stride + 1;
  std::vector<double> y(n * o * oh * ow);
  for (int64_t ni = 0; ni < n; ++ni)
    for (int64_t oc = 0; oc < o; ++oc)
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j) {
          double s = bv[oc];
          for (int64_t ci = 0; ci < c; ++ci)
            for (int64_t u = 0; u < kh; ++u)
              for (int64_t v = 0; v < kw; ++v) {
                const int64_t ih = i * stride - pad + u, iw = j * stride - pad + v;
                if (ih < 0 || ih >= h || iw < 0 || iw >= wd) continue;
                s += wv[((oc * c + ci) * kh + u) * kw + v] * xv[((ni * c + ci) * h + ih) * wd + iw];
              }
          y[((ni * o + oc) * oh + i) * ow + j] = s;
        }
  return y;
}

struct ConvCase {
  int64_t n, c, h, w, o, k, stride, pad;
};

void PrintTo(const ConvCase& c, std::ostream* os) {
  *os << "x [" << c.n << ", " << c.c << ", " << c.h << ", " << c.w << "], " << c.o << " outputs, "
      << c.k << "x" << c.k << " kernel, stride " << c.stride << ", padding " << c.pad;
}

class Conv2dOpTest : public ::testing::TestWithParam<ConvCase> {};

TEST_P(Conv2dOpTest, ForwardMatchesDirectConvolution) {
  const ConvCase p = GetParam();
  const Tensor x = random_tensor({p.n, p.c, p.h, p.w}, DType::f64, 1);
  const Tensor w = random_tensor({p.o, p.c, p.k, p.k}, DType::f64, 2);
  const Tensor b = random_tensor({p.o}, DType::f64, 3);
  const ops::Conv2dArgs args{p.stride, p.pad};
  const int64_t oh = ops::conv_output_size(p.h, p.k, p.stride, p.pad);
  const int64_t ow = ops::conv_output_size(p.w, p.k, p.stride, p.pad);
  for (bool bias : {true, false}) {
    Tensor y = Tensor::empty({p.n, p.o, oh, ow}, DType::f64);
    ops::conv2d_fwd(x, w, bias ? b : Tensor(), args, y);
    EXPECT_LT(
        max_relative_error(values(y), naive_conv(x, w, bias ? b : Tensor(), p.stride, p.pad), 1e-9),
        1e-12)
        << "bias " << bias;
  }
  // f32 follows f64.
  Tensor y32 = Tensor::empty({p.n, p.o, oh, ow}, DType::f32);
  ops::conv2d_fwd(cast(x, DType::f32), cast(w, DType::f32), cast(b, DType::f32), args, y32);
  EXPECT_LT(relative_norm_error(values(y32), naive_conv(x, w, b, p.stride, p.pad)), 1e-6);
}

TEST_P(Conv2dOpTest, GradientsMatchCentralDifferences) {
  const ConvCase p = GetParam();
  Tensor x = random_tensor({p.n, p.c, p.h, p.w}, DType::f64, 4);
  Tensor w = random_tensor({p.o, p.c, p.k, p.k}, DType::f64, 5);
  Tensor b = random_tensor({p.o}, DType::f64, 6);
  const ops::Conv2dArgs args{p.stride, p.pad};
  const int64_t oh = ops::conv_output_size(p.h, p.k, p.stride, p.pad);
  const int64_t ow = ops::conv_output_size(p.w, p.k, p.stride, p.pad);
  const Tensor dy = random_tensor({p.n, p.o, oh, ow}, DType::f64, 7);
  Tensor dx = Tensor::empty(x.shape(), DType::f64);
  dx.fill(123);  // overwritten
  Tensor dw = random_tensor(w.shape(), DType::f64, 8), db = random_tensor({p.o}, DType::f64, 9);
  const Tensor dw0 = dw.clone(), db0 = db.clone();  // accumulated onto
  ops::conv2d_bwd(x, w, dy, args, &dx, dw, &db);
  for (int64_t i = 0; i < dw.numel(); ++i)
    dw.data<double>()[i] -= dw0.data<double>()[i];
  for (int64_t i = 0; i < db.numel(); ++i)
    db.data<double>()[i] -= db0.data<double>()[i];
  auto loss = [&] {
    Tensor y = Tensor::empty({p.n, p.o, oh, ow}, DType::f64);
    ops::conv2d_fwd(x, w, b, args, y);
    return weighted_sum(y, dy);
  };
  // The loss is linear in each of x, w and b: central differences have no truncation error at
  // any step, and a large step keeps the rounding of the ~50-term sums (1e-16 * |loss| / step) far
  // below the bar.
  EXPECT_LT(gradient_check(loss, x, dx, 1e-2), 1e-9) << "dx";
  EXPECT_LT(gradient_check(loss, w, dw, 1e-2), 1e-9) << "dweight";
  EXPECT_LT(gradient_check(loss, b, db, 1e-2), 1e-9) << "dbias";

  // Without dx and dbias, dweight is the same.
  Tensor dw2 = Tensor::zeros(w.shape(), DType::f64);
  ops::conv2d_bwd(x, w, dy, args, nullptr, dw2, nullptr);
  EXPECT_LT(max_relative_error(values(dw2), values(dw)), 1e-12);
}

INSTANTIATE_TEST_SUITE_P(Shapes, Conv2dOpTest,
                         ::testing::Values(ConvCase{2, 3, 5, 6, 4, 3, 1, 1},   // same-size 3x3
                                           ConvCase{2, 2, 7, 5, 3, 3, 2, 1},   // stride 2
                                           ConvCase{1, 3, 6, 6, 2, 3, 1, 0},   // no padding
                                           ConvCase{3, 4, 4, 3, 5, 1, 1, 0},   // 1x1 projection
                                           ConvCase{2, 2, 5, 5, 2, 5, 1, 2},   // 5x5 kernel
                                           ConvCase{1, 1, 3, 3, 2, 2, 3, 2}),  // padding > cover
                         [](const ::testing::TestParamInfo<ConvCase>& info) {
                           const ConvCase& c = info.param;
                           return "k" + std::to_string(c.k) + "s" + std::to_string(c.stride) + "p" +
                                  std::to_string(c.pad) + "_" + std::to_string(info.index);
                         });

// A batch large enough that the CPU body splits it into several groups of images (its workspace
// holds ~3 of these): every group must land where the direct convolution puts it.
TEST(Conv2dOp, ImagesSplitIntoGroupsMatchDirectConvolution) {
  const Tensor x = random_tensor({5, 16, 64, 64}, DType::f64, 10);
  const Tensor w = random_tensor({8, 16, 3, 3}, DType::f64, 11);
  const Tensor b = random_tensor({8}, DType::f64, 12);
  Tensor y = Tensor::empty({5, 8, 64, 64}, DType::f64);
  ops::conv2d_fwd(x, w, b, {1, 1}, y);
  EXPECT_LT(max_relative_error(values(y), naive_conv(x, w, b, 1, 1)), 1e-10);
  // Backward by groups equals backward image by image.
  const Tensor dy = random_tensor(y.shape(), DType::f64, 13);
  Tensor dx = Tensor::empty(x.shape(), DType::f64), dw = Tensor::zeros(w.shape(), DType::f64),
         db = Tensor::zeros({8}, DType::f64);
  ops::conv2d_bwd(x, w, dy, {1, 1}, &dx, dw, &db);
  Tensor dw_sum = Tensor::zeros(w.shape(), DType::f64), db_sum = Tensor::zeros({8}, DType::f64);
  for (int64_t n = 0; n < 5; ++n) {
    const Tensor xn = x.slice(n, n + 1), dyn = dy.slice(n, n + 1);
    Tensor dxn = Tensor::empty(xn.shape(), DType::f64);
    ops::conv2d_bwd(xn, w, dyn, {1, 1}, &dxn, dw_sum, &db_sum);
    EXPECT_LT(max_relative_error(values(dxn), values(dx.slice(n, n + 1))), 1e-12) << n;
  }
  EXPECT_LT(max_relative_error(values(dw_sum), values(dw)), 1e-10);
  EXPECT_LT(max_relative_error(values(db_sum), values(db)), 1e-10);
}

TEST(Conv2dOp, RejectsBadShapes) {
  const Tensor x = Tensor::zeros({1, 3, 4, 4}), w = Tensor::zeros({2, 3, 3, 3});
  Tensor y = Tensor::zeros({1, 2, 4, 4});
  EXPECT_THROW(ops::conv2d_fwd(x, Tensor::zeros({2, 4, 3, 3}), Tensor(), {1, 1}, y), ShapeError);
  EXPECT_THROW(ops::conv2d_fwd(x, w, Tensor(), {1, 0}, y), ShapeError);  // y would be 2x2
  EXPECT_THROW(ops::conv2d_fwd(x, w, Tensor::zeros({3}), {1, 1}, y), ShapeError);
  EXPECT_THROW(ops::conv2d_fwd(x, w, Tensor(), {0, 1}, y), InvalidArgument);
  EXPECT_THROW(ops::conv2d_fwd(Tensor::zeros({1, 3, 1, 1}), w, Tensor(), {1, 0}, y), ShapeError);
  EXPECT_THROW(ops::conv2d_fwd(x, Tensor::zeros({2, 3, 3, 3}, DType::f64), Tensor(), {1, 1}, y),
               InvalidArgument);
  Tensor dw = Tensor::zeros({2, 3, 3, 3});
  EXPECT_THROW(ops::conv2d_bwd(x, w, Tensor::zeros({1, 2, 3, 3}), {1, 1}, nullptr, dw, nullptr),
               ShapeError);
  EXPECT_EQ(ops::conv_output_size(4, 5, 1, 0), 0);
  EXPECT_EQ(ops::conv_output_size(7, 3, 2, 1), 4);
}

// Pooling from its definition, window by window.
std::vector<double> naive_pool(const Tensor& x, int64_t k, int64_t s, bool max) {
  const auto xv = values(x);
  const int64_t planes = x.dim(0) * x.dim(1), h = x.dim(2), w = x.dim(3);
  const int64_t oh = (h - k) / s + 1, ow = (w - k) / s + 1;
  std::vector<double> y;
  for (int64_t q = 0; q < planes; ++q)
    for (int64_t i = 0; i < oh; ++i)
      for (int64_t j = 0; j < ow; ++j) {
        double acc = max ? -INFINITY : 0;
        for (int64_t u = 0; u < k; ++u)
          for (int64_t v = 0; v < k; ++v) {
            const double e = xv[(q * h + i * s + u) * w + j * s + v];
            acc = max ? std::max(acc, e) : acc + e / static_cast<double>(k * k);
          }
        y.push_back(acc);
      }
  return y;
}

TEST(Pool2dOp, ForwardMatchesDefinitionAndGradientsAreExact) {
  struct Case {
    int64_t h, w, k, s;
  };
  for (const Case c : {Case{6, 6, 2, 2}, Case{7, 5, 2, 2}, Case{5, 7, 3, 2}, Case{4, 4, 3, 1}}) {
    const ops::Pool2dArgs args{c.k, c.s};
    const int64_t oh = ops::pool_output_size(c.h, args), ow = ops::pool_output_size(c.w, args);
    Tensor x = random_tensor({2, 3, c.h, c.w}, DType::f64, 20);
    const Tensor dy = random_tensor({2, 3, oh, ow}, DType::f64, 21);
    Tensor y = Tensor::empty({2, 3, oh, ow}, DType::f64);
    Tensor argmax = Tensor::empty(y.shape(), DType::i32);
    Tensor dx = Tensor::empty(x.shape(), DType::f64);

    ops::max_pool2d_fwd(x, args, y, argmax);
    EXPECT_EQ(values(y), naive_pool(x, c.k, c.s, true)) << c.h << "x" << c.w << " k" << c.k;
    ops::max_pool2d_bwd(dy, argmax, dx);
    auto max_loss = [&] {
      Tensor yy = Tensor::empty(y.shape(), DType::f64), am = Tensor::empty(y.shape(), DType::i32);
      ops::max_pool2d_fwd(x, args, yy, am);
      return weighted_sum(yy, dy);
    };
    EXPECT_LT(gradient_check(max_loss, x, dx), 1e-7) << "max";

    ops::avg_pool2d_fwd(x, args, y);
    EXPECT_LT(max_relative_error(values(y), naive_pool(x, c.k, c.s, false)), 1e-13);
    ops::avg_pool2d_bwd(dy, args, dx);
    auto avg_loss = [&] {
      Tensor yy = Tensor::empty(y.shape(), DType::f64);
      ops::avg_pool2d_fwd(x, args, yy);
      return weighted_sum(yy, dy);
    };
    EXPECT_LT(gradient_check(avg_loss, x, dx), 1e-7) << "avg";
  }
}

TEST(Pool2dOp, MaxTiesGoToTheFirstAndF32MatchesF64) {
  Tensor x = Tensor::zeros({1, 1, 2, 2});
  Tensor y = Tensor::empty({1, 1, 1, 1}), argmax = Tensor::empty({1, 1, 1, 1}, DType::i32);
  ops::max_pool2d_fwd(x, {2, 2}, y, argmax);
  EXPECT_EQ(argmax.data<int32_t>()[0], 0);
  const Tensor x64 = random_tensor({2, 2, 6, 6}, DType::f64, 22);
  Tensor y32 = Tensor::empty({2, 2, 3, 3});
  ops::avg_pool2d_fwd(cast(x64, DType::f32), {2, 2}, y32);
  EXPECT_LT(relative_norm_error(values(y32), naive_pool(x64, 2, 2, false)), 1e-6);
}

TEST(Pool2dOp, RejectsWindowsLargerThanTheMap) {
  Tensor y = Tensor::empty({1, 1, 1, 1}), argmax = Tensor::empty({1, 1, 1, 1}, DType::i32);
  EXPECT_THROW(ops::max_pool2d_fwd(Tensor::zeros({1, 1, 1, 4}), {2, 2}, y, argmax), ShapeError);
  EXPECT_THROW(ops::avg_pool2d_fwd(Tensor::zeros({1, 1, 4, 4}), {0, 2}, y), InvalidArgument);
  EXPECT_THROW(ops::max_pool2d_fwd(Tensor::zeros({1, 1, 2, 2}), {2, 2}, y, y), InvalidArgument);
}

TEST(GlobalAvgPoolOp, MeanPerPlaneAndExactGradient) {
  Tensor x = random_tensor({2, 3, 4, 5}, DType::f64, 30);
  Tensor y = Tensor::empty({2, 3}, DType::f64);
  ops::global_avg_pool_fwd(x, y);
  const auto xv = values(x);
  for (int64_t q = 0; q < 6; ++q) {
    double s = 0;
    for (int64_t i = 0; i < 20; ++i)
      s += xv[q * 20 + i];
    EXPECT_NEAR(values(y)[q], s / 20, 1e-14);
  }
  const Tensor dy = random_tensor({2, 3}, DType::f64, 31);
  Tensor dx = Tensor::empty(x.shape(), DType::f64);
  ops::global_avg_pool_bwd(dy, dx);
  auto loss = [&] {
    Tensor yy = Tensor::empty({2, 3}, DType::f64);
    ops::global_avg_pool_fwd(x, yy);
    return weighted_sum(yy, dy);
  };
  EXPECT_LT(gradient_check(loss, x, dx), 1e-8);
  Tensor twice = dx.clone();
  ops::global_avg_pool_bwd(dy, twice, /*accumulate=*/true);
  EXPECT_NEAR(values(twice)[7], 2 * values(dx)[7], 1e-15);
}

TEST(ReluOp, ForwardInPlaceAndGradient) {
  Tensor x = random_tensor({3, 4, 5}, DType::f64, 40);
  for (int64_t i = 0; i < x.numel(); ++i)  // keep clear of the kink at 0 for finite differences
    if (std::abs(x.data<double>()[i]) < 0.01) x.data<double>()[i] = 0.5;
  Tensor y = x.clone();
  ops::relu_fwd(y, y);
  for (int64_t i = 0; i < x.numel(); ++i)
    EXPECT_EQ(y.data<double>()[i], std::max(x.data<double>()[i], 0.0));
  const Tensor dy = random_tensor(x.shape(), DType::f64, 41);
  Tensor dx = Tensor::empty(x.shape(), DType::f64);
  ops::relu_bwd(y, dy, dx);
  auto loss = [&] {
    Tensor yy = Tensor::empty(x.shape(), DType::f64);
    ops::relu_fwd(x, yy);
    return weighted_sum(yy, dy);
  };
  EXPECT_LT(gradient_check(loss, x, dx), 1e-8);
  Tensor flat = dx.reshape({60});
  EXPECT_THROW(ops::relu_fwd(x, flat), ShapeError);
}

// Batch norm: statistics, running update and both modes' gradients.
struct BnTensors {
  Tensor gamma, beta, rmean, rvar, mean, inv_std;
  explicit BnTensors(int64_t c)
      : gamma(random_tensor({c}, DType::f64, 50, 0.5, 1.5)),
        beta(random_tensor({c}, DType::f64, 51)),
        rmean(random_tensor({c}, DType::f64, 52)),
        rvar(random_tensor({c}, DType::f64, 53, 0.5, 2.0)),
        mean(Tensor::empty({c}, DType::f64)),
        inv_std(Tensor::empty({c}, DType::f64)) {}
};

TEST(BatchNormOp, TrainingNormalisesWithBatchStatisticsAndUpdatesRunningOnes) {
  const int64_t n = 3, c = 2, h = 2, w = 3, m = n * h * w;
  const Tensor x = random_tensor({n, c, h, w}, DType::f64, 54, -2, 3);
  BnTensors t(c);
  const auto rmean0 = values(t.rmean), rvar0 = values(t.rvar);
  Tensor y = Tensor::empty(x.shape(), DType::f64);
  ops::batch_norm_fwd(x, t.gamma, t.beta, t.rmean, t.rvar, {true, 1e-5, 0.1}, y, t.mean, t.inv_std);
  const auto xv = values(x), yv = values(y), g = values(t.gamma), b = values(t.beta);
  for (int64_t ch = 0; ch < c; ++ch) {
    double mean = 0, var = 0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t k = 0; k < h * w; ++k)
        mean += xv[(i * c + ch) * h * w + k] / m;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t k = 0; k < h * w; ++k)
        var += std::pow(xv[(i * c + ch) * h * w + k] - mean, 2) / m;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t k = 0; k < h * w; ++k) {
        const int64_t at = (i * c + ch) * h * w + k;
        EXPECT_NEAR(yv[at], g[ch] * (xv[at] - mean) / std::sqrt(var + 1e-5) + b[ch], 1e-12);
      }
    EXPECT_NEAR(values(t.rmean)[ch], 0.9 * rmean0[ch] + 0.1 * mean, 1e-14);
    EXPECT_NEAR(values(t.rvar)[ch], 0.9 * rvar0[ch] + 0.1 * var * m / (m - 1), 1e-14);
  }
  // A non-finite batch leaves the running statistics as they were.
  Tensor bad = x.clone();
  bad.data<double>()[0] = NAN;  // channel 0 of image 0
  const auto rmean1 = values(t.rmean), rvar1 = values(t.rvar);
  ops::batch_norm_fwd(bad, t.gamma, t.beta, t.rmean, t.rvar, {true, 1e-5, 0.1}, y, t.mean,
                      t.inv_std);
  EXPECT_EQ(values(t.rmean)[0], rmean1[0]);
  EXPECT_EQ(values(t.rvar)[0], rvar1[0]);
  EXPECT_NE(values(t.rmean)[1], rmean1[1]);
}

TEST(BatchNormOp, InferenceUsesRunningStatistics) {
  const Tensor x = random_tensor({2, 3, 2, 2}, DType::f64, 55);
  BnTensors t(3);
  const auto rmean0 = values(t.rmean), rvar0 = values(t.rvar);
  Tensor y = Tensor::empty(x.shape(), DType::f64);
  ops::batch_norm_fwd(x, t.gamma, t.beta, t.rmean, t.rvar, {false, 1e-3, 0.1}, y, t.mean,
                      t.inv_std);
  EXPECT_EQ(values(t.rmean), rmean0);
  EXPECT_EQ(values(t.rvar), rvar0);
  const auto xv = values(x), yv = values(y), g = values(t.gamma), b = values(t.beta);
  for (int64_t i = 0; i < x.numel(); ++i) {
    const int64_t ch = (i / 4) % 3;
    EXPECT_NEAR(yv[i], g[ch] * (xv[i] - rmean0[ch]) / std::sqrt(rvar0[ch] + 1e-3) + b[ch], 1e-12);
  }
}

TEST(BatchNormOp, GradientsMatchCentralDifferencesInBothModes) {
  for (bool training : {true, false}) {
    Tensor x = random_tensor({3, 2, 3, 2}, DType::f64, 56, -1, 2);
    BnTensors t(2);
    const Tensor dy = random_tensor(x.shape(), DType::f64, 57);
    const ops::BatchNormArgs args{training, 1e-5, 0.1};
    auto loss = [&] {
      Tensor y = Tensor::empty(x.shape(), DType::f64);
      ops::batch_norm_fwd(x, t.gamma, t.beta, t.rmean, t.rvar, args, y, t.mean, t.inv_std);
      return weighted_sum(y, dy);
    };
    if (!training) {  // running statistics are constants here: keep the ones being checked
      t.rmean = random_tensor({2}, DType::f64, 58);
      t.rvar = random_tensor({2}, DType::f64, 59, 0.5, 1.5);
    }
    loss();  // fills mean and inv_std
    Tensor dx = Tensor::empty(x.shape(), DType::f64), dgamma = Tensor::zeros({2}, DType::f64),
           dbeta = Tensor::zeros({2}, DType::f64);
    ops::batch_norm_bwd(x, dy, t.gamma, t.mean, t.inv_std, training, dx, dgamma, dbeta);
    EXPECT_LT(gradient_check(loss, x, dx), 1e-6) << "dx, training " << training;
    EXPECT_LT(gradient_check(loss, t.gamma, dgamma), 1e-6) << "dgamma, training " << training;
    EXPECT_LT(gradient_check(loss, t.beta, dbeta), 1e-6) << "dbeta, training " << training;
  }
}

TEST(BatchNormOp, FloatMatchesDoubleAndRejectsBadArguments) {
  const Tensor x = random_tensor({4, 3, 5, 5}, DType::f64, 60, 10, 12);  // offset: cancellation
  BnTensors t64(3);
  Tensor y64 = Tensor::empty(x.shape(), DType::f64);
  ops::batch_norm_fwd(x, t64.gamma, t64.beta, t64.rmean, t64.rvar, {}, y64, t64.mean, t64.inv_std);
  BnTensors t(3);
  auto f = [](const Tensor& v) { return cast(v, DType::f32); };
  Tensor gamma = f(t.gamma), beta = f(t.beta), rm = f(t.rmean), rv = f(t.rvar);
  Tensor mean = Tensor::empty({3}), inv_std = Tensor::empty({3});
  Tensor y = Tensor::empty(x.shape());
  ops::batch_norm_fwd(f(x), gamma, beta, rm, rv, {}, y, mean, inv_std);
  EXPECT_LT(relative_norm_error(values(y), values(y64)), 1e-5);

  Tensor one = Tensor::zeros({1, 3, 1, 1});
  EXPECT_THROW(ops::batch_norm_fwd(one, gamma, beta, rm, rv, {}, one, mean, inv_std), ShapeError);
  Tensor bad = Tensor::zeros({4});
  EXPECT_THROW(ops::batch_norm_fwd(f(x), bad, beta, rm, rv, {}, y, mean, inv_std), ShapeError);
  EXPECT_THROW(ops::batch_norm_fwd(f(x), gamma, beta, rm, rv, {true, 0.0, 0.1}, y, mean, inv_std),
               InvalidArgument);
}

TEST(FeatureGridOp, TransposesAddsPositionsAndGradientsAreExact) {
  const int64_t n = 2, d = 3, h = 2, w = 3;
  Tensor x = random_tensor({n, d, h, w}, DType::f64, 70);
  Tensor row = random_tensor({4, d}, DType::f64, 71), col = random_tensor({5, d}, DType::f64, 72);
  Tensor out = Tensor::empty({h * w, n, d}, DType::f64);
  ops::feature_grid_fwd(x, row, col, out);
  const auto xv = values(x), rv = values(row), cv = values(col), ov = values(out);
  for (int64_t i = 0; i < h; ++i)
    for (int64_t j = 0; j < w; ++j)
      for (int64_t b = 0; b < n; ++b)
        for (int64_t k = 0; k < d; ++k)
          EXPECT_EQ(ov[((i * w + j) * n + b) * d + k],
                    xv[((b * d + k) * h + i) * w + j] + rv[i * d + k] + cv[j * d + k]);
  const Tensor dout = random_tensor(out.shape(), DType::f64, 73);
  Tensor dx = Tensor::empty(x.shape(), DType::f64), drow = Tensor::zeros(row.shape(), DType::f64),
         dcol = Tensor::zeros(col.shape(), DType::f64);
  ops::feature_grid_bwd(dout, dx, drow, dcol);
  auto loss = [&] {
    Tensor o = Tensor::empty(out.shape(), DType::f64);
    ops::feature_grid_fwd(x, row, col, o);
    return weighted_sum(o, dout);
  };
  EXPECT_LT(gradient_check(loss, x, dx), 1e-7);
  EXPECT_LT(gradient_check(loss, row, drow), 1e-7);
  EXPECT_LT(gradient_check(loss, col, dcol), 1e-7);
  Tensor small = Tensor::zeros({1, d}, DType::f64);
  EXPECT_THROW(ops::feature_grid_fwd(x, small, col, out), ShapeError);
}

}  // namespace
}  // namespace s2s
