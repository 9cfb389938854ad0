// ops::gemm_int8 and the int8 weight format: quantization error bounds, the product against a
// double-precision reference of the dequantized weight, exact int32 accumulation (the same bytes
// for any thread count and any batch split), beta, bad weights and inputs, and the safetensors
// round trip of an int8 parameter through save/load_parameters.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <limits>

#include "seq2seq/checkpoint.h"
#include "seq2seq/error.h"
#include "seq2seq/layers/parameter.h"
#include "seq2seq/ops/gemm.h"
#include "seq2seq/ops/gemm_int8.h"
#include "seq2seq/runtime.h"
#include "tests/test_util.h"

namespace s2s {
namespace {

using testing::random_tensor;
using testing::values;

// c = a·Wᵀ in double, W the dequantized int8 weight: what gemm_int8 computes up to the
// activations' rounding.
std::vector<double> reference(const Tensor& a, const ops::Int8Weight& w) {
  const Tensor wf = ops::dequantize_rows(w);
  const auto av = values(a), wv = values(wf);
  const int64_t m = a.dim(0), k = a.dim(1), n = w.rows();
  std::vector<double> out(m * n);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (int64_t p = 0; p < k; ++p)
        s += av[i * k + p] * wv[j * k + p];
      out[i * n + j] = s;
    }
  return out;
}

TEST(QuantizeRows, ErrorWithinHalfAStepAndZeroRowsStayZero) {
  Tensor w = random_tensor({7, 33}, DType::f32, 3);
  for (int64_t j = 0; j < 33; ++j)
    w.data<float>()[2 * 33 + j] = 0.0f;  // an all-zero row
  const ops::Int8Weight q = ops::quantize_rows(w);
  EXPECT_EQ(q.values.dtype(), DType::i8);
  EXPECT_EQ(q.values.shape(), w.shape());
  const Tensor back = ops::dequantize_rows(q);
  const float* s = q.scales.data<float>();
  for (int64_t r = 0; r < 7; ++r) {
    float max_abs = 0;
    for (int64_t j = 0; j < 33; ++j) {
      max_abs = std::max(max_abs, std::fabs(w.data<float>()[r * 33 + j]));
      EXPECT_LE(std::fabs(back.data<float>()[r * 33 + j] - w.data<float>()[r * 33 + j]),
                0.5f * s[r] * 1.0001f)
          << "row " << r << " col " << j;
    }
    if (r == 2)
      EXPECT_EQ(s[r], 1.0f);
    else
      EXPECT_FLOAT_EQ(s[r], max_abs / 127.0f);  // the largest entry maps to ±127 exactly
  }
  int32_t sum = 0;
  for (int64_t j = 0; j < 33; ++j)
    sum += q.values.data<int8_t>()[4 * 33 + j];
  EXPECT_EQ(q.row_sums.data<int32_t>()[4], sum);
}

TEST(GemmInt8, CloseToTheFloatProductOfTheDequantizedWeight) {
  for (auto [m, k, n] : {std::tuple{1, 1, 1}, {3, 17, 5}, {37, 53, 29}, {160, 512, 300}}) {
    const Tensor a = random_tensor({m, k}, DType::f32, 10 + m);
    const ops::Int8Weight w = ops::quantize_rows(random_tensor({n, k}, DType::f32, 20 + n));
    Tensor c = Tensor::empty({m, n});
    c.fill(std::numeric_limits<float>::quiet_NaN());  // beta 0 must not read C
    ops::gemm_int8(a, w, c);
    const std::vector<double> ref = reference(a, w);
    const auto got = values(c);
    // Activation rounding: each |a| <= 1 moves by at most 1/254 of its row's max (1), times the
    // weight row's L1 norm.
    const auto wv = values(ops::dequantize_rows(w));
    for (int64_t j = 0; j < n; ++j) {
      double l1 = 0;
      for (int64_t p = 0; p < k; ++p)
        l1 += std::fabs(wv[j * k + p]);
      for (int64_t i = 0; i < m; ++i)
        EXPECT_NEAR(got[i * n + j], ref[i * n + j], l1 / 254.0 * 1.001 + 1e-6)
            << m << "x" << k << "x" << n << " at " << i << "," << j;
    }
  }
}

TEST(GemmInt8, BetaAccumulatesAndAZeroRowGivesExactlyBetaC) {
  const int64_t m = 9, k = 40, n = 70;
  Tensor a = random_tensor({m, k}, DType::f32, 5);
  for (int64_t p = 0; p < k; ++p)
    a.data<float>()[3 * k + p] = 0.0f;
  const ops::Int8Weight w = ops::quantize_rows(random_tensor({n, k}, DType::f32, 6));
  const Tensor c0 = random_tensor({m, n}, DType::f32, 7);
  Tensor fresh = Tensor::empty({m, n});
  ops::gemm_int8(a, w, fresh);
  Tensor acc = c0.clone();
  ops::gemm_int8(a, w, acc, 0.5);
  for (int64_t i = 0; i < m * n; ++i)
    EXPECT_NEAR(acc.data<float>()[i], fresh.data<float>()[i] + 0.5f * c0.data<float>()[i], 1e-5);
  for (int64_t j = 0; j < n; ++j)
    EXPECT_EQ(acc.data<float>()[3 * n + j], 0.5f * c0.data<float>()[3 * n + j]);
}

TEST(GemmInt8, SameBytesForAnyThreadCountAndAnyRowSplit) {
  // int32 accumulation is exact and each row has its own activation scale, so neither the
  // blocks a thread count makes nor the rows a batch holds change a single bit.
  const int64_t m = 96, k = 256, n = 1000;
  const Tensor a = random_tensor({m, k}, DType::f32, 8, -3.0, 3.0);
  const ops::Int8Weight w = ops::quantize_rows(random_tensor({n, k}, DType::f32, 9));
  const int saved = num_threads();
  std::vector<std::vector<float>> results;
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    Tensor c = Tensor::empty({m, n});
    ops::gemm_int8(a, w, c);
    results.push_back(c.to_vector<float>());
  }
  set_num_threads(saved);
  EXPECT_EQ(results[0], results[1]);
  EXPECT_EQ(results[0], results[2]);
  Tensor one_row = Tensor::empty({1, n});
  ops::gemm_int8(a.slice(41, 42), w, one_row);
  const auto row = one_row.to_vector<float>();
  EXPECT_EQ(row, std::vector<float>(results[0].begin() + 41 * n, results[0].begin() + 42 * n));
}

