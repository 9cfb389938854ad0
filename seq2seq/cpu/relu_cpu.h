// CPU bodies of ops/relu.h.
#pragma once

#include <cstdint>

namespace s2s::cpu {

template <typename T>
void relu_fwd(int64_t n, const T* x, T* y);
template <typename T>
void relu_bwd(int64_t n, const T* y, const T* dy, T* dx);

}  // namespace s2s::cpu
