// CUDA body of ops/grad_norm.h: the sum of squares of one tensor. Each element is squared in
// double (so no float overflow short of a real inf or NaN, as on the CPU) and summed per thread
// in double; each block reduces its threads in double and writes one partial, and the host adds
// the partials in block order. The grid is fixed by n alone, so the result is deterministic.
// Clipping itself is ops::scale (cuda/elementwise.cu).
#include <algorithm>

#include "cuda/launch.h"
#include "cuda/reduce.h"
#include "seq2seq/cuda_backend.h"

namespace s2s::cuda {
namespace {

// 1024 blocks of 256 threads fill an H100 (132 SMs x 8 resident blocks) and keep the partials
// copied back to the host to 8 KiB.
constexpr int kMaxNormBlocks = 1024;

template <typename T>
__global__ void sum_squares_kernel(const T* x, int64_t n, double* partials) {
  double local = 0;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x) {
    const double xi = static_cast<double>(x[i]);
    local += xi * xi;
  }
  const double block = block_reduce(local, SumOp{}, 0.0);
  if (threadIdx.x == 0) partials[blockIdx.x] = block;
}

}  // namespace

double sum_squares(const Tensor& t) {
  use_device(t);
  const int64_t n = t.numel();
  if (n == 0) return 0;
  const int blocks = std::min(blocks_for(n), kMaxNormBlocks);
  DeviceArray<double> partials(static_cast<size_t>(blocks));
  dispatch_floating(t.dtype(), [&]<typename T>() {
    sum_squares_kernel<T><<<blocks, kBlockSize>>>(t.data<T>(), n, partials.get());
  });
  S2S_CUDA_CHECK_LAUNCH();
  double sum = 0;
  for (double p : partials.to_host())
    sum += p;
  return sum;
}

}  // namespace s2s::cuda
