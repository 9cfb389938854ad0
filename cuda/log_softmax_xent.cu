// CUDA bodies of ops/log_softmax_xent.h: one block per row, three passes over the row as on the
// CPU (max and raw sum; exp and sum of exp; gradient), the row staying in L2 between passes.
// exp runs in the logits' precision; each thread accumulates its sums in double and the block
// combines them in double, so a 32k-term row keeps the digits perplexity needs. Each row's
// (loss, nll, token) goes to a device buffer that the host copies back and sums in row order,
// the CPU's order, so the returned XentSums match the CPU's to rounding.
#include <cmath>
#include <limits>

#include "cuda/launch.h"
#include "cuda/reduce.h"
#include "seq2seq/cuda_backend.h"

namespace s2s::cuda {
namespace {

// 512 threads per row: rows are long (V in the thousands to 32k), so more threads per block keep
// more loads in flight per row; a multiple of 32 and <= 1024 as block_reduce requires.
constexpr int kRowThreads = 512;
// Per row of the result buffer: loss, nll, and 1 for a counted token (0 on a padding row).
constexpr int kRowSums = 3;

// targets were validated by the front end: each is pad_id or in [0, v).
template <typename T>
__global__ void log_softmax_xent_kernel(T* logits, const int32_t* targets, int64_t v, double eps,
                                        double scale, int32_t pad_id, bool gradient,
                                        double* row_sums, T* target_log_probs) {
  const int64_t row = blockIdx.x;
  T* x = logits + row * v;
  const int32_t target = targets[row];
  if (target == pad_id) {  // uniform across the block: no barrier is skipped by some threads only
    if (gradient)
      for (int64_t c = threadIdx.x; c < v; c += blockDim.x)
        x[c] = T(0);
    if (threadIdx.x == 0) {
      row_sums[row * kRowSums + 0] = 0;
      row_sums[row * kRowSums + 1] = 0;
      row_sums[row * kRowSums + 2] = 0;
      if (target_log_probs) target_log_probs[row] = T(0);
    }
    return;
  }
  // Read before the first barrier: pass 2 may overwrite x[target] with its exp.
  const T x_target = x[target];

  T local_max = -std::numeric_limits<T>::infinity();
  double local_raw = 0;
  for (int64_t c = threadIdx.x; c < v; c += blockDim.x) {
    const T xc = x[c];
    local_max = xc > local_max ? xc : local_max;
    local_raw += static_cast<double>(xc);
  }
  const T max = block_reduce(local_max, MaxOp{}, -std::numeric_limits<T>::infinity());
  const double raw_sum = eps > 0 ? block_reduce(local_raw, SumOp{}, 0.0) : 0.0;

  double local_exp = 0;
  for (int64_t c = threadIdx.x; c < v; c += blockDim.x) {
    const T e = exp(x[c] - max);
    if (gradient) x[c] = e;
    local_exp += static_cast<double>(e);
  }
  const double sum_exp = block_reduce(local_exp, SumOp{}, 0.0);

  // Everything relative to max, so large logits lose no precision to the shift.
  const double log_sum = log(sum_exp);
  const double nll = log_sum - (static_cast<double>(x_target) - static_cast<double>(max));
  if (threadIdx.x == 0) {
    const double shifted_mean = eps > 0 ? raw_sum / static_cast<double>(v) - max : 0.0;
    row_sums[row * kRowSums + 0] = (1 - eps) * nll + eps * (log_sum - shifted_mean);
    row_sums[row * kRowSums + 1] = nll;
    row_sums[row * kRowSums + 2] = 1;
    if (target_log_probs) target_log_probs[row] = static_cast<T>(-nll);
  }
  if (gradient) {
    // d loss_row / d x_c = p_c - eps / V - (1 - eps) [c == target], times scale. Each thread
    // updates only the entries it wrote in pass 2, so no barrier is needed in between.
    const T mul = static_cast<T>(scale / sum_exp);
    const T sub = static_cast<T>(scale * eps / static_cast<double>(v));
    const T target_sub = static_cast<T>(scale * (1 - eps));
    for (int64_t c = threadIdx.x; c < v; c += blockDim.x) {
      T g = x[c] * mul - sub;
      if (c == target) g -= target_sub;
      x[c] = g;
    }
  }
}

// y = x - max - log(sum exp(x - max)) per row; y may be x (each thread reads and writes only its
// own entries in the last pass).
template <typename T>
__global__ void log_softmax_kernel(const T* x_all, T* y_all, int64_t v) {
  const int64_t row = blockIdx.x;
  const T* x = x_all + row * v;
  T* y = y_all + row * v;
  T local_max = -std::numeric_limits<T>::infinity();
  for (int64_t c = threadIdx.x; c < v; c += blockDim.x)
    local_max = x[c] > local_max ? x[c] : local_max;
  const T max = block_reduce(local_max, MaxOp{}, -std::numeric_limits<T>::infinity());
  double local_exp = 0;
  for (int64_t c = threadIdx.x; c < v; c += blockDim.x)
    local_exp += static_cast<double>(exp(x[c] - max));
  const T log_sum = static_cast<T>(log(block_reduce(local_exp, SumOp{}, 0.0)));
  for (int64_t c = threadIdx.x; c < v; c += blockDim.x)
    y[c] = (x[c] - max) - log_sum;
}

}  // namespace

ops::XentSums log_softmax_xent(Tensor& logits, const Tensor& targets,
                               const ops::XentOptions& options, bool gradient,
                               Tensor* target_log_probs) {
  use_device(logits);
  const int64_t n = logits.dim(0), v = logits.dim(1);
  ops::XentSums sums;
  if (n == 0) return sums;
  DeviceArray<double> row_sums(static_cast<size_t>(n * kRowSums));
  dispatch_floating(logits.dtype(), [&]<typename T>() {
    log_softmax_xent_kernel<T><<<static_cast<unsigned>(n), kRowThreads>>>(
        logits.data<T>(), targets.data<int32_t>(), v, options.label_smoothing, options.grad_scale,
        options.pad_id, gradient, row_sums.get(),
        target_log_probs ? target_log_probs->data<T>() : nullptr);
  });
  S2S_CUDA_CHECK_LAUNCH();
  const std::vector<double> host = row_sums.to_host();
  for (int64_t i = 0; i < n; ++i) {
    sums.loss += host[i * kRowSums + 0];
    sums.nll += host[i * kRowSums + 1];
    sums.tokens += static_cast<int64_t>(host[i * kRowSums + 2]);
  }
  return sums;
}

void log_softmax(const Tensor& x, Tensor& y) {
  use_device(x);
  const int64_t n = x.dim(0), v = x.dim(1);
  if (n == 0 || v == 0) return;
  dispatch_floating(x.dtype(), [&]<typename T>() {
    log_softmax_kernel<T><<<static_cast<unsigned>(n), kRowThreads>>>(x.data<T>(), y.data<T>(), v);
  });
  S2S_CUDA_CHECK_LAUNCH();
}

}  // namespace s2s::cuda
