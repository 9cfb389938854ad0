// The Conv2d layer's forward and forward + backward at the image encoder's sizes, in GFLOP/s and
// as a ratio to the 2048^3 sgemm rate of the same run. Convolution on the CPU is im2col + GEMM,
// so the ratio says what the unfolding (im2col, col2im) and the layout copies cost on top of the
// GEMMs, and how well GEMMs of these shapes run (K = C*9 is short for the first layers).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>

#include "bench/bench_util.h"
#include "seq2seq/layers/conv2d.h"

namespace s2s::bench {
namespace {

// A batch of 32 images, 3x3 kernels with padding 1 (the encoder's convolutions); args: C, O, H=W.
struct ConvProblem {
  int64_t batch = 32, c, o, side;
  Conv2d conv;
  Tensor x, dy;
  ConvProblem(int64_t c_, int64_t o_, int64_t side_)
      : c(c_), o(o_), side(side_), conv([&] {
          Conv2dOptions options;
          options.in_channels = c_;
          options.out_channels = o_;
          options.kernel_size = 3;
          options.padding = 1;
          options.seed = 1;
          return options;
        }()) {
    x = Tensor::empty({batch, c, side, side});
    dy = Tensor::empty({batch, o, side, side});
    x.fill(0.1);
    dy.fill(0.01);
  }
  // 2 * N * O * OH * OW * C * 9 per GEMM-equivalent pass: forward is one, backward two (dweight,
  // dx); im2col/col2im and bias are O(N*C*9*H*W), not counted.
  double forward_flops() const { return 2.0 * batch * o * side * side * c * 9; }
  void forward() { benchmark::DoNotOptimize(conv.forward(x).raw_data()); }
  void forward_backward() {
    conv.forward(x);
    benchmark::DoNotOptimize(conv.backward(dy).raw_data());
  }
};

double seconds_since(std::chrono::steady_clock::time_point begin) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
}

void BM_Conv2dForward(benchmark::State& state) {
  ConvProblem p(state.range(0), state.range(1), state.range(2));
  const double reference = measure_sgemm_reference_gflops();
  FlopTimer timer(p.forward_flops());
  timer.start();
  for (auto _ : state)
    p.forward();
  const double rate = timer.stop(state);
  state.counters["ratio"] = reference > 0 ? rate / reference : 0;
}

void BM_Conv2dForwardBackward(benchmark::State& state) {
  ConvProblem p(state.range(0), state.range(1), state.range(2));
  const double reference = measure_sgemm_reference_gflops();
  FlopTimer timer(3 * p.forward_flops());
  timer.start();
  for (auto _ : state)
    p.forward_backward();
  const double rate = timer.stop(state);
  state.counters["ratio"] = reference > 0 ? rate / reference : 0;
}

// The ratio robust to a shared machine (as BM_LstmVsSgemmInterleaved): each iteration runs one
// 2048^3 sgemm and one conv forward + backward, and the ratio compares the fastest of each.
void BM_Conv2dVsSgemmInterleaved(benchmark::State& state) {
  ConvProblem p(state.range(0), state.range(1), state.range(2));
  const int64_t n = 2048;
  Tensor a = Tensor::empty({n, n}), b = Tensor::empty({n, n}), c = Tensor::empty({n, n});
  a.fill(0.01);
  b.fill(0.01);
  double best_gemm = 1e30, best_conv = 1e30;
  for (auto _ : state) {
    auto begin = std::chrono::steady_clock::now();
    ops::gemm(a, false, b, false, c);
    best_gemm = std::min(best_gemm, seconds_since(begin));
    begin = std::chrono::steady_clock::now();
    p.forward_backward();
    best_conv = std::min(best_conv, seconds_since(begin));
  }
  const double conv_rate = 3 * p.forward_flops() / best_conv / 1e9;
  state.counters["GFLOP/s"] = conv_rate;  // of the convolution's fastest iteration
  state.counters["sgemm GFLOP/s"] = 2.0 * n * n * n / best_gemm / 1e9;
  state.counters["ratio"] = conv_rate / (2.0 * n * n * n / best_gemm / 1e9);
}

// C, O, side: the second and third blocks of the fashion-scenes encoder at 96x96 input, and a
// first layer (C = 1, K = 9: the GEMM is thin and im2col dominates).
#define S2S_CONV_SHAPES \
  Args({32, 64, 48})->Args({64, 128, 24})->Args({1, 32, 96})->ArgNames({"C", "O", "side"})
BENCHMARK(BM_Conv2dForward)->S2S_CONV_SHAPES->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Conv2dForwardBackward)->S2S_CONV_SHAPES->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Conv2dVsSgemmInterleaved)
    ->S2S_CONV_SHAPES->Unit(benchmark::kMillisecond)
    ->UseRealTime();
#undef S2S_CONV_SHAPES

}  // namespace
}  // namespace s2s::bench
