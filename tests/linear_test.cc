// Linear layer: forward against a naive product, exact gradients of input, weight and bias
// (double-precision finite differences), f32 against f64, and shape errors.
#include <gtest/gtest.h>

#include "seq2seq/layers/linear.h"
#include "tests/test_util.h"

namespace s2s {
namespace {

using testing::cast;
using testing::gradient_check;
using testing::random_tensor;
using testing::relative_norm_error;
using testing::values;
using testing::weighted_sum;

LinearOptions options_for(int64_t in, int64_t out, bool bias, DType dtype) {
  LinearOptions options;
  options.in_features = in;
  options.out_features = out;
  options.bias = bias;
  options.dtype = dtype;
  options.name = "decoder.output";
  options.seed = 5;
  return options;
}

TEST(LinearLayer, ForwardMatchesNaiveProduct) {
  Linear layer(options_for(4, 3, true, DType::f64));
  Rng rng(9);
  init_uniform(layer.bias().value, rng, 1.0);
  const Tensor x = random_tensor({2, 5, 4}, DType::f64, 1);
  const Tensor y = layer.forward(x);
  ASSERT_EQ(y.shape(), (Shape{2, 5, 3}));
  const auto xv = values(x), w = values(layer.weight().value), b = values(layer.bias().value),
             yv = values(y);
  for (int64_t n = 0; n < 10; ++n)
    for (int64_t o = 0; o < 3; ++o) {
      double s = b[o];
      for (int64_t i = 0; i < 4; ++i)
        s += xv[n * 4 + i] * w[o * 4 + i];
      EXPECT_NEAR(yv[n * 3 + o], s, 1e-14);
    }
}

TEST(LinearLayer, GradientsAreExact) {
  for (bool bias : {true, false}) {
    Linear layer(options_for(5, 3, bias, DType::f64));
    Rng rng(3);
    if (bias) init_uniform(layer.bias().value, rng, 0.5);
    Tensor x = random_tensor({4, 2, 5}, DType::f64, 2);
    const Tensor dy = random_tensor({4, 2, 3}, DType::f64, 3);
    layer.zero_grad();
    layer.forward(x);
    const Tensor dx = layer.backward(dy);
    ASSERT_EQ(dx.shape(), x.shape());
    auto loss = [&] { return weighted_sum(layer.forward(x), dy); };
    EXPECT_LT(gradient_check(loss, x, dx), 1e-6) << "x, bias=" << bias;
    EXPECT_LT(gradient_check(loss, layer.weight().value, layer.weight().grad), 1e-6) << bias;
    if (bias) {
      EXPECT_LT(gradient_check(loss, layer.bias().value, layer.bias().grad), 1e-6);
    }
    EXPECT_EQ(layer.parameters().size(), bias ? 2u : 1u);
  }
}

TEST(LinearLayer, FloatMatchesDouble) {
  Linear l64(options_for(6, 4, true, DType::f64)), l32(options_for(6, 4, true, DType::f32));
  const Tensor x = random_tensor({7, 6}, DType::f64, 4);
  EXPECT_LT(relative_norm_error(values(l32.forward(cast(x, DType::f32))), values(l64.forward(x))),
            1e-5);
}

TEST(LinearLayer, RejectsBadShapesAndOptions) {
  Linear layer(options_for(4, 3, true, DType::f32));
  EXPECT_THROW(layer.backward(Tensor::zeros({2, 3})), InvalidArgument);  // no forward yet
  EXPECT_THROW(layer.forward(Tensor::zeros({2, 5})), ShapeError);
  EXPECT_THROW(layer.forward(Tensor::zeros({4})), ShapeError);
  layer.forward(Tensor::zeros({2, 4}));
  EXPECT_THROW(layer.backward(Tensor::zeros({3, 3})), ShapeError);
  EXPECT_THROW(Linear(options_for(0, 3, true, DType::f32)), ConfigError);
  EXPECT_EQ(layer.parameters()[0]->name, "decoder.output.weight");
  EXPECT_EQ(layer.parameters()[1]->name, "decoder.output.bias");
}

}  // namespace
}  // namespace s2s
