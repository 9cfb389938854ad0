// CPU bodies of ops/batch_norm.h over raw NCHW buffers: n images, c channels, plane = H * W.
#pragma once

#include <cstdint>

namespace s2s::cpu {

template <typename T>
void batch_norm_fwd(const T* x, const T* gamma, const T* beta, T* running_mean, T* running_var,
                    bool training, double eps, double momentum, int64_t n, int64_t c, int64_t plane,
                    T* y, T* save_mean, T* save_inv_std);
template <typename T>
void batch_norm_bwd(const T* x, const T* dy, const T* gamma, const T* save_mean,
                    const T* save_inv_std, bool batch_stats, int64_t n, int64_t c, int64_t plane,
                    T* dx, T* dgamma, T* dbeta);

}  // namespace s2s::cpu
