// CPU bodies of ops/feature_grid.h: n images, d features, an h x w grid.
#pragma once

#include <cstdint>

namespace s2s::cpu {

template <typename T>
void feature_grid_fwd(const T* x, const T* row, const T* col, int64_t n, int64_t d, int64_t h,
                      int64_t w, T* out);
template <typename T>
void feature_grid_bwd(const T* dout, int64_t n, int64_t d, int64_t h, int64_t w, T* dx, T* drow,
                      T* dcol);

}  // namespace s2s::cpu
