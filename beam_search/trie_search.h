// Exact best-first search of a trie of output sequences: finds the sequences of a fixed list in
// descending order of log P(sequence | source), for each sentence of a batch, without scoring
// the whole list.
//
// Why exact is cheap: every token's log-probability is <= 0, so a prefix scores at least as much
// as anything that extends it. A sequence that scores at least as much as every prefix not yet
// expanded is therefore the next best of the whole list, and can be reported before the rest of
// the trie is looked at. The search expands the best open prefixes first (several per sentence
// and decoder step, so the decoder runs on batches) and stops a sentence as soon as its caller
// has what it needs; what it reports is the ranking forced decoding of every sequence would give.
// The smart reply scorer (Kannan et al. 2016) is its user: a top 3 over 1,000 responses expands
// a small part of their trie.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "beam_search/constraint.h"
#include "seq2seq/model/decoder.h"
#include "seq2seq/model/memory.h"

namespace s2s {

struct TrieSearchOptions {
  int32_t bos_id = 2;  // Vocab::kBos
  int32_t eos_id = 3;  // Vocab::kEos: where the trie allows it, a sequence may end
  // Open prefixes expanded per sentence in one decoder step. 1 is pure best-first (fewest
  // expansions, most steps); more batches better and expands a few prefixes that pure best-first
  // would have left alone. It never changes the result.
  int expand_per_step = 8;
  // Decoder states kept (one per expanded prefix) before the pool is compacted to the ones that
  // open prefixes still start from: bounds memory for a model that expands much of the trie.
  int64_t pool_rows = 16384;
  // A constant per sequence added to its log-probability for the ranking (smart reply's
  // -lambda log P(response)), given per trie node: end_bonus[n] for the sequence ending at node n,
  // and subtree_bonus[n] >= every end_bonus below n (the search's bound for a prefix at n is its
  // log-probability plus that, so it stays exact). Both null: no constant, rank by log P.
  const std::vector<double>* end_bonus = nullptr;
  const std::vector<double>* subtree_bonus = nullptr;
};

struct TrieHit {
  Constraint::State node = 0;  // the trie node where the sequence ends (EOS allowed there)
  double log_prob = 0;         // log P(sequence, EOS | source)
  double score = 0;            // what the ranking is by: log_prob + end_bonus (if any)
};

struct TrieSearchStats {
  int64_t expansions = 0;                    // prefixes fed to the decoder (rows over all steps)
  int64_t steps = 0;                         // decoder steps
  std::vector<int64_t> sentence_expansions;  // expansions per sentence of the batch
  int64_t compactions = 0;                   // times the state pool was compacted
};

// Called each time a sentence's next best sequence is known: hits holds its sequences so far,
// best first. Return true when the sentence has enough (the search stops expanding it).
using TrieSearchEnough = std::function<bool(int64_t sentence, std::span<const TrieHit> hits)>;

// Searches memory's B sentences; result[b] is the ordered list of hits reported for sentence b,
// best score first (all of the trie's sequences if `enough` never says stop).
std::vector<std::vector<TrieHit>> trie_search(Decoder& decoder, const Memory& memory,
                                              const Constraint& trie,
                                              const TrieSearchEnough& enough,
                                              const TrieSearchOptions& options = {},
                                              TrieSearchStats* stats = nullptr);

}  // namespace s2s
