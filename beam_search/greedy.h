// Greedy decoding: at every step each sentence takes its most probable next token. Batched over
// sentences; a sentence that has emitted EOS leaves the batch (the decoder state shrinks), so
// finished sentences cost nothing. Beam search (beam_search.h, issue 4) generalises it.
#pragma once

#include <cstdint>
#include <vector>

#include "seq2seq/model/decoder.h"

namespace s2s {

struct GreedyOptions {
  int32_t bos_id = 2;
  int32_t eos_id = 3;
  double max_length_factor = 2.0;  // output length limit: factor * source length + max_length_add
  int64_t max_length_add = 10;
};

struct Hypothesis {
  std::vector<int32_t> tokens;  // without BOS and EOS
  double log_prob = 0;          // log P(tokens, EOS | source) under the model
  bool finished = false;        // emitted EOS before the length limit
};

// memory: one batch from Encoder::encode; source_lengths: real tokens per column.
std::vector<Hypothesis> greedy_decode(Decoder& decoder, const Memory& memory,
                                      const std::vector<int64_t>& source_lengths,
                                      const GreedyOptions& options);

}  // namespace s2s
