// Warp- and block-wide reductions shared by the CUDA op bodies, and DeviceArray, an RAII device
// buffer for the small temporaries of a launch (validation flags, per-row or per-block partial
// sums). Device code; include from .cu files only.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <vector>

#include "cuda/check.h"

namespace s2s::cuda {

// A warp is 32 lanes on every architecture CUDA supports; the full mask requires every lane of
// the warp to call, so the reductions below need blockDim.x to be a multiple of 32.
constexpr int kWarpSize = 32;
constexpr unsigned kFullMask = 0xffffffffu;

struct SumOp {
  template <typename T>
  __device__ T operator()(T a, T b) const {
    return a + b;
  }
};
struct MaxOp {
  template <typename T>
  __device__ T operator()(T a, T b) const {
    return a > b ? a : b;
  }
};

template <typename T, typename Op>
__device__ T warp_reduce(T value, Op op) {
  // Butterfly (xor) shuffles: after log2(32) = 5 rounds every lane holds the full result.
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2)
    value = op(value, __shfl_xor_sync(kFullMask, value, offset));
  return value;
}

// Reduces one value per thread over the whole block; every thread gets the result. Every
// thread of the block must call it (it synchronises), blockDim.x a multiple of 32 and <= 1024
// (so at most 32 warps: one partial per lane of the final warp reduction). Safe to call
// repeatedly: the first barrier keeps a call from overwriting partials a previous call's
// threads may still be reading.
template <typename T, typename Op>
__device__ T block_reduce(T value, Op op, T identity) {
  __shared__ T partial[kWarpSize];
  const int lane = threadIdx.x % kWarpSize, warp = threadIdx.x / kWarpSize;
  value = warp_reduce(value, op);
  __syncthreads();
  if (lane == 0) partial[warp] = value;
  __syncthreads();
  const int warps = blockDim.x / kWarpSize;
  return warp_reduce(lane < warps ? partial[lane] : identity, op);
}

// A device buffer of n elements of T on the current device, freed (without throwing) on scope
// exit. cudaFree synchronises the device, which these short-lived temporaries can afford until
// the caching allocator lands (issue 7).
template <typename T>
class DeviceArray {
 public:
  explicit DeviceArray(size_t n) : n_(n) {
    if (n_) S2S_CUDA_CHECK(cudaMalloc(&ptr_, n_ * sizeof(T)));
  }
  ~DeviceArray() {
    if (ptr_) S2S_CUDA_CHECK_NOTHROW(cudaFree(ptr_));
  }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;

  T* get() const { return ptr_; }
  void fill_bytes(int byte) { S2S_CUDA_CHECK(cudaMemset(ptr_, byte, n_ * sizeof(T))); }
  std::vector<T> to_host() const {  // synchronous with respect to the host
    std::vector<T> out(n_);
    if (n_) S2S_CUDA_CHECK(cudaMemcpy(out.data(), ptr_, n_ * sizeof(T), cudaMemcpyDeviceToHost));
    return out;
  }

 private:
  T* ptr_ = nullptr;
  size_t n_ = 0;
};

}  // namespace s2s::cuda
