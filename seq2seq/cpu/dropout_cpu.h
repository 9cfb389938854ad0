// CPU bodies of ops/dropout.h.
#pragma once

#include <cstdint>

namespace s2s::cpu {

template <typename T>
void dropout_fwd(int64_t n, const T* x, double p, uint64_t seed, uint64_t first_counter, T* mask,
                 T* y);
template <typename T>
void dropout_bwd(int64_t n, const T* dy, const T* mask, T* dx);

}  // namespace s2s::cpu
