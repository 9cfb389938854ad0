// ops::gemm_int8 against ops::gemm (f32) at the shapes of a beam-5 decoder step of the de-en hour
// model (batch 32 x beam 5 = 160 rows): the LSTM gates over [embedding; feed] and the state, the
// attention combine, the output projection over the 8,000-piece vocabulary, and the encoder's
// input projection over a whole batch. Each int8 rate counts 2·M·N·K operations like the float
// one (GOP/s vs GFLOP/s), the dynamic quantization of the activations and the dequantization
// included; `ratio` is the int8 rate over the same run's sgemm 2048^3 rate.
#include <benchmark/benchmark.h>

#include "bench/bench_util.h"
#include "seq2seq/ops/gemm.h"
#include "seq2seq/ops/gemm_int8.h"
#include "seq2seq/random.h"
#include "seq2seq/tensor.h"

namespace s2s::bench {
namespace {

Tensor uniform(Shape shape, uint64_t seed, float bound) {
  Tensor t = Tensor::empty(shape, DType::f32);
  Rng rng(seed);
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i)
    p[i] = static_cast<float>((rng.uniform() * 2.0 - 1.0) * bound);
  return t;
}

// c[M, N] = a[M, K] · W[N, K]ᵀ (+ beta c), float or int8 by the benchmark's first argument.
void run(benchmark::State& state, int64_t m, int64_t n, int64_t k, double beta) {
  const bool int8 = state.range(0) != 0;
  const Tensor a = uniform({m, k}, 1, 1.0f);
  const Tensor w = uniform({n, k}, 2, 0.05f);
  const ops::Int8Weight q = ops::quantize_rows(w);
  Tensor c = Tensor::zeros({m, n});
  const double reference = measure_sgemm_reference_gflops();
  FlopTimer timer(2.0 * m * n * k);
  timer.start();
  for (auto _ : state) {
    if (int8)
      ops::gemm_int8(a, q, c, beta);
    else
      ops::gemm(a, false, w, true, c, 1.0, beta);
    benchmark::DoNotOptimize(c.raw_data());
  }
  const double rate = timer.stop(state);
  state.counters["ratio"] = reference > 0 ? rate / reference : 0;
  state.SetLabel(int8 ? "int8" : "f32");
}

constexpr int64_t kRows = 160;  // batch 32 x beam 5

void BM_DecoderGemm_Gates(benchmark::State& state) {  // [emb 256; feed 512] -> 4 x 512
  run(state, kRows, 2048, 768, 0.0);
}
void BM_DecoderGemm_Recurrent(benchmark::State& state) {  // h 512 -> 4 x 512, accumulated
  run(state, kRows, 2048, 512, 1.0);
}
void BM_DecoderGemm_Combine(benchmark::State& state) {  // context 512 -> 512
  run(state, kRows, 512, 512, 0.0);
}
void BM_DecoderGemm_Output(benchmark::State& state) {  // 512 -> 8,000 pieces
  run(state, kRows, 8000, 512, 0.0);
}
void BM_DecoderGemm_Greedy(benchmark::State& state) {  // greedy: 32 rows, the output projection
  run(state, 32, 8000, 512, 0.0);
}
void BM_EncoderGemm_Input(benchmark::State& state) {  // 32 sentences x 20 pieces, 256 -> 4 x 256
  run(state, 640, 1024, 256, 0.0);
}
// Arg 0: f32 (ops::gemm), 1: int8 (ops::gemm_int8).
BENCHMARK(BM_DecoderGemm_Gates)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_DecoderGemm_Recurrent)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_DecoderGemm_Combine)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_DecoderGemm_Output)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_DecoderGemm_Greedy)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_EncoderGemm_Input)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
}  // namespace s2s::bench
