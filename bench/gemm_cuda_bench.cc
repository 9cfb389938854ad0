// CUDA sgemm through ops::gemm (cuBLAS, full fp32) at a size that fills the GPU: the ceiling the
// CUDA LSTM kernels are measured against (issue 7). Skipped with a message without a GPU.
#include <benchmark/benchmark.h>

#include "seq2seq/cuda_backend.h"
#include "seq2seq/ops/gemm.h"
#include "seq2seq/random.h"

namespace {

s2s::Tensor random_on(s2s::Shape shape, s2s::Device device, uint64_t seed) {
  s2s::Tensor host = s2s::Tensor::empty(shape);
  s2s::Rng rng(seed);
  float* p = host.data<float>();
  for (int64_t i = 0; i < host.numel(); ++i)
    p[i] = static_cast<float>(rng.uniform(-1, 1));
  return host.to(device);
}

void BM_CudaSgemm(benchmark::State& state) {
  if (s2s::cuda::device_count() == 0) {
    state.SkipWithError(("no CUDA device: " + s2s::cuda::describe()).c_str());
    return;
  }
  const int64_t n = state.range(0);
  const s2s::Device gpu = s2s::Device::cuda(0);
  // Random data, never zeros: zeros run faster than real data on some GPUs.
  s2s::Tensor a = random_on({n, n}, gpu, 1), b = random_on({n, n}, gpu, 2);
  s2s::Tensor c = s2s::Tensor::empty({n, n}, s2s::DType::f32, gpu);
  s2s::ops::gemm(a, false, b, false, c);  // warm-up: handle creation, kernel load
  s2s::cuda::synchronize(0);
  for (auto _ : state) {
    s2s::ops::gemm(a, false, b, false, c);
    s2s::cuda::synchronize(0);
  }
  state.counters["GFLOP/s"] = benchmark::Counter(
      2.0 * n * n * n * static_cast<double>(state.iterations()) / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_CudaSgemm)->Arg(4096)->Arg(8192)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
