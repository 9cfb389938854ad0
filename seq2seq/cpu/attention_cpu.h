// CPU bodies of ops/attention.h over raw row-major buffers. Shapes as in ops/attention.h with
// s = S, b = B, d = D, dv = Dv; v and dv_param are null for the general kind, dweights may be null.
#pragma once

#include <cstdint>

namespace s2s::cpu {

// The first mask column (batch index) without a real position, or -1 when every one has one.
template <typename T>
int64_t first_empty_column(const T* mask, int64_t s, int64_t b);

template <typename T>
void attention_fwd(bool additive, const T* keys, const T* query, const T* v, const T* values,
                   const T* mask, int64_t s, int64_t b, int64_t d, int64_t dv, T* weights,
                   T* context);
template <typename T>
void attention_bwd(bool additive, const T* keys, const T* query, const T* v, const T* values,
                   const T* mask, const T* weights, const T* dcontext, const T* dweights, int64_t s,
                   int64_t b, int64_t d, int64_t dv, T* dkeys, T* dquery, T* dv_param, T* dvalues);

}  // namespace s2s::cpu
