// sgemm through ops::gemm (Eigen -> OpenBLAS) at 2048^3 and at the LSTM layer's shapes, and
// OpenBLAS's cblas_sgemm called directly at 2048^3: the gap between the two is s2s's overhead.
// BM_OpsSgemm/2048 also sets the reference rate the LSTM benchmark reports its ratio to.
#include <benchmark/benchmark.h>
#include <cblas.h>

#include "bench/bench_util.h"
#include "seq2seq/ops/gemm.h"
#include "seq2seq/tensor.h"

namespace s2s::bench {
namespace {

Tensor filled(Shape shape, float value) {
  Tensor t = Tensor::empty(shape, DType::f32);
  t.fill(value);
  return t;
}

// c[M, N] (+)= op(a) · op(b), K the inner size; 2*M*N*K flops.
void run_gemm(benchmark::State& state, int64_t m, int64_t n, int64_t k, bool transpose_a,
              bool transpose_b, double beta) {
  const Tensor a = filled(transpose_a ? Shape{k, m} : Shape{m, k}, 0.01f);
  const Tensor b = filled(transpose_b ? Shape{n, k} : Shape{k, n}, 0.01f);
  Tensor c = filled({m, n}, 0.0f);
  FlopTimer timer(2.0 * m * n * k);
  timer.start();
  for (auto _ : state) {
    ops::gemm(a, transpose_a, b, transpose_b, c, 1.0, beta);
    benchmark::DoNotOptimize(c.raw_data());
  }
  const double rate = timer.stop(state);
  if (m == 2048 && n == 2048 && k == 2048) sgemm_reference_gflops() = rate;
}

void BM_OpsSgemm(benchmark::State& state) {
  const int64_t n = state.range(0);
  run_gemm(state, n, n, n, false, false, 0.0);
}
BENCHMARK(BM_OpsSgemm)->Arg(2048)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_CblasSgemm(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const Tensor a = filled({n, n}, 0.01f), b = filled({n, n}, 0.01f);
  Tensor c = filled({n, n}, 0.0f);
  FlopTimer timer(2.0 * n * n * n);
  timer.start();
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a.data<float>(), n,
                b.data<float>(), n, 0.0f, c.data<float>(), n);
    benchmark::DoNotOptimize(c.raw_data());
  }
  timer.stop(state);
}
BENCHMARK(BM_CblasSgemm)->Arg(2048)->Unit(benchmark::kMillisecond)->UseRealTime();

// The GEMMs of one Lstm layer and direction at B=64, T=30, E=256, H=512 (see lstm_bench.cc).
constexpr int64_t kB = 64, kT = 30, kE = 256, kH = 512, kG = 4 * kH, kRows = kT * kB;

void BM_LstmGemm_InputProjection(benchmark::State& state) {  // X · W_ih^T
  run_gemm(state, kRows, kG, kE, false, true, 0.0);
}
void BM_LstmGemm_RecurrentStep(benchmark::State& state) {  // h · W_hh^T accumulated into G[t]
  run_gemm(state, kB, kG, kH, false, true, 1.0);
}
void BM_LstmGemm_BackwardStep(benchmark::State& state) {  // dG[t] · W_hh accumulated into dh
  run_gemm(state, kB, kH, kG, false, false, 1.0);
}
void BM_LstmGemm_GradWih(benchmark::State& state) {  // dG^T · X
  run_gemm(state, kG, kE, kRows, true, false, 1.0);
}
void BM_LstmGemm_GradWhh(benchmark::State& state) {  // dG^T · H[0..T-1]
  run_gemm(state, kG, kH, kRows, true, false, 1.0);
}
void BM_LstmGemm_GradX(benchmark::State& state) {  // dG · W_ih
  run_gemm(state, kRows, kE, kG, false, false, 0.0);
}
BENCHMARK(BM_LstmGemm_InputProjection)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_LstmGemm_RecurrentStep)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_LstmGemm_BackwardStep)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_LstmGemm_GradWih)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_LstmGemm_GradWhh)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_LstmGemm_GradX)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace s2s::bench