TEST(GemmInt8, RejectsWrongShapesDtypesAndNonFiniteInput) {
  const ops::Int8Weight w = ops::quantize_rows(random_tensor({4, 8}, DType::f32, 1));
  Tensor c = Tensor::empty({2, 4});
  EXPECT_THROW(ops::gemm_int8(random_tensor({2, 7}, DType::f32, 2), w, c), ShapeError);
  Tensor wrong_c = Tensor::empty({2, 5});
  EXPECT_THROW(ops::gemm_int8(random_tensor({2, 8}, DType::f32, 2), w, wrong_c), ShapeError);
  EXPECT_THROW(ops::gemm_int8(random_tensor({2, 8}, DType::f64, 2), w, c), InvalidArgument);
  Tensor a = random_tensor({2, 8}, DType::f32, 2);
  a.data<float>()[5] = std::numeric_limits<float>::infinity();
  EXPECT_THROW(ops::gemm_int8(a, w, c), InvalidArgument);
  EXPECT_THROW(ops::gemm_int8(random_tensor({2, 8}, DType::f32, 2), ops::Int8Weight{}, c),
               InvalidArgument);
}

TEST(Int8Weight, StoredValuesAndScalesAreChecked) {
  const ops::Int8Weight good = ops::quantize_rows(random_tensor({3, 5}, DType::f32, 4));
  EXPECT_NO_THROW(ops::make_int8_weight(good.values, good.scales));
  Tensor zero_scale = good.scales.clone();
  zero_scale.data<float>()[1] = 0.0f;
  EXPECT_THROW(ops::make_int8_weight(good.values, zero_scale), InputError);
  Tensor nan_scale = good.scales.clone();
  nan_scale.data<float>()[0] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(ops::make_int8_weight(good.values, nan_scale), InputError);
  EXPECT_THROW(ops::make_int8_weight(good.values, Tensor::zeros({4})), InputError);
  EXPECT_THROW(ops::make_int8_weight(good.scales, good.scales), InputError);  // not i8
  Tensor min_value = good.values.clone();
  min_value.data<int8_t>()[2] = -128;
  EXPECT_THROW(ops::make_int8_weight(min_value, good.scales), InputError);
}

