// The CNN layers: Conv2d, BatchNorm2d and Pool2d gradients of input and every parameter in double
// precision, He initialisation, batch norm's running statistics (updated in training, used in
// evaluation, saved and loaded with the model, skipped by the optimizer), and option errors.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "seq2seq/checkpoint.h"
#include "seq2seq/layers/batch_norm2d.h"
#include "seq2seq/layers/conv2d.h"
#include "seq2seq/layers/pool2d.h"
#include "seq2seq/optimizer.h"
#include "tests/test_util.h"

namespace s2s {
namespace {

using testing::gradient_check;
using testing::random_tensor;
using testing::values;
using testing::weighted_sum;

Conv2dOptions conv_options(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t pad,
                           bool bias) {
  Conv2dOptions o;
  o.in_channels = in;
  o.out_channels = out;
  o.kernel_size = k;
  o.stride = stride;
  o.padding = pad;
  o.bias = bias;
  o.dtype = DType::f64;
  o.name = "encoder.block.0.conv.0";
  o.seed = 3;
  return o;
}

TEST(Conv2dLayer, GradientsOfInputAndParametersAreExact) {
  for (bool bias : {true, false}) {
    Conv2d conv(conv_options(3, 4, 3, 2, 1, bias));
    if (bias) {
      Rng rng(1);
      init_uniform(conv.bias().value, rng, 0.5);
    }
    Tensor x = random_tensor({2, 3, 5, 6}, DType::f64, 1);
    const Tensor y = conv.forward(x);
    ASSERT_EQ(y.shape(), (Shape{2, 4, 3, 3}));
    const Tensor dy = random_tensor(y.shape(), DType::f64, 2);
    conv.zero_grad();
    const Tensor dx = conv.backward(dy);
    auto loss = [&] { return weighted_sum(conv.forward(x), dy); };
    EXPECT_LT(gradient_check(loss, x, dx), 1e-7) << "x, bias " << bias;
    EXPECT_LT(gradient_check(loss, conv.weight().value, conv.weight().grad), 1e-7);
    if (bias) {
      EXPECT_LT(gradient_check(loss, conv.bias().value, conv.bias().grad), 1e-7);
    }
    EXPECT_EQ(conv.parameters().size(), bias ? 2u : 1u);
    EXPECT_EQ(conv.weight().name, "encoder.block.0.conv.0.weight");
    conv.forward(x);
    EXPECT_FALSE(conv.backward(dy, /*input_gradient=*/false).defined());
  }
}

TEST(Conv2dLayer, HeInitialisationIsSeededAndScaledByFanIn) {
  Conv2dOptions o = conv_options(16, 32, 3, 1, 1, true);
  o.dtype = DType::f32;
  Conv2d a(o), b(o);
  EXPECT_EQ(values(a.weight().value), values(b.weight().value));
  o.seed = 4;
  EXPECT_NE(values(Conv2d(o).weight().value), values(a.weight().value));
  double sum_sq = 0, bound = std::sqrt(6.0 / (16 * 9));
  for (double w : values(a.weight().value)) {
    EXPECT_LE(std::abs(w), bound);
    sum_sq += w * w;
  }
  // Var = 2 / fan_in = 2 / 144, within sampling error over 4608 weights.
  EXPECT_NEAR(sum_sq / a.weight().value.numel(), 2.0 / 144, 0.1 * 2.0 / 144);
  EXPECT_EQ(values(a.bias().value), std::vector<double>(32, 0.0));
}

TEST(Conv2dLayer, RejectsBadOptionsAndInputs) {
  EXPECT_THROW(Conv2d(conv_options(0, 4, 3, 1, 1, true)), ConfigError);
  EXPECT_THROW(Conv2d(conv_options(3, 4, 0, 1, 1, true)), ConfigError);
  EXPECT_THROW(Conv2d(conv_options(3, 4, 3, 0, 1, true)), ConfigError);
  Conv2d conv(conv_options(3, 4, 3, 1, 1, true));
  EXPECT_THROW(conv.backward(Tensor::zeros({1, 4, 2, 2}, DType::f64)), InvalidArgument);
  EXPECT_THROW(conv.forward(Tensor::zeros({1, 2, 4, 4}, DType::f64)), ShapeError);
  EXPECT_THROW(conv.forward(Tensor::zeros({2, 4, 4}, DType::f64)), ShapeError);
}

BatchNorm2dOptions bn_options(int64_t c) {
  BatchNorm2dOptions o;
  o.channels = c;
  o.dtype = DType::f64;
  o.name = "encoder.block.0.bn.0";
  return o;
}

TEST(BatchNorm2dLayer, GradientsInTrainingAndEvaluationMode) {
  for (bool training : {true, false}) {
    BatchNorm2d bn(bn_options(3));
    Rng rng(5);
    init_uniform(bn.weight().value, rng, 1.0);
    init_uniform(bn.bias().value, rng, 1.0);
    init_uniform(bn.running_mean().value, rng, 0.5);
    bn.set_training(training);
    Tensor x = random_tensor({2, 3, 3, 2}, DType::f64, 6, -1, 2);
    const Tensor dy = random_tensor(x.shape(), DType::f64, 7);
    bn.forward(x);
    bn.zero_grad();
    const Tensor dx = bn.backward(dy);
    auto loss = [&] { return weighted_sum(bn.forward(x), dy); };
    EXPECT_LT(gradient_check(loss, x, dx), 1e-6) << "x, training " << training;
    EXPECT_LT(gradient_check(loss, bn.weight().value, bn.weight().grad), 1e-6) << training;
    EXPECT_LT(gradient_check(loss, bn.bias().value, bn.bias().grad), 1e-6) << training;
    // The running statistics get no gradient.
    EXPECT_EQ(values(bn.running_mean().grad), std::vector<double>(3, 0.0));
  }
}

TEST(BatchNorm2dLayer, RunningStatisticsConvergeAndServeEvaluation) {
  BatchNorm2d bn(bn_options(2));
  const Tensor x = random_tensor({4, 2, 3, 3}, DType::f64, 8, 2, 4);  // mean ~3, var ~1/3
  Tensor y_train;
  for (int i = 0; i < 200; ++i)  // momentum 0.1: after 200 steps the running stats are the batch's
    y_train = bn.forward(x);
  bn.set_training(false);
  const Tensor y_eval = bn.forward(x);

  // The batch's statistics per channel, over m = N*H*W = 36 values: the mean, the biased variance
  // (training normalizes with it) and the unbiased one (the running variance tracks it).
  const std::vector<double> xv = values(x);
  const int64_t n = 4, c = 2, hw = 9, m = n * hw;
  const double eps = bn_options(2).eps;
  std::vector<double> mean(c, 0.0), biased(c, 0.0), unbiased(c, 0.0);
  for (int64_t ch = 0; ch < c; ++ch) {
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < hw; ++j)
        mean[ch] += xv[(i * c + ch) * hw + j] / m;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < hw; ++j)
        biased[ch] += std::pow(xv[(i * c + ch) * hw + j] - mean[ch], 2) / m;
    unbiased[ch] = biased[ch] * m / (m - 1);
  }
  // 200 updates with momentum 0.1 leave 0.9^200 = 7e-10 of the initial (0, 1): the running
  // statistics are the batch's to that, far below 1e-8.
  for (int64_t ch = 0; ch < c; ++ch) {
    EXPECT_NEAR(values(bn.running_mean().value)[ch], mean[ch], 1e-8) << ch;
    EXPECT_NEAR(values(bn.running_var().value)[ch], unbiased[ch], 1e-8) << ch;
  }
  // Weight 1, bias 0: training gives (x - mean) / sqrt(biased + eps), evaluation the same with
  // the running (unbiased) variance, each to the rounding of double arithmetic and the 7e-10 above.
  std::vector<double> want_train(xv.size()), want_eval(xv.size());
  for (size_t k = 0; k < xv.size(); ++k) {
    const int64_t ch = static_cast<int64_t>(k) / hw % c;
    want_train[k] = (xv[k] - mean[ch]) / std::sqrt(biased[ch] + eps);
    want_eval[k] = (xv[k] - mean[ch]) / std::sqrt(unbiased[ch] + eps);
  }
  EXPECT_LT(testing::relative_norm_error(values(y_train), want_train), 1e-12);
  EXPECT_LT(testing::relative_norm_error(values(y_eval), want_eval), 1e-8);
  // So evaluation and training differ by the variance correction alone, 1 - sqrt(35/36) = 0.0140
  // (eps moves it by about 1e-6).
  EXPECT_NEAR(testing::relative_norm_error(values(y_eval), values(y_train)),
              1 - std::sqrt((m - 1.0) / m), 1e-5);
}

