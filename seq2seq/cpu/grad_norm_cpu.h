// CPU body of ops/grad_norm.h over raw buffers.
#pragma once

#include <cstdint>

namespace s2s::cpu {

// sum of x[i]^2 over n elements, accumulated in double.
template <typename T>
double sum_squares(const T* x, int64_t n);

}  // namespace s2s::cpu
