// CPU bodies of ops/lstm_cell.h over raw row-major buffers; pointers documented as optional may
// be null. Shapes and aliasing rules are those of the ops.
#pragma once

#include <cstdint>

namespace s2s::cpu {

template <typename T>
void lstm_cell_fwd(int64_t batch, int64_t hidden, T* gates, const T* bias, const T* c_prev,
                   const T* h_prev, const T* mask, T* c, T* h);  // bias, mask optional

template <typename T>
void lstm_cell_bwd(int64_t batch, int64_t hidden, const T* gates, const T* c_prev, const T* c,
                   const T* mask, const T* dh, const T* dc, T* dgates, T* dc_prev, T* dh_carry,
                   T* dbias);  // mask, dc, dh_carry, dbias optional

// rows = T * B; out/d_out rows are `width` long.
template <typename T>
void lstm_output_fwd(int64_t rows, int64_t hidden, const T* h, const T* mask, T* out, int64_t width,
                     int64_t column);
template <typename T>
void lstm_output_bwd(int64_t rows, int64_t hidden, const T* d_out, int64_t width, int64_t column,
                     const T* mask, T* dh);

}  // namespace s2s::cpu
