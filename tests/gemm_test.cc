// ops::gemm against a naive double-precision product, for every transpose combination, alpha and
// beta, on every device.
#include <gtest/gtest.h>

#include "seq2seq/ops/gemm.h"
#include "seq2seq/runtime.h"
#include "tests/device_test.h"
#include "tests/test_util.h"

namespace s2s {
namespace {

using testing::random_tensor;
using testing::relative_norm_error;
using testing::values;

std::vector<double> naive_gemm(const Tensor& a, bool ta, const Tensor& b, bool tb, const Tensor& c,
                               double alpha, double beta) {
  const auto av = values(a), bv = values(b), cv = values(c);
  const int64_t m = c.dim(0), n = c.dim(1), k = ta ? a.dim(0) : a.dim(1);
  std::vector<double> out(m * n);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (int64_t p = 0; p < k; ++p)
        s += av[ta ? p * a.dim(1) + i : i * a.dim(1) + p] *
             bv[tb ? j * b.dim(1) + p : p * b.dim(1) + j];
      out[i * n + j] = alpha * s + (beta == 0 ? 0 : beta * cv[i * n + j]);
    }
  return out;
}

class GemmTest : public testing::DeviceTest {};

TEST_P(GemmTest, MatchesNaiveProductForAllTransposes) {
  const int64_t m = 37, n = 29, k = 53;  // odd sizes: no kernel gets an aligned easy case
  uint64_t seed = 1;
  for (DType dtype : {DType::f32, DType::f64}) {
    for (bool ta : {false, true})
      for (bool tb : {false, true})
        for (auto [alpha, beta] : {std::pair{1.0, 0.0}, {0.5, 1.0}, {-2.0, 0.25}}) {
          Tensor a = random_tensor(ta ? Shape{k, m} : Shape{m, k}, dtype, seed++);
          Tensor b = random_tensor(tb ? Shape{n, k} : Shape{k, n}, dtype, seed++);
          Tensor c = random_tensor({m, n}, dtype, seed++);
          const auto expected = naive_gemm(a, ta, b, tb, c, alpha, beta);
          Tensor c_dev = c.to(device());
          ops::gemm(a.to(device()), ta, b.to(device()), tb, c_dev, alpha, beta);
          // f32: k = 53 products of unit size round to ~sqrt(k) * 6e-8 relative.
          const double tolerance = dtype == DType::f32 ? 2e-6 : 1e-13;
          EXPECT_LT(relative_norm_error(values(c_dev), expected), tolerance)
              << dtype_name(dtype) << " ta=" << ta << " tb=" << tb << " alpha=" << alpha
              << " beta=" << beta;
        }
  }
}

// Products big enough are cut into blocks of C, one per math thread (cpu/gemm_cpu.cc): by
// columns when C is wide, by rows when it is tall. Every transpose, both cuts, against the naive
// product; the same thread count gives the same bytes every time (the cuts depend on the sizes
// and the thread count only). Across thread counts the last bits may differ: OpenBLAS computes
// the edge tiles of a block with other kernels.
TEST(GemmThreadsTest, BlocksOnSeveralThreadsMatchTheNaiveProductAndRepeatExactly) {
  const int previous = num_threads();
  uint64_t seed = 100;
  for (auto [m, n] : {std::pair<int64_t, int64_t>{37, 301}, {301, 37}}) {
    const int64_t k = 97;  // 37 x 301 x 97 = 1.08M multiply-adds: over the cut's threshold
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        Tensor a = random_tensor(ta ? Shape{k, m} : Shape{m, k}, DType::f32, seed++);
        Tensor b = random_tensor(tb ? Shape{n, k} : Shape{k, n}, DType::f32, seed++);
        Tensor c = random_tensor({m, n}, DType::f32, seed++);
        const auto expected = naive_gemm(a, ta, b, tb, c, 0.5, 1.0);
        for (int threads : {1, 2, 3}) {
          set_num_threads(threads);
          std::vector<std::vector<float>> runs;
          for (int run = 0; run < 2; ++run) {
            Tensor out = c.clone();
            ops::gemm(a, ta, b, tb, out, 0.5, 1.0);
            EXPECT_LT(relative_norm_error(values(out), expected), 2e-6)
                << m << "x" << n << " ta=" << ta << " tb=" << tb << " threads=" << threads;
            runs.push_back(out.to_vector<float>());
          }
          EXPECT_EQ(runs[0], runs[1]) << m << "x" << n << " threads=" << threads;
        }
      }
  }
  set_num_threads(previous);
}

TEST_P(GemmTest, BetaZeroIgnoresNanInOutput) {
  Tensor a = random_tensor({4, 3}, DType::f32, 7);
  Tensor b = random_tensor({3, 5}, DType::f32, 8);
  Tensor c = Tensor::empty({4, 5}, DType::f32);
  c.fill(std::nan(""));
  Tensor c_dev = c.to(device());
  ops::gemm(a.to(device()), false, b.to(device()), false, c_dev);
  for (double v : values(c_dev))
    EXPECT_FALSE(std::isnan(v));
}

TEST_P(GemmTest, RejectsMismatchedShapesAndDtypes) {
  Tensor a = Tensor::zeros({4, 3}, DType::f32, device());
  Tensor b = Tensor::zeros({4, 5}, DType::f32, device());
  Tensor c = Tensor::zeros({4, 5}, DType::f32, device());
  EXPECT_THROW(ops::gemm(a, false, b, false, c), ShapeError);
  Tensor b64 = Tensor::zeros({3, 5}, DType::f64, device());
  EXPECT_THROW(ops::gemm(a, false, b64, false, c), InvalidArgument);
  Tensor i32 = Tensor::zeros({4, 3}, DType::i32, device());
  EXPECT_THROW(ops::gemm(i32, false, b, false, c), InvalidArgument);
}

S2S_INSTANTIATE_DEVICE_TEST(GemmTest);

}  // namespace
}  // namespace s2s