class Int8FileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("s2s_int8_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(Int8FileTest, SaveAndLoadKeepDequantizeOrReject) {
  Parameter weight = Parameter::make("layer.w", {6, 10}, DType::f32, Device::cpu());
  weight.value.copy_from(random_tensor({6, 10}, DType::f32, 11));
  Parameter bias = Parameter::make("layer.b", {6}, DType::f32, Device::cpu());
  bias.value.copy_from(random_tensor({6}, DType::f32, 12));
  Parameter quantized = weight;
  quantized.int8 = ops::quantize_rows(weight.value);
  quantized.value = Tensor();
  const std::string path = (dir_ / "model.safetensors").string();
  save_parameters(path, {&quantized, &bias});

  auto fresh = [] {
    return std::pair{Parameter::make("layer.w", {6, 10}, DType::f32, Device::cpu()),
                     Parameter::make("layer.b", {6}, DType::f32, Device::cpu())};
  };
  auto [w1, b1] = fresh();
  load_parameters(path, {&w1, &b1}, false, Verify::none, Int8Weights::keep);
  ASSERT_TRUE(w1.quantized());
  EXPECT_FALSE(w1.value.defined());
  EXPECT_EQ(w1.int8.values.to_vector<int8_t>(), quantized.int8.values.to_vector<int8_t>());
  EXPECT_EQ(w1.int8.scales.to_vector<float>(), quantized.int8.scales.to_vector<float>());
  EXPECT_EQ(w1.int8.row_sums.to_vector<int32_t>(), quantized.int8.row_sums.to_vector<int32_t>());
  EXPECT_EQ(b1.value.to_vector<float>(), bias.value.to_vector<float>());

  auto [w2, b2] = fresh();
  load_parameters(path, {&w2, &b2}, false, Verify::none, Int8Weights::dequantize);
  EXPECT_FALSE(w2.quantized());
  EXPECT_EQ(w2.value.to_vector<float>(), ops::dequantize_rows(quantized.int8).to_vector<float>());

  auto [w3, b3] = fresh();
  try {
    load_parameters(path, {&w3, &b3}, false, Verify::none);
    FAIL() << "an int8 file loaded for training";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("int8"), std::string::npos) << e.what();
  }
  // weight_product gives the same result through either form, up to the activation rounding.
  const Tensor x = random_tensor({4, 10}, DType::f32, 13);
  Tensor y_int8 = Tensor::empty({4, 6}), y_float = Tensor::empty({4, 6});
  weight_product(x, w1, y_int8);
  weight_product(x, w2, y_float);
  EXPECT_LT(testing::relative_norm_error(y_int8, y_float), 0.02);
}

TEST_F(Int8FileTest, AnInt8WeightWithoutItsScalesIsNamed) {
  const Tensor values = ops::quantize_rows(random_tensor({6, 10}, DType::f32, 1)).values;
  const std::string path = (dir_ / "model.safetensors").string();
  save_tensors(path, {{"layer.w", values}});
  Parameter w = Parameter::make("layer.w", {6, 10}, DType::f32, Device::cpu());
  try {
    load_parameters(path, {&w}, false, Verify::none, Int8Weights::keep);
    FAIL() << "loaded without scales";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("layer.w.int8_scale"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace s2s
