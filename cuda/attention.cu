// CUDA bodies of ops/attention.h: one block per batch column b, as in the CPU body's outer loop.
// Scores are written straight into weights[b, :] (global, cached in L1) and normalised there,
// so forward has no limit on S. Per-position dot products use one warp per position with a
// shuffle reduction; context, dquery, dkeys and dv use one thread per feature column looping
// over positions in order (coalesced across threads, the CPU's summation order per column).
// Padded positions are never read, so garbage or NaN there cannot leak, as on the CPU.
// dv (shared by every b) is summed per block into a [B, D] scratch and then over B by a second
// kernel, so the result is deterministic (no atomics).
#include <limits>
#include <optional>

#include "cuda/launch.h"
#include "cuda/reduce.h"
#include "seq2seq/cuda_backend.h"

namespace s2s::cuda {
namespace {

// Dynamic shared memory for backward's dw[S]: the 48 KiB a block may use without opting in,
// less 2 KiB left for block_reduce's static partials. Longer memories use a global scratch.
constexpr size_t kMaxDynamicShared = 46 * 1024;

template <typename T>
__global__ void first_empty_column_kernel(const T* mask, int64_t s, int64_t b,
                                          unsigned long long* first) {
  for (int64_t j = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; j < b;
       j += int64_t{gridDim.x} * blockDim.x) {
    bool any = false;
    for (int64_t i = 0; i < s && !any; ++i)
      any = mask[i * b + j] != T(0);
    if (!any) atomicMin(first, static_cast<unsigned long long>(j));
  }
}

template <typename T>
__global__ void attention_fwd_kernel(bool additive, const T* keys, const T* query, const T* v,
                                     const T* values, const T* mask, int64_t s, int64_t b,
                                     int64_t d, int64_t dv, T* weights, T* context) {
  const int64_t j = blockIdx.x;
  const int lane = threadIdx.x % kWarpSize, warp = threadIdx.x / kWarpSize;
  const int warps = blockDim.x / kWarpSize;
  const T* q = query + j * d;
  T* w = weights + j * s;

  // Raw scores, one warp per position (the branch is uniform across the warp).
  for (int64_t i = warp; i < s; i += warps) {
    if (mask[i * b + j] == T(0)) {
      if (lane == 0) w[i] = T(0);
      continue;
    }
    const T* k = keys + (i * b + j) * d;
    T acc = 0;
    for (int64_t c = lane; c < d; c += kWarpSize)
      acc += additive ? v[c] * tanh(k[c] + q[c]) : k[c] * q[c];
    acc = warp_reduce(acc, SumOp{});
    if (lane == 0) w[i] = acc;
  }
  __syncthreads();

  // Softmax over the real positions, shifted by their maximum so exp() stays in range; the sum
  // is >= 1 (the maximum's term), and padded weights stay exactly 0.
  T local_max = -std::numeric_limits<T>::infinity();
  for (int64_t i = threadIdx.x; i < s; i += blockDim.x)
    if (mask[i * b + j] != T(0)) local_max = w[i] > local_max ? w[i] : local_max;
  const T max_score = block_reduce(local_max, MaxOp{}, -std::numeric_limits<T>::infinity());
  T local_sum = 0;
  for (int64_t i = threadIdx.x; i < s; i += blockDim.x) {
    const T e = mask[i * b + j] == T(0) ? T(0) : exp(w[i] - max_score);
    w[i] = e;
    local_sum += e;
  }
  const T inv_sum = T(1) / block_reduce(local_sum, SumOp{}, T(0));
  for (int64_t i = threadIdx.x; i < s; i += blockDim.x)
    w[i] *= inv_sum;
  __syncthreads();

  for (int64_t c = threadIdx.x; c < dv; c += blockDim.x) {
    T acc = 0;
    for (int64_t i = 0; i < s; ++i)
      if (mask[i * b + j] != T(0)) acc += w[i] * values[(i * b + j) * dv + c];
    context[j * dv + c] = acc;
  }
}

// dw_global: [B, S] scratch when S is too long for shared memory, else null (shared is used).
// dv_partial: [B, D], this block's sum over positions of d(score)/d(v); additive only.
template <typename T>
__global__ void attention_bwd_kernel(bool additive, const T* keys, const T* query, const T* v,
                                     const T* values, const T* mask, const T* weights,
                                     const T* dcontext, const T* dweights, int64_t s, int64_t b,
                                     int64_t d, int64_t dv, T* dkeys, T* dquery, T* dv_partial,
                                     T* dvalues, T* dw_global) {
  extern __shared__ __align__(sizeof(double)) unsigned char shared_bytes[];
  const int64_t j = blockIdx.x;
  const int lane = threadIdx.x % kWarpSize, warp = threadIdx.x / kWarpSize;
  const int warps = blockDim.x / kWarpSize;
  T* dw = dw_global ? dw_global + j * s : reinterpret_cast<T*>(shared_bytes);
  const T* w = weights + j * s;
  const T* dc = dcontext + j * dv;

  // The gradient reaching each weight: <dcontext, values[i]> (+ dweights), a warp per position.
  for (int64_t i = warp; i < s; i += warps) {
    if (mask[i * b + j] == T(0)) {
      if (lane == 0) dw[i] = T(0);
      continue;
    }
    const T* val = values + (i * b + j) * dv;
    T acc = 0;
    for (int64_t c = lane; c < dv; c += kWarpSize)
      acc += dc[c] * val[c];
    acc = warp_reduce(acc, SumOp{});
    if (lane == 0) dw[i] = acc + (dweights ? dweights[j * s + i] : T(0));
  }
  __syncthreads();

  // Softmax backward, in place: dw[i] becomes dscore[i] = w[i] * (dw[i] - <w, dw>). Each thread
  // rewrites only the entries it read, and block_reduce's barriers order the reads before.
  T local = 0;
  for (int64_t i = threadIdx.x; i < s; i += blockDim.x)
    if (mask[i * b + j] != T(0)) local += w[i] * dw[i];
  const T w_dot_dw = block_reduce(local, SumOp{}, T(0));
  for (int64_t i = threadIdx.x; i < s; i += blockDim.x)
    dw[i] = mask[i * b + j] == T(0) ? T(0) : w[i] * (dw[i] - w_dot_dw);
  __syncthreads();

  // dvalues[i, b, :] += w[i] * dcontext[b, :], flat over (i, c) so writes are coalesced.
  for (int64_t idx = threadIdx.x; idx < s * dv; idx += blockDim.x) {
    const int64_t i = idx / dv, c = idx % dv;
    if (mask[i * b + j] != T(0)) dvalues[(i * b + j) * dv + c] += w[i] * dc[c];
  }

  // Per feature column k: dkeys (one term each), dquery and dv (sums over positions).
  for (int64_t k = threadIdx.x; k < d; k += blockDim.x) {
    const T qk = query[j * d + k];
    const T vk = additive ? v[k] : T(0);
    T dq = 0, dvk = 0;
    for (int64_t i = 0; i < s; ++i) {
      if (mask[i * b + j] == T(0)) continue;
      const T ds = dw[i];
      const int64_t at = (i * b + j) * d + k;
      if (additive) {
        const T t = tanh(keys[at] + qk);
        dvk += ds * t;
        const T dpre = ds * vk * (T(1) - t * t);
        dkeys[at] += dpre;
        dq += dpre;
      } else {
        dq += ds * keys[at];
        dkeys[at] += ds * qk;
      }
    }
    dquery[j * d + k] += dq;
    if (additive) dv_partial[j * d + k] = dvk;
  }
}

// out[c] += sum over rows r of partial[r, c], rows in order (deterministic).
template <typename T>
__global__ void column_sum_add_kernel(const T* partial, int64_t rows, int64_t cols, T* out) {
  for (int64_t c = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; c < cols;
       c += int64_t{gridDim.x} * blockDim.x) {
    T sum = 0;
    for (int64_t r = 0; r < rows; ++r)
      sum += partial[r * cols + c];
    out[c] += sum;
  }
}

template <typename T>
const T* data_or_null(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

}  // namespace

int64_t first_empty_column(const Tensor& mask) {
  use_device(mask);
  const int64_t s = mask.dim(0), b = mask.dim(1);
  if (b == 0) return -1;
  DeviceArray<unsigned long long> first(1);
  first.fill_bytes(0xff);  // ULLONG_MAX: no empty column yet
  dispatch_floating(mask.dtype(), [&]<typename T>() {
    first_empty_column_kernel<T><<<blocks_for(b), kBlockSize>>>(mask.data<T>(), s, b, first.get());
  });
  S2S_CUDA_CHECK_LAUNCH();
  const unsigned long long col = first.to_host()[0];
  return col == std::numeric_limits<unsigned long long>::max() ? -1 : static_cast<int64_t>(col);
}

void attention_fwd(bool additive, const Tensor& keys, const Tensor& query, const Tensor& v,
                   const Tensor& values, const Tensor& mask, Tensor& weights, Tensor& context) {
  use_device(keys);
  const int64_t s = keys.dim(0), b = keys.dim(1), d = keys.dim(2), dv = values.dim(2);
  if (b == 0) return;
  dispatch_floating(keys.dtype(), [&]<typename T>() {
    attention_fwd_kernel<T><<<static_cast<unsigned>(b), kBlockSize>>>(
        additive, keys.data<T>(), query.data<T>(), data_or_null<T>(v), values.data<T>(),
        mask.data<T>(), s, b, d, dv, weights.data<T>(), context.data<T>());
  });
  S2S_CUDA_CHECK_LAUNCH();
}

void attention_bwd(bool additive, const Tensor& keys, const Tensor& query, const Tensor& v,
                   const Tensor& values, const Tensor& mask, const Tensor& weights,
                   const Tensor& dcontext, const Tensor& dweights, Tensor& dkeys, Tensor& dquery,
                   Tensor& dv, Tensor& dvalues) {
  use_device(keys);
  const int64_t s = keys.dim(0), b = keys.dim(1), d = keys.dim(2), dvd = values.dim(2);
  if (b == 0) return;
  dispatch_floating(keys.dtype(), [&]<typename T>() {
    const size_t dw_bytes = static_cast<size_t>(s) * sizeof(T);
    std::optional<DeviceArray<T>> dw_global, dv_partial;
    if (dw_bytes > kMaxDynamicShared) dw_global.emplace(static_cast<size_t>(b * s));
    if (additive) dv_partial.emplace(static_cast<size_t>(b * d));
    attention_bwd_kernel<T><<<static_cast<unsigned>(b), kBlockSize, dw_global ? 0 : dw_bytes>>>(
        additive, keys.data<T>(), query.data<T>(), data_or_null<T>(v), values.data<T>(),
        mask.data<T>(), weights.data<T>(), dcontext.data<T>(), data_or_null<T>(dweights), s, b, d,
        dvd, dkeys.data<T>(), dquery.data<T>(), dv_partial ? dv_partial->get() : nullptr,
        dvalues.data<T>(), dw_global ? dw_global->get() : nullptr);
    S2S_CUDA_CHECK_LAUNCH();
    if (additive && d > 0) {
      column_sum_add_kernel<T>
          <<<blocks_for(d), kBlockSize>>>(dv_partial->get(), b, d, dv.data<T>());
      S2S_CUDA_CHECK_LAUNCH();
    }
  });
}

}  // namespace s2s::cuda
