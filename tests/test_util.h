// Helpers shared by the tests: seeded random tensors, comparisons, and the finite-difference
// gradient check every op and layer uses.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "seq2seq/random.h"
#include "seq2seq/tensor.h"

namespace s2s::testing {

// tests/data: the build's source tree, or $S2S_TEST_DATA_DIR when the tests run elsewhere
// (scripts/gpu-check.sh runs a packed test binary on another machine).
inline std::string test_data_dir() {
  const char* env = std::getenv("S2S_TEST_DATA_DIR");
  return env && *env ? env : S2S_TEST_DATA_DIR;
}

// The trainer tests' copy task: 64 lines "s<TAB>s" of 2-5 letters a..h (ids 4..11 through the
// tests' encode), the same every time.
inline void write_copy_task_corpus(const std::string& path) {
  std::ofstream corpus(path);
  Rng rng(3);
  for (int i = 0; i < 64; ++i) {
    std::string s;
    const int len = 2 + static_cast<int>(rng.uniform() * 4);
    for (int j = 0; j < len; ++j)
      s += static_cast<char>('a' + static_cast<int>(rng.uniform() * 8));
    corpus << s << "\t" << s << "\n";
  }
}

// A CPU tensor of uniform values in [lo, hi) from a fixed seed.
inline Tensor random_tensor(Shape shape, DType dtype, uint64_t seed, double lo = -1.0,
                            double hi = 1.0) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  Tensor t = Tensor::empty(shape, dtype);
  for (int64_t i = 0; i < t.numel(); ++i) {
    if (dtype == DType::f32)
      t.data<float>()[i] = static_cast<float>(dist(rng));
    else
      t.data<double>()[i] = dist(rng);
  }
  return t;
}

// Element values of any floating CPU or CUDA tensor, as double.
inline std::vector<double> values(const Tensor& t) {
  if (t.dtype() == DType::f64) return t.to_vector<double>();
  if (t.dtype() == DType::i32) {
    auto v = t.to_vector<int32_t>();
    return {v.begin(), v.end()};
  }
  auto v = t.to_vector<float>();
  return {v.begin(), v.end()};
}

// Casts a CPU tensor between f32 and f64.
inline Tensor cast(const Tensor& t, DType dtype) {
  Tensor out = Tensor::empty(t.shape(), dtype);
  const std::vector<double> v = values(t);
  for (size_t i = 0; i < v.size(); ++i) {
    if (dtype == DType::f32)
      out.data<float>()[i] = static_cast<float>(v[i]);
    else if (dtype == DType::f64)
      out.data<double>()[i] = v[i];
    else
      out.data<int32_t>()[i] = static_cast<int32_t>(v[i]);
  }
  return out;
}

// max_i |a_i - b_i| / max(|a_i|, |b_i|, floor): relative error, with an absolute floor so that
// entries near zero are judged by their absolute error instead of blowing up.
inline double max_relative_error(const std::vector<double>& a, const std::vector<double>& b,
                                 double floor = 1e-3) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (std::isnan(a[i]) || std::isnan(b[i])) return INFINITY;
    const double scale = std::max({std::abs(a[i]), std::abs(b[i]), floor});
    worst = std::max(worst, std::abs(a[i] - b[i]) / scale);
  }
  return worst;
}
inline double max_relative_error(const Tensor& a, const Tensor& b, double floor = 1e-3) {
  EXPECT_EQ(a.shape(), b.shape()) << a.str() << " vs " << b.str();
  return max_relative_error(values(a), values(b), floor);
}

// ||a - b|| / ||b||: the norm-wise relative error, the right measure for float results of sums
// (single entries that cancel to near zero carry large relative but tiny absolute rounding).
inline double relative_norm_error(const std::vector<double>& a, const std::vector<double>& b) {
  EXPECT_EQ(a.size(), b.size());
  double diff = 0, ref = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (std::isnan(a[i]) || std::isnan(b[i])) return INFINITY;
    diff += (a[i] - b[i]) * (a[i] - b[i]);
    ref += b[i] * b[i];
  }
  return ref == 0 ? std::sqrt(diff) : std::sqrt(diff / ref);
}
inline double relative_norm_error(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape(), b.shape()) << a.str() << " vs " << b.str();
  return relative_norm_error(values(a), values(b));
}

// Central finite differences of loss() with respect to every element of x (a CPU f64 tensor,
// perturbed in place and restored), compared with the analytic gradient. Returns the largest
// relative error. step 1e-6 balances truncation (~h^2) against rounding (~1e-16/h) in double.
inline double gradient_check(const std::function<double()>& loss, Tensor x, const Tensor& analytic,
                             double step = 1e-6) {
  EXPECT_EQ(x.dtype(), DType::f64) << "gradient checks run in double precision";
  EXPECT_EQ(x.shape(), analytic.shape());
  double* p = x.data<double>();
  std::vector<double> numeric(x.numel());
  for (int64_t i = 0; i < x.numel(); ++i) {
    const double saved = p[i];
    p[i] = saved + step;
    const double up = loss();
    p[i] = saved - step;
    const double down = loss();
    p[i] = saved;
    numeric[i] = (up - down) / (2 * step);
  }
  return max_relative_error(values(analytic), numeric);
}

// sum_i w_i * y_i: turns an op's output into a scalar loss whose gradient w.r.t. y is w.
inline double weighted_sum(const Tensor& y, const Tensor& w) {
  const std::vector<double> a = values(y), b = values(w);
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i)
    s += a[i] * b[i];
  return s;
}

}  // namespace s2s::testing
