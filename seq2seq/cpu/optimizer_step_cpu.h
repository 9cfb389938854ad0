// CPU bodies of ops/optimizer_step.h over raw buffers of n elements.
#pragma once

#include <cstdint>

#include "seq2seq/ops/optimizer_step.h"

namespace s2s::cpu {

template <typename T>
void adam_step(int64_t n, T* param, const T* grad, T* m, T* v, const ops::AdamArgs& args);

// momentum_buffer may be null (plain SGD).
template <typename T>
void sgd_step(int64_t n, T* param, const T* grad, T* momentum_buffer, const ops::SgdArgs& args);

}  // namespace s2s::cpu
