// gemm_int8: validation and the weight format's conversions; the product is cpu::gemm_int8.
#include "seq2seq/ops/gemm_int8.h"

#include <algorithm>
#include <cmath>

#include "seq2seq/cpu/gemm_int8_cpu.h"
#include "seq2seq/error.h"
#include "seq2seq/ops/check.h"
#include "seq2seq/profiler.h"

namespace s2s::ops {
namespace {

Tensor sums_of_rows(const Tensor& values) {
  const int64_t n = values.dim(0), k = values.dim(1);
  Tensor sums = Tensor::empty({n}, DType::i32);
  const int8_t* q = values.data<int8_t>();
  int32_t* out = sums.data<int32_t>();
  for (int64_t r = 0; r < n; ++r) {
    int32_t s = 0;
    for (int64_t j = 0; j < k; ++j)
      s += q[r * k + j];
    out[r] = s;
  }
  return sums;
}

}  // namespace

Int8Weight quantize_rows(const Tensor& w) {
  constexpr const char* op = "quantize_rows";
  check::shape(op, "w", w, {-1, -1});
  check::floating(op, "w", w);
  S2S_CHECK(w.device().is_cpu(), "quantize_rows: ", w.str(), " is not on the CPU");
  const int64_t n = w.dim(0), k = w.dim(1);
  Int8Weight out;
  out.values = Tensor::empty({n, k}, DType::i8);
  out.scales = Tensor::empty({n}, DType::f32);
  int8_t* q = out.values.data<int8_t>();
  float* scales = out.scales.data<float>();
  dispatch_floating(w.dtype(), [&]<typename T>() {
    const T* x = w.data<T>();
    for (int64_t r = 0; r < n; ++r) {
      double max_abs = 0;
      for (int64_t j = 0; j < k; ++j)
        max_abs = std::max(max_abs, std::abs(static_cast<double>(x[r * k + j])));
      S2S_CHECK(std::isfinite(max_abs), "quantize_rows: row ", r, " of ", w.str(),
                " is not finite");
      const double scale = max_abs > 0 ? max_abs / 127.0 : 1.0;
      scales[r] = static_cast<float>(scale);
      for (int64_t j = 0; j < k; ++j) {
        const double v = std::nearbyint(static_cast<double>(x[r * k + j]) / scale);
        q[r * k + j] = static_cast<int8_t>(std::clamp(v, -127.0, 127.0));
      }
    }
  });
  out.row_sums = sums_of_rows(out.values);
  return out;
}

Int8Weight make_int8_weight(Tensor values, Tensor scales) {
  S2S_CHECK_AS(InputError, values.defined() && values.rank() == 2 && values.dtype() == DType::i8,
               "int8 weight values must be an i8 matrix, got ", values.str());
  S2S_CHECK_AS(InputError,
               scales.defined() && scales.rank() == 1 && scales.dtype() == DType::f32 &&
                   scales.dim(0) == values.dim(0),
               "int8 weight scales must be f32 [", values.dim(0), "] for values ",
               values.shape().str(), ", got ", scales.str());
  const float* s = scales.data<float>();
  for (int64_t r = 0; r < scales.dim(0); ++r)
    S2S_CHECK_AS(InputError, std::isfinite(s[r]) && s[r] > 0, "int8 weight scale ", r, " is ", s[r],
                 ", not a finite positive number");
  const int8_t* q = values.data<int8_t>();
  for (int64_t i = 0; i < values.numel(); ++i)
    S2S_CHECK_AS(InputError, q[i] != -128, "int8 weight value ", i,
                 " is -128, outside the symmetric range [-127, 127] s2s quantize writes");
  Int8Weight out;
  out.row_sums = sums_of_rows(values);
  out.values = std::move(values);
  out.scales = std::move(scales);
  return out;
}

Tensor dequantize_rows(const Int8Weight& w) {
  const int64_t n = w.rows(), k = w.cols();
  Tensor out = Tensor::empty({n, k}, DType::f32);
  const int8_t* q = w.values.data<int8_t>();
  const float* s = w.scales.data<float>();
  float* x = out.data<float>();
  for (int64_t r = 0; r < n; ++r)
    for (int64_t j = 0; j < k; ++j)
      x[r * k + j] = s[r] * static_cast<float>(q[r * k + j]);
  return out;
}

void gemm_int8(const Tensor& a, const Int8Weight& w, Tensor& c, double beta) {
  constexpr const char* op = "gemm_int8";
  check::shape(op, "a", a, {-1, -1});
  check::shape(op, "c", c, {-1, -1});
  check::dtype(op, "a", a, DType::f32);
  check::dtype(op, "c", c, DType::f32);
  check::cpu_only(op, a);
  check::cpu_only(op, c);
  S2S_CHECK(
      w.defined() && w.values.dtype() == DType::i8 && w.scales.defined() && w.row_sums.defined(),
      "gemm_int8: the weight is not a complete int8 weight");
  const int64_t m = a.dim(0), k = a.dim(1), n = w.rows();
  S2S_CHECK_SHAPE(w.cols() == k && c.dim(0) == m && c.dim(1) == n, "gemm_int8: a ", a.shape().str(),
                  " times int8 weight ", w.values.shape().str(), " transposed does not give c ",
                  c.shape().str());
  const profile::Scope scope(
      "gemm_int8", 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k));
  cpu::gemm_int8(a.data<float>(), m, k, w.values.data<int8_t>(), w.scales.data<float>(),
                 w.row_sums.data<int32_t>(), n, c.data<float>(), static_cast<float>(beta));
}

}  // namespace s2s::ops
