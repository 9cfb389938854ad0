// Shared by the benchmarks: wall-clock rates and the sgemm reference rate that other benchmarks
// report their ratio to, measured in the same run so machine load and clock affect both alike.
#pragma once

#include <benchmark/benchmark.h>

#include <chrono>

#include "seq2seq/ops/gemm.h"
#include "seq2seq/tensor.h"

namespace s2s::bench {

// GFLOP/s of ops::gemm at 2048^3 in f32, set by BM_OpsSgemm/2048 (registered first); 0 until then.
inline double& sgemm_reference_gflops() {
  static double rate = 0;
  return rate;
}

// The reference rate: BM_OpsSgemm/2048's when it ran first, else a short measurement of the same
// 2048^3 sgemm (when the sgemm benchmark is filtered out).
inline double measure_sgemm_reference_gflops() {
  if (sgemm_reference_gflops() > 0) return sgemm_reference_gflops();
  const int64_t n = 2048;
  Tensor a = Tensor::zeros({n, n}), b = Tensor::zeros({n, n}), c = Tensor::zeros({n, n});
  ops::gemm(a, false, b, false, c);  // warm-up: thread pool, pages
  const int reps = 5;
  const auto begin = std::chrono::steady_clock::now();
  for (int i = 0; i < reps; ++i)
    ops::gemm(a, false, b, false, c);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  return sgemm_reference_gflops() = 2.0 * n * n * n * reps / seconds / 1e9;
}

// Times a benchmark's loop on the wall clock (CPU time of the main thread undercounts the
// BLAS worker threads) and sets the GFLOP/s counter from flops per iteration.
class FlopTimer {
 public:
  explicit FlopTimer(double flops_per_iteration) : flops_(flops_per_iteration) {}
  void start() { begin_ = std::chrono::steady_clock::now(); }
  // Returns GFLOP/s over the iterations run since start().
  double stop(benchmark::State& state) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - begin_).count();
    const double iterations = static_cast<double>(state.iterations());
    state.counters["GFLOP/s"] =
        benchmark::Counter(flops_ * iterations / 1e9, benchmark::Counter::kIsRate);
    return seconds > 0 ? flops_ * iterations / seconds / 1e9 : 0;
  }

 private:
  double flops_;
  std::chrono::steady_clock::time_point begin_;
};

}  // namespace s2s::bench
