// CPU bodies of ops/pool2d.h over raw NCHW buffers. planes = N * C; each plane is h x w in, oh x ow
// out.
#pragma once

#include <cstdint>

namespace s2s::cpu {

struct PoolShape {
  int64_t planes, h, w;
  int64_t kernel, stride;
  int64_t oh, ow;
};

template <typename T>
void max_pool2d_fwd(const T* x, T* y, int32_t* argmax, const PoolShape& s);
template <typename T>
void max_pool2d_bwd(const T* dy, const int32_t* argmax, T* dx, const PoolShape& s);
template <typename T>
void avg_pool2d_fwd(const T* x, T* y, const PoolShape& s);
template <typename T>
void avg_pool2d_bwd(const T* dy, T* dx, const PoolShape& s);
// plane_size = H * W.
template <typename T>
void global_avg_pool_fwd(const T* x, T* y, int64_t planes, int64_t plane_size);
template <typename T>
void global_avg_pool_bwd(const T* dy, T* dx, int64_t planes, int64_t plane_size, bool accumulate);

}  // namespace s2s::cpu
