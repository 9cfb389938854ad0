// CPU pooling: direct loops over each plane (pooling is memory-bound and cheap beside the convs).
#include "seq2seq/cpu/pool2d_cpu.h"

#include <algorithm>

#include "seq2seq/cpu/eigen_maps.h"

namespace s2s::cpu {

template <typename T>
void max_pool2d_fwd(const T* x, T* y, int32_t* argmax, const PoolShape& s) {
  for (int64_t q = 0; q < s.planes; ++q) {
    const T* plane = x + q * s.h * s.w;
    for (int64_t i = 0; i < s.oh; ++i)
      for (int64_t j = 0; j < s.ow; ++j) {
        int64_t best = i * s.stride * s.w + j * s.stride;
        for (int64_t u = 0; u < s.kernel; ++u)
          for (int64_t v = 0; v < s.kernel; ++v) {
            const int64_t at = (i * s.stride + u) * s.w + j * s.stride + v;
            if (plane[at] > plane[best]) best = at;  // strict: the first maximum wins ties
          }
        const int64_t out = (q * s.oh + i) * s.ow + j;
        y[out] = plane[best];
        argmax[out] = static_cast<int32_t>(best);
      }
  }
}

template <typename T>
void max_pool2d_bwd(const T* dy, const int32_t* argmax, T* dx, const PoolShape& s) {
  std::fill(dx, dx + s.planes * s.h * s.w, T(0));
  const int64_t per_plane = s.oh * s.ow;
  for (int64_t q = 0; q < s.planes; ++q)
    for (int64_t k = 0; k < per_plane; ++k)
      dx[q * s.h * s.w + argmax[q * per_plane + k]] += dy[q * per_plane + k];
}

template <typename T>
void avg_pool2d_fwd(const T* x, T* y, const PoolShape& s) {
  const T scale = T(1) / static_cast<T>(s.kernel * s.kernel);
  for (int64_t q = 0; q < s.planes; ++q) {
    const T* plane = x + q * s.h * s.w;
    for (int64_t i = 0; i < s.oh; ++i)
      for (int64_t j = 0; j < s.ow; ++j) {
        T sum = 0;
        for (int64_t u = 0; u < s.kernel; ++u)
          for (int64_t v = 0; v < s.kernel; ++v)
            sum += plane[(i * s.stride + u) * s.w + j * s.stride + v];
        y[(q * s.oh + i) * s.ow + j] = sum * scale;
      }
  }
}

template <typename T>
void avg_pool2d_bwd(const T* dy, T* dx, const PoolShape& s) {
  std::fill(dx, dx + s.planes * s.h * s.w, T(0));
  const T scale = T(1) / static_cast<T>(s.kernel * s.kernel);
  for (int64_t q = 0; q < s.planes; ++q) {
    T* plane = dx + q * s.h * s.w;
    for (int64_t i = 0; i < s.oh; ++i)
      for (int64_t j = 0; j < s.ow; ++j) {
        const T g = dy[(q * s.oh + i) * s.ow + j] * scale;
        for (int64_t u = 0; u < s.kernel; ++u)
          for (int64_t v = 0; v < s.kernel; ++v)
            plane[(i * s.stride + u) * s.w + j * s.stride + v] += g;
      }
  }
}

template <typename T>
void global_avg_pool_fwd(const T* x, T* y, int64_t planes, int64_t plane_size) {
  for (int64_t q = 0; q < planes; ++q)
    y[q] = ConstVec<T>(x + q * plane_size, plane_size).mean();
}

template <typename T>
void global_avg_pool_bwd(const T* dy, T* dx, int64_t planes, int64_t plane_size, bool accumulate) {
  const T scale = T(1) / static_cast<T>(plane_size);
  for (int64_t q = 0; q < planes; ++q) {
    Vec<T> out(dx + q * plane_size, plane_size);
    if (accumulate)
      out += dy[q] * scale;
    else
      out.setConstant(dy[q] * scale);
  }
}

#define S2S_INSTANTIATE(T)                                                         \
  template void max_pool2d_fwd<T>(const T*, T*, int32_t*, const PoolShape&);       \
  template void max_pool2d_bwd<T>(const T*, const int32_t*, T*, const PoolShape&); \
  template void avg_pool2d_fwd<T>(const T*, T*, const PoolShape&);                 \
  template void avg_pool2d_bwd<T>(const T*, T*, const PoolShape&);                 \
  template void global_avg_pool_fwd<T>(const T*, T*, int64_t, int64_t);            \
  template void global_avg_pool_bwd<T>(const T*, T*, int64_t, int64_t, bool);
S2S_INSTANTIATE(float)
S2S_INSTANTIATE(double)
#undef S2S_INSTANTIATE

}  // namespace s2s::cpu
