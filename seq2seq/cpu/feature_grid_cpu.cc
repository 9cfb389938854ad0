// CPU feature grid: a transpose [N, D, S] -> [S, N, D] with the position vectors added on the way.
#include "seq2seq/cpu/feature_grid_cpu.h"

namespace s2s::cpu {

template <typename T>
void feature_grid_fwd(const T* x, const T* row, const T* col, int64_t n, int64_t d, int64_t h,
                      int64_t w, T* out) {
  const int64_t s = h * w;
  for (int64_t i = 0; i < h; ++i)
    for (int64_t j = 0; j < w; ++j) {
      const int64_t cell = i * w + j;
      for (int64_t b = 0; b < n; ++b) {
        T* o = out + (cell * n + b) * d;
        const T* xs = x + b * d * s + cell;  // x[b, k, i, j] = xs[k * s]
        for (int64_t k = 0; k < d; ++k)
          o[k] = xs[k * s] + row[i * d + k] + col[j * d + k];
      }
    }
}

template <typename T>
void feature_grid_bwd(const T* dout, int64_t n, int64_t d, int64_t h, int64_t w, T* dx, T* drow,
                      T* dcol) {
  const int64_t s = h * w;
  for (int64_t i = 0; i < h; ++i)
    for (int64_t j = 0; j < w; ++j) {
      const int64_t cell = i * w + j;
      for (int64_t b = 0; b < n; ++b) {
        const T* g = dout + (cell * n + b) * d;
        T* xs = dx + b * d * s + cell;
        for (int64_t k = 0; k < d; ++k) {
          xs[k * s] = g[k];
          drow[i * d + k] += g[k];
          dcol[j * d + k] += g[k];
        }
      }
    }
}

template void feature_grid_fwd<float>(const float*, const float*, const float*, int64_t, int64_t,
                                      int64_t, int64_t, float*);
template void feature_grid_fwd<double>(const double*, const double*, const double*, int64_t,
                                       int64_t, int64_t, int64_t, double*);
template void feature_grid_bwd<float>(const float*, int64_t, int64_t, int64_t, int64_t, float*,
                                      float*, float*);
template void feature_grid_bwd<double>(const double*, int64_t, int64_t, int64_t, int64_t, double*,
                                       double*, double*);

}  // namespace s2s::cpu