TEST(BatchNorm2dLayer, RunningStatisticsAreSavedButNotTrained) {
  BatchNorm2d bn(bn_options(2));
  std::vector<Parameter*> params = bn.parameters();
  ASSERT_EQ(params.size(), 4u);
  EXPECT_EQ(params[2]->name, "encoder.block.0.bn.0.running_mean");
  EXPECT_EQ(params[3]->name, "encoder.block.0.bn.0.running_var");
  EXPECT_FALSE(params[2]->trainable);
  EXPECT_FALSE(params[3]->trainable);
  EXPECT_TRUE(params[0]->trainable);

  bn.forward(random_tensor({2, 2, 2, 2}, DType::f64, 9, 5, 6));
  const auto mean = values(bn.running_mean().value), var = values(bn.running_var().value);
  // The optimizer leaves them alone (even with weight decay).
  OptimizerOptions opt;
  opt.weight_decay = 0.1;
  Optimizer optimizer(opt);
  bn.weight().grad.fill(1.0);
  optimizer.step(params, 0.1);
  EXPECT_EQ(values(bn.running_mean().value), mean);
  EXPECT_EQ(values(bn.running_var().value), var);
  EXPECT_EQ(optimizer.state(params).size(), 4u);  // adam m and v of weight and bias only

  // Saved and loaded with the model.
  // A per-process name: other checkouts may run this suite on the same machine at the same time.
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("s2s_bn_running_stats." + std::to_string(::getpid()) + ".safetensors"))
                               .string();
  save_parameters(path, params);
  BatchNorm2d fresh(bn_options(2));
  load_parameters(path, fresh.parameters());
  std::filesystem::remove(path);
  EXPECT_EQ(values(fresh.running_mean().value), mean);
  EXPECT_EQ(values(fresh.running_var().value), var);
}

