// Hypothesis: one output sequence of a search, as greedy decoding and beam search return it.
#pragma once

#include <cstdint>
#include <vector>

namespace s2s {

struct Hypothesis {
  std::vector<int32_t> tokens;         // the output, without BOS and EOS
  std::vector<float> token_log_probs;  // log P(y_u | y_<u, x) per token, then EOS's
  double log_prob = 0;                 // log P(tokens, EOS | source): the sum of token_log_probs
  double score = 0;                    // what the search ranked by: log_prob / lp(|y|) + cp(x; y)
  bool finished = false;  // the model chose EOS; false: EOS was forced by the length limit
  // Attention weights over the source per entry of token_log_probs (kept only on request).
  std::vector<std::vector<float>> attention;
};

}  // namespace s2s
