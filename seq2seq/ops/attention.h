// attention: one decoder step of masked attention over an encoder memory, batched over B
// sentences. Keys arrive already projected (the Attention layer projects them once per batch),
// so a step costs O(S*B*D) and search can reuse the projection across steps.
#pragma once

#include <cstdint>

#include "seq2seq/tensor.h"

namespace s2s::ops {

enum class AttentionKind : uint8_t {
  general,   // Luong "general": score[b, s] = <query[b], keys[s, b]>
  additive,  // Bahdanau: score[b, s] = <v, tanh(keys[s, b] + query[b])>
};
const char* attention_kind_name(AttentionKind kind);  // "general", "additive"

// weights[b, :] = softmax of score[b, :] over the real positions (mask != 0); padded positions
// get weight exactly 0 and are never read, so padded keys and values may hold anything, NaN
// included. context[b, :] = sum_s weights[b, s] * values[s, b, :]. Every mask column needs a
// real position, else InvalidArgument. All tensors: one floating dtype, one device.
//   keys:   [S, B, D]
//   query:  [B, D]
//   v:      [D] (additive); undefined (general)
//   values: [S, B, Dv]
//   mask:   [S, B], 1 real / 0 padding
//   weights:[B, S]   (out)
//   context:[B, Dv]  (out)
void attention_fwd(AttentionKind kind, const Tensor& keys, const Tensor& query, const Tensor& v,
                   const Tensor& values, const Tensor& mask, Tensor& weights, Tensor& context);

// Gradients of attention_fwd, ACCUMULATED into dkeys, dquery, dv and dvalues (the caller zeroes
// them): keys and values are shared by every decoder step, so a teacher-forced pass sums all
// steps into one buffer without temporaries. Additive kind recomputes tanh(keys + query) here
// instead of caching it from forward: that saves an [S, B, D] tensor per decoder step for the
// price of one tanh per element. Padded positions receive exactly zero gradient.
//   weights:  [B, S], as attention_fwd returned them
//   dcontext: [B, Dv]
//   dweights: [B, S] gradient flowing into the weights directly (coverage, alignment losses);
//             undefined when there is none
//   dkeys:    [S, B, D]    (accumulated)
//   dquery:   [B, D]       (accumulated)
//   dv:       [D]          (accumulated; additive only, undefined for general)
//   dvalues:  [S, B, Dv]   (accumulated)
void attention_bwd(AttentionKind kind, const Tensor& keys, const Tensor& query, const Tensor& v,
                   const Tensor& values, const Tensor& mask, const Tensor& weights,
                   const Tensor& dcontext, const Tensor& dweights, Tensor& dkeys, Tensor& dquery,
                   Tensor& dv, Tensor& dvalues);

}  // namespace s2s::ops
