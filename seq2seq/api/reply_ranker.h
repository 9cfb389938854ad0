// ReplyRanker: the smart reply scorer of one model replica (Kannan et al. 2016). A message -> reply
// model ranks a fixed response set by log P(response | message) with an exact best-first search of
// the trie of the responses' pieces (beam_search/trie_search.h), which expands shared prefixes once
// and stops as soon as the top of the ranking is certain; then at most one suggestion per intent
// cluster (diversity) and a threshold on the best score (triggering). Internal to api/:
// ReplySuggester (reply.h) runs one per replica.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "beam_search/constraint.h"
#include "reply/response_set.h"
#include "seq2seq/api/reply.h"
#include "seq2seq/api/translation_model.h"

namespace s2s::api {

class ReplyRanker {
 public:
  // The responses are encoded with the model's vocabulary; InputError naming a response that
  // encodes to nothing. options.lambda must be set (ReplySuggester reads the folder's).
  ReplyRanker(TranslationModel& model, const std::vector<reply::Response>& responses,
              ReplyOptions options);
  TranslationModel& model() { return model_; }

  // Messages in, results in the same order (batched internally), with the construction's
  // options or others (the message length limits stay the construction's).
  std::vector<ReplyResult> suggest(const std::vector<std::string>& messages) {
    return suggest(messages, options_);
  }
  std::vector<ReplyResult> suggest(const std::vector<std::string>& messages,
                                   const ReplyOptions& options);

  // Forced decoding of every response for one message: the exact ranking the trie search must
  // reproduce (tests and the speed benchmark compare the two).
  std::vector<Suggestion> score_all(const std::string& message);

  // Forced decoding of any texts for one message: log P(text | message) each, in order (a text
  // with no pieces gets -infinity). The message kNoMessage scores the texts' prior.
  std::vector<double> score_texts(const std::string& message,
                                  const std::vector<std::string>& texts);

  const std::vector<reply::Response>& responses() const { return responses_; }
  const ReplyOptions& options() const { return options_; }

 private:
  std::vector<int32_t> encode_message(const std::string& message) const;
  std::vector<Suggestion> score_all(const std::vector<int32_t>& source);
  std::vector<double> score_pieces(const std::vector<int32_t>& source,
                                   const std::vector<const std::vector<int32_t>*>& targets);

  TranslationModel& model_;
  std::vector<reply::Response> responses_;
  ReplyOptions options_;
  std::vector<std::vector<int32_t>> pieces_;  // per response
  std::unique_ptr<TrieConstraint> trie_;
  std::vector<int> response_of_node_;  // trie node of a complete response -> its index
  // log P(response | kNoMessage) per response, computed when a lambda first needs it.
  std::vector<double> prior_;
  const std::vector<double>& prior();
  // Per trie node, the score's constant -lambda log P(r) of the response ending there and the
  // largest one below it (the search's bound), for the lambda they were last made for.
  struct Bonuses {
    double lambda = 0;
    std::vector<double> end, subtree;
  };
  Bonuses bonuses_;
  const Bonuses& bonuses(double lambda);
};

}  // namespace s2s::api
