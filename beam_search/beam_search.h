// Beam search over the joint probability (DESIGN.md "Search"). Every live hypothesis of every
// sentence of a batch advances in one decoder step; each sentence then keeps its best candidates
// among beam x vocabulary by partial selection. A hypothesis that emits EOS is final; a sentence
// whose beam is full of final hypotheses, or whose final hypotheses can no longer be beaten,
// leaves the batch, and the decoder state shrinks with it. Memory and attention keys are computed
// once per sentence (Decoder::start) and only re-gathered when the set of live sentences changes.
//
// Score (GNMT, Wu et al. 2016): log P(y|x) / lp(y) + cp(x; y) with
//   lp(y)    = ((5 + |y|) / 6)^alpha        |y| counts the output tokens and EOS
//   cp(x; y) = beta * sum_i log(min(sum_j a_ij, 1))   i over source positions, j over output steps
// alpha = beta = 0 ranks by the raw joint log-probability, and then the search is exact once the
// beam is as wide as the hypothesis space: the stopping rule only drops hypotheses that provably
// cannot beat the n-best already found (log-probabilities only fall as a hypothesis grows).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "beam_search/constraint.h"
#include "beam_search/hypothesis.h"
#include "seq2seq/model/decoder.h"

namespace s2s {

struct BeamSearchOptions {
  int beam_size = 5;               // K: live hypotheses per sentence
  int n_best = 1;                  // hypotheses returned per sentence (<= K)
  double length_penalty = 0.6;     // alpha; 0 = none
  double coverage_penalty = 0.0;   // beta; 0 = none
  double max_length_factor = 2.0;  // at most factor * source length + max_length_add tokens,
  int64_t max_length_add = 10;     // then EOS is forced
  int64_t min_length = 0;          // EOS is not allowed before this many tokens
  bool keep_attention = false;     // fill Hypothesis::attention (alignment output)
  int32_t bos_id = 2;
  int32_t eos_id = 3;
  int32_t pad_id = 0;  // never emitted (nor BOS)
};

// One member of an ensemble: a decoder and the memory its encoder produced for the batch. All
// members share the target vocabulary; their log-probabilities are averaged step by step.
// Attention (coverage penalty, alignment) comes from the first member.
struct SearchModel {
  Decoder* decoder;
  const Memory* memory;
};

// GNMT's length normalisation ((5 + length) / 6)^alpha.
double length_penalty(int64_t length, double alpha);

// Returns, per sentence of the batch, up to n_best hypotheses, best first (ties: the one found
// earlier, then the lower token ids). A sentence gets fewer (possibly none) only when the
// constraint leaves fewer complete sequences. source_lengths: real tokens per batch column.
//
// pruned_bounds, if given, receives per sentence the highest raw log-probability of any
// hypothesis the beam let go unexplored (-inf: none). With alpha = beta = 0 it certifies the
// result: when the n-th best hypothesis scores at least that much, no output the search did not
// look at can beat it, so the n-best list is exactly the model's (a caller can widen the beam
// until it holds, as the reply job does).
std::vector<std::vector<Hypothesis>> beam_search(std::span<const SearchModel> models,
                                                 const std::vector<int64_t>& source_lengths,
                                                 const BeamSearchOptions& options,
                                                 const Constraint* constraint = nullptr,
                                                 std::vector<double>* pruned_bounds = nullptr);

}  // namespace s2s
