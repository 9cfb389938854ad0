// ReplySuggester: the smart reply scorer (Kannan et al. 2016). A message -> reply model scores a
// fixed response set by beam search constrained to the trie of the responses' pieces, which
// ranks them by log P(response | message) while expanding shared prefixes once; then at most one
// suggestion per intent cluster (diversity) and a threshold on the best score (triggering).
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
  int beam = 32;                    // hypotheses kept per step of the trie search (>= candidates)
  int candidates = 32;              // responses ranked per message before the diversity step
  bool diverse = true;              // at most one suggestion per cluster
  double threshold = -1e30;         // no suggestions when the best log-probability is below it
  int64_t max_source_length = 256;  // message pieces kept (the rest is cut)
  int64_t batch_size = 64;          // messages per search batch
};

struct Suggestion {
  int response = -1;  // index into the response set
  double score = 0;   // log P(response | message)
};

struct ReplyResult {
  std::vector<Suggestion> ranked;       // every response found, best first (before diversity)
  std::vector<Suggestion> suggestions;  // at most k, one per cluster; empty when not triggered
  bool triggered = false;
  int searched_beam = 0;  // the beam that gave an exact ranking (wider than asked when needed)
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
  TranslationModel& model_;
  std::vector<reply::Response> responses_;
  ReplyOptions options_;
  std::vector<std::vector<int32_t>> pieces_;  // per response
  std::unique_ptr<TrieConstraint> trie_;
  std::vector<int> response_of_node_;  // trie node of a complete response -> its index
};

}  // namespace s2s::cli
