// CPU bodies of ops/log_softmax_xent.h over raw row-major buffers.
#pragma once

#include <cstdint>

#include "seq2seq/ops/log_softmax_xent.h"

namespace s2s::cpu {

// logits [n, v]; with gradient, overwritten by the scaled gradient. targets already validated.
// target_log_probs [n] or null.
template <typename T>
ops::XentSums log_softmax_xent(T* logits, const int32_t* targets, int64_t n, int64_t v,
                               const ops::XentOptions& options, bool gradient, T* target_log_probs);

// y [n, v] = log_softmax of x [n, v] per row; y may be x.
template <typename T>
void log_softmax(const T* x, T* y, int64_t n, int64_t v);

}  // namespace s2s::cpu