TEST(BatchNorm2dLayer, RejectsBadOptions) {
  BatchNorm2dOptions o = bn_options(0);
  EXPECT_THROW((BatchNorm2d(o)), ConfigError);
  o = bn_options(2);
  o.momentum = 1.5;
  EXPECT_THROW((BatchNorm2d(o)), ConfigError);
  BatchNorm2d bn(bn_options(2));
  EXPECT_THROW(bn.forward(Tensor::zeros({1, 3, 2, 2}, DType::f64)), ShapeError);
}

TEST(Pool2dLayer, BothKindsHaveExactInputGradients) {
  for (PoolKind kind : {PoolKind::max, PoolKind::avg}) {
    Pool2dOptions o;
    o.kind = kind;
    Pool2d pool(o);
    Tensor x = random_tensor({2, 3, 5, 4}, DType::f64, 10);
    const Tensor y = pool.forward(x);
    ASSERT_EQ(y.shape(), (Shape{2, 3, 2, 2}));
    const Tensor dy = random_tensor(y.shape(), DType::f64, 11);
    const Tensor dx = pool.backward(dy);
    auto loss = [&] { return weighted_sum(pool.forward(x), dy); };
    EXPECT_LT(gradient_check(loss, x, dx), 1e-7) << pool_kind_name(kind);
    EXPECT_TRUE(pool.parameters().empty());
  }
  EXPECT_EQ(parse_pool_kind("avg"), PoolKind::avg);
  EXPECT_THROW(parse_pool_kind("mean"), ConfigError);
  Pool2d pool({});
  EXPECT_THROW(pool.forward(Tensor::zeros({1, 1, 1, 5})), ShapeError);
}

}  // namespace
}  // namespace s2s
