// The Lstm layer's forward + backward at a translation-model size, in GFLOP/s and as a ratio to
// the 2048^3 sgemm rate of the same run: the LSTM is GEMM-bound, so the ratio says how much the
// recurrence, the fused cell passes and the copies cost on top of the GEMMs.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>

#include "bench/bench_util.h"
#include "seq2seq/layers/lstm.h"
#include "seq2seq/ops/gemm.h"

namespace s2s::bench {
namespace {

constexpr int64_t kB = 64, kT = 30, kE = 256, kH = 512;

// FLOPs of one forward + backward, GEMMs only (the cell passes are O(T*B*H), noise beside them):
//   forward:  2*T*B*4H*E (input projection) + 2*T*B*4H*H (recurrent GEMMs) = 2*T*B*4H*(E+H)
//   backward: dX and dW_ih 2 * 2*T*B*4H*E, dh_prev and dW_hh 2 * 2*T*B*4H*H = 2x the forward
constexpr double kForwardFlops = 2.0 * kT * kB * 4 * kH * (kE + kH);
constexpr double kFlops = 3 * kForwardFlops;

// The reference when BM_OpsSgemm/2048 did not run before (filtered out): a short measurement.
double reference_gflops() {
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

struct LstmProblem {
  Lstm lstm{[] {
    LstmOptions options;
    options.input_size = kE;
    options.hidden_size = kH;
    options.seed = 1;
    return options;
  }()};
  Tensor x = Tensor::empty({kT, kB, kE});
  Tensor d_output = Tensor::empty({kT, kB, kH});
  LstmProblem() {
    x.fill(0.1);
    d_output.fill(0.01);
  }
  void run() {
    Lstm::Output out = lstm.forward(x, Tensor());
    Lstm::Gradients grads = lstm.backward(d_output);
    benchmark::DoNotOptimize(grads.dx.raw_data());
  }
};

double seconds_since(std::chrono::steady_clock::time_point begin) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
}

void BM_LstmForwardBackward(benchmark::State& state) {
  LstmProblem problem;
  const double reference = reference_gflops();
  FlopTimer timer(kFlops);
  timer.start();
  for (auto _ : state)
    problem.run();
  const double rate = timer.stop(state);
  state.counters["ratio"] = reference > 0 ? rate / reference : 0;
}
BENCHMARK(BM_LstmForwardBackward)->Unit(benchmark::kMillisecond)->UseRealTime();

// The same ratio, robust to a machine shared with other work: each iteration runs one 2048^3
// sgemm and one LSTM forward + backward back to back, and the ratio compares the fastest of each,
// so a burst of foreign load that slows one of them does not skew it.
void BM_LstmVsSgemmInterleaved(benchmark::State& state) {
  LstmProblem problem;
  const int64_t n = 2048;
  Tensor a = Tensor::empty({n, n}), b = Tensor::empty({n, n}), c = Tensor::empty({n, n});
  a.fill(0.01);
  b.fill(0.01);
  double best_gemm = 1e30, best_lstm = 1e30;
  for (auto _ : state) {
    auto begin = std::chrono::steady_clock::now();
    ops::gemm(a, false, b, false, c);
    best_gemm = std::min(best_gemm, seconds_since(begin));
    begin = std::chrono::steady_clock::now();
    problem.run();
    best_lstm = std::min(best_lstm, seconds_since(begin));
  }
  const double lstm_rate = kFlops / best_lstm / 1e9;
  state.counters["GFLOP/s"] = lstm_rate;  // of the LSTM's fastest iteration
  state.counters["ratio"] = lstm_rate / (2.0 * n * n * n / best_gemm / 1e9);
}
BENCHMARK(BM_LstmVsSgemmInterleaved)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace s2s::bench
