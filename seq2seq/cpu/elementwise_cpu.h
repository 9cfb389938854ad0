// CPU bodies of ops/elementwise.h over raw buffers, for other CPU bodies to call directly.
#pragma once

#include <cstdint>

namespace s2s::cpu {

template <typename T>
void add_bias(T* x, const T* bias, int64_t rows, int64_t d);
template <typename T>
void bias_grad(const T* dy, T* dbias, int64_t rows, int64_t d, bool accumulate);
template <typename T>
void axpy(int64_t n, T alpha, const T* x, T* y);
template <typename T>
void scale(int64_t n, T alpha, T* x);
template <typename T>
void tanh_fwd(int64_t n, const T* x, T* y);
template <typename T>
void tanh_bwd(int64_t n, const T* y, const T* dy, T* dx, bool accumulate);

}  // namespace s2s::cpu
