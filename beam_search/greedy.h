// Greedy decoding: at every step each sentence takes its most probable next token. Batched over
// sentences; a sentence that has emitted EOS leaves the batch (the decoder state shrinks), so
// finished sentences cost nothing. It is the reference beam search (beam_search.h) must equal
// with a beam of one; the trainer's validation BLEU uses it because it is the cheapest search.
#pragma once

#include <cstdint>
#include <vector>

#include "beam_search/hypothesis.h"
#include "seq2seq/model/decoder.h"

namespace s2s {

struct GreedyOptions {
  int32_t bos_id = 2;
  int32_t eos_id = 3;
  int32_t pad_id = 0;              // never emitted (nor BOS)
  double max_length_factor = 2.0;  // output length limit: factor * source length + max_length_add
  int64_t max_length_add = 10;
};

// The output limit of a source of source_length tokens: after that many tokens EOS is forced.
int64_t output_length_limit(int64_t source_length, double factor, int64_t add);

// memory: one batch from Encoder::encode; source_lengths: real tokens per column.
std::vector<Hypothesis> greedy_decode(Decoder& decoder, const Memory& memory,
                                      const std::vector<int64_t>& source_lengths,
                                      const GreedyOptions& options);

}  // namespace s2s
