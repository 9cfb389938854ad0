// Launch helpers shared by the CUDA op bodies: grid sizing for elementwise kernels and the
// current device of a tensor.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "cuda/check.h"
#include "seq2seq/tensor.h"

namespace s2s::cuda {

// 256 threads: a multiple of the warp size that keeps enough blocks per SM for latency hiding
// on every architecture we build for, without register pressure in the simple kernels.
constexpr int kBlockSize = 256;

// Blocks for a grid-stride loop over n elements; capped because a grid-stride loop needs no
// more than a few waves of blocks to fill the GPU.
inline int blocks_for(int64_t n) {
  return static_cast<int>(std::clamp<int64_t>((n + kBlockSize - 1) / kBlockSize, 1, 65535));
}

// Makes the tensor's device current for the launches that follow.
inline void use_device(const Tensor& t) {
  S2S_CUDA_CHECK(cudaSetDevice(t.device().index));
}

// Calls body.template operator()<T>() with T = float or double by dtype.
template <typename Body>
void dispatch_floating(DType dtype, Body&& body) {
  if (dtype == DType::f32)
    body.template operator()<float>();
  else
    body.template operator()<double>();
}

}  // namespace s2s::cuda
