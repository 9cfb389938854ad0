// CPU dropout: element i keeps with probability 1-p by the counter-based draw first_counter + i.
#include "seq2seq/cpu/dropout_cpu.h"

#include "seq2seq/random.h"

namespace s2s::cpu {

template <typename T>
void dropout_fwd(int64_t n, const T* x, double p, uint64_t seed, uint64_t first_counter, T* mask,
                 T* y) {
  const T keep_scale = static_cast<T>(1.0 / (1.0 - p));
  for (int64_t i = 0; i < n; ++i) {
    mask[i] = uniform_at(seed, first_counter + static_cast<uint64_t>(i)) < p ? T(0) : keep_scale;
    y[i] = x[i] * mask[i];
  }
}

template <typename T>
void dropout_bwd(int64_t n, const T* dy, const T* mask, T* dx) {
  for (int64_t i = 0; i < n; ++i)
    dx[i] = dy[i] * mask[i];
}

template void dropout_fwd<float>(int64_t, const float*, double, uint64_t, uint64_t, float*, float*);
template void dropout_fwd<double>(int64_t, const double*, double, uint64_t, uint64_t, double*,
                                  double*);
template void dropout_bwd<float>(int64_t, const float*, const float*, float*);
template void dropout_bwd<double>(int64_t, const double*, const double*, double*);

}  // namespace s2s::cpu
