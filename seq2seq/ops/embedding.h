// embedding: row lookup in a table (forward) and its scatter-add gradient (backward).
#pragma once

#include <cstdint>

#include "seq2seq/ops/gemm_int8.h"
#include "seq2seq/tensor.h"

namespace s2s::ops {

// out[n, :] = table[ids[n], :], or zeros where ids[n] == pad_id. pad_id is -1 (no padding id)
// or a row of the table. Every id must lie in [0, V) (so with pad_id -1, an id -1 is an error),
// else InvalidArgument naming the id, its position and V, thrown before anything is written.
//   table: [V, E] f32/f64;  ids: [N] i32;  out: [N, E], table's dtype and device
void embedding_fwd(const Tensor& table, const Tensor& ids, Tensor& out, int32_t pad_id = -1);
// The same lookup in an int8 table (an int8 model's embeddings): out[n, :] = scales[ids[n]] *
// values[ids[n], :], f32, CPU only.
void embedding_fwd(const Int8Weight& table, const Tensor& ids, Tensor& out, int32_t pad_id = -1);
// dtable[ids[n], :] += dout[n, :] for every n with ids[n] != pad_id. Accumulates (the caller
// zeroes dtable), because one table row receives the gradient of every position using it.
//   ids: [N] i32;  dout: [N, E];  dtable: [V, E], dout's dtype and device
void embedding_bwd(const Tensor& ids, const Tensor& dout, Tensor& dtable, int32_t pad_id = -1);

}  // namespace s2s::ops
