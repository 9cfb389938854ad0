// CPU relu: Eigen array expressions (vectorised).
#include "seq2seq/cpu/relu_cpu.h"

#include "seq2seq/cpu/eigen_maps.h"

namespace s2s::cpu {

template <typename T>
void relu_fwd(int64_t n, const T* x, T* y) {
  Vec<T>(y, n) = ConstVec<T>(x, n).max(T(0));
}

template <typename T>
void relu_bwd(int64_t n, const T* y, const T* dy, T* dx) {
  Vec<T>(dx, n) = (ConstVec<T>(y, n) > T(0)).select(ConstVec<T>(dy, n), T(0));
}

template void relu_fwd<float>(int64_t, const float*, float*);
template void relu_fwd<double>(int64_t, const double*, double*);
template void relu_bwd<float>(int64_t, const float*, const float*, float*);
template void relu_bwd<double>(int64_t, const double*, const double*, double*);

}  // namespace s2s::cpu
