// ReplySuggester: the smart reply scorer (Kannan et al. 2016). A message -> reply model ranks a
// fixed response set by log P(response | message) with an exact best-first search of the trie of
// the responses' pieces (beam_search/trie_search.h), which expands shared prefixes once and
// stops as soon as the top of the ranking is certain; then at most one suggestion per intent
// cluster (diversity) and a threshold on the best score (triggering).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "beam_search/constraint.h"
#include "reply/response_set.h"
#include "seq2seq/cli/translation_model.h"

namespace s2s::cli {

struct ReplyOptions {
  int k = 3;                        // suggestions per message
  int ranked = 0;                   // rank at least this many responses (--evaluate's MRR)
  int expand_per_step = 8;          // open trie prefixes expanded per message and decoder step
  bool diverse = true;              // at most one suggestion per cluster
  double threshold = -1e30;         // no suggestions when the best log-probability is below it
  int64_t max_source_length = 256;  // message pieces kept (the rest is cut)
  int64_t batch_size = 64;          // messages per search batch
  // Rank by forced decoding of every response instead of the trie search: the same ranking at
  // the full cost (the reference the search is checked and benchmarked against).
  bool exhaustive = false;
};

struct Suggestion {
  int response = -1;  // index into the response set
  double score = 0;   // log P(response | message)
};

struct ReplyResult {
  // The best responses in exact order (as forced decoding of every response would rank them),
  // as many as the suggestions and options.ranked need; before diversity and triggering.
  std::vector<Suggestion> ranked;
  std::vector<Suggestion> suggestions;  // at most k, one per cluster; empty when not triggered
  bool triggered = false;
  int64_t expansions = 0;  // trie prefixes the search fed to the decoder for this message
};

class ReplySuggester {
 public:
  // The responses are encoded with the model's vocabulary; InputError naming a response that
  // encodes to nothing.
  ReplySuggester(TranslationModel& model, const std::vector<reply::Response>& responses,
                 ReplyOptions options);

  // Messages in, results in the same order (batched internally).
  std::vector<ReplyResult> suggest(const std::vector<std::string>& messages);

  // Forced decoding of every response for one message: the exact ranking the trie search must
  // reproduce (tests and the speed benchmark compare the two).
  std::vector<Suggestion> score_all(const std::string& message);

  const std::vector<reply::Response>& responses() const { return responses_; }
  const ReplyOptions& options() const { return options_; }

 private:
  std::vector<int32_t> encode_message(const std::string& message) const;
  std::vector<Suggestion> score_all(const std::vector<int32_t>& source);

  TranslationModel& model_;
  std::vector<reply::Response> responses_;
  ReplyOptions options_;
  std::vector<std::vector<int32_t>> pieces_;  // per response
  std::unique_ptr<TrieConstraint> trie_;
  std::vector<int> response_of_node_;  // trie node of a complete response -> its index
};

}  // namespace s2s::cli
