// lstm_cell: the fused per-timestep LSTM gate math (forward and backward), and the two small ops
// that move a direction's hidden states into and out of a layer's [T, B, D] output.
// Gate order and weight layout: seq2seq/lstm_layout.h. The GEMMs around these ops are the layer's.
#pragma once

#include <cstdint>

#include "seq2seq/tensor.h"

namespace s2s::ops {

// One LSTM step over a batch, in one pass: sigmoid/tanh are evaluated once per element.
//   gates:  [B, 4H] in: pre-activations x·w_ih^T + h_prev·w_hh^T (+ b, unless bias is given);
//                   out: the activations (i, f, g, o), which lstm_cell_bwd reads. Rows whose mask
//                   is 0 are left as they were.
//   bias:   [4H] or undefined; added to the pre-activations in the same pass (saves the layer a
//           separate pass over [T, B, 4H])
//   c_prev: [B, H]
//   h_prev: [B, H]
//   mask:   [B] or undefined (all real); 0 = padding, anything else = a real token. A padded row
//           carries its state through: c = c_prev, h = h_prev.
//   c:      [B, H] out, the new cell state
//   h:      [B, H] out, the new hidden state
// All one floating dtype, on one device; c and h must not overlap the inputs.
void lstm_cell_fwd(Tensor& gates, const Tensor& bias, const Tensor& c_prev, const Tensor& h_prev,
                   const Tensor& mask, Tensor& c, Tensor& h);

// The gradients of one step, from what lstm_cell_fwd left behind.
//   gates:    [B, 4H] the activations written by lstm_cell_fwd
//   c_prev:   [B, H]
//   c:        [B, H] the cell state lstm_cell_fwd wrote
//   mask:     [B] or undefined, as in lstm_cell_fwd
//   dh:       [B, H] total gradient into h (from the output and from step t+1)
//   dc:       [B, H] gradient into c from step t+1, or undefined (zero: the last step)
//   dgates:   [B, 4H] out, gradient of the pre-activations (0 in padded rows); may be gates
//             (in place: the layer overwrites its activation cache with its gradient)
//   dc_prev:  [B, H] out; may be dc
//   dh_carry: [B, H] out, the part of dh_prev that skips the step: dh in padded rows, else 0;
//             may be dh; may be undefined when there is no mask (it would be all 0). The caller
//             forms dh_prev = dh_carry + dgates·w_hh with one accumulating gemm.
//   dbias:    [4H] or undefined; when given, dbias += the column sums of dgates. Summing here,
//             while each row is in L1, spares the layer a pass over [T * B, 4H] (a column
//             reduction that strides through memory).
void lstm_cell_bwd(const Tensor& gates, const Tensor& c_prev, const Tensor& c, const Tensor& mask,
                   const Tensor& dh, const Tensor& dc, Tensor& dgates, Tensor& dc_prev,
                   Tensor& dh_carry, Tensor& dbias);

// Writes one direction's hidden states into columns [column, column + H) of a layer output,
// zeros at padded positions (so nothing past a sequence's end leaks out).
//   h:    [T, B, H]
//   mask: [T, B] or undefined
//   out:  [T, B, D], D >= column + H
void lstm_output_fwd(const Tensor& h, const Tensor& mask, Tensor& out, int64_t column);

// The gradient of lstm_output_fwd: dh = d_out[..., column:column + H], 0 at padded positions.
//   d_out: [T, B, D]
//   mask:  [T, B] or undefined
//   dh:    [T, B, H] out
void lstm_output_bwd(const Tensor& d_out, const Tensor& mask, int64_t column, Tensor& dh);

}  // namespace s2s::ops
