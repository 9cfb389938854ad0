// Smart reply (Kannan et al. 2016): a message -> reply model ranks a fixed response set by
// log P(response | message) with an exact trie search, keeps at most one suggestion per intent
// cluster (diversity) and suggests nothing when even the best is unlikely (triggering). What
// `s2s reply`, the Python package and the server call.
//
//   auto responses = s2s::api::read_responses("responses.tsv");
//   s2s::api::ReplySuggester suggester("runs/reply/model", responses, {.k = 3});
//   for (const ReplyResult& r : suggester.suggest({"Can we meet tomorrow?"}))
//     for (const Suggestion& s : r.suggestions) std::cout << responses[s.response].text << "\n";
//
// evaluate_replies judges a suggester on held-out (message, reply) pairs: recall@k and MRR of
// the true reply's cluster against the frequency baseline, and the coverage/precision table that
// picks the trigger threshold.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "reply/response_set.h"
#include "seq2seq/api/translator.h"  // ModelOptions

namespace s2s::api {

using reply::Response;  // text, cluster, prior

// A response set file (`s2s reply-data responses`: response<TAB>cluster<TAB>prior); InputError
// naming the file and line of a malformed one.
std::vector<Response> read_responses(const std::string& path);

struct ReplyOptions {
  int k = 3;                        // suggestions per message
  int ranked = 0;                   // rank at least this many responses (evaluation's MRR)
  int expand_per_step = 8;          // open trie prefixes expanded per message and decoder step
  bool diverse = true;              // at most one suggestion per cluster
  double threshold = -1e30;         // no suggestions when the best log-probability is below it
  int64_t max_source_length = 256;  // message pieces kept (the rest is cut)
  int64_t batch_size = 64;          // messages per search batch
  // White space runs become one space and only the first N words of a message are read (0: all),
  // as `s2s reply-data training` cut the messages the model learnt from.
  size_t max_message_words = 0;
  // Rank by forced decoding of every response instead of the trie search: the same ranking at
  // the full cost (the reference the search is checked and benchmarked against).
  bool exhaustive = false;
  // The score: log P(response | message) - lambda * log P(response), P(response) from the same
  // model given reply::kNoMessage. lambda 0 ranks by the likelihood alone, which favours short,
  // frequent replies whatever the message says; unset: the model folder's reply.yaml (written
  // by `s2s reply --tune --save`), else 0.
  std::optional<double> lambda;
};

struct Suggestion {
  int response = -1;    // index into the response set
  double score = 0;     // what ranks it: log P(response | message) - lambda log P(response)
  double log_prob = 0;  // log P(response | message)
};

// What `s2s reply --tune DEV.tsv --save` chose on dev and keeps in the model folder's reply.yaml.
struct ReplyTuning {
  double lambda = 0;        // the score's weight of the prior (ReplyOptions::lambda)
  double tfidf_weight = 0;  // the ranking test's interpolation with TF-IDF (evaluation only)
};
// A model folder's reply.yaml (all 0 when the file is absent); ConfigError naming the file and
// key when it is malformed.
ReplyTuning read_reply_tuning(const std::string& model);
// Writes reply.yaml into a model folder (atomically; `how` becomes a comment) and renews the
// folder's manifest.
void save_reply_tuning(const std::string& model, const ReplyTuning& tuning, const std::string& how);

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
  // InputError naming a response that the model's vocabulary encodes to nothing, or a folder
  // that is not a model folder. options.replicas model copies serve concurrent slices.
  ReplySuggester(const std::string& model, std::vector<Response> responses,
                 const ReplyOptions& reply = {}, const ModelOptions& options = {});
  ~ReplySuggester();
  ReplySuggester(const ReplySuggester&) = delete;
  ReplySuggester& operator=(const ReplySuggester&) = delete;

  // Messages in, results in the same order; an empty message gets no suggestion.
  std::vector<ReplyResult> suggest(const std::vector<std::string>& messages) const;
  // The same with other options (k, diversity, threshold, ...) on the same models.
  std::vector<ReplyResult> suggest(const std::vector<std::string>& messages,
                                   const ReplyOptions& reply) const;

  // Forced decoding of every response for one message, best first: the exact ranking the trie
  // search must reproduce.
  std::vector<Suggestion> score_all(const std::string& message) const;
  // log P(text | message) of any texts, in order, by forced decoding (-infinity for a text with
  // no pieces); with reply::kNoMessage as the message, the texts' prior. Messages are scored in
  // parallel over the replicas.
  std::vector<std::vector<double>> score_texts(
      const std::vector<std::string>& messages,
      const std::vector<std::vector<std::string>>& texts) const;

  const std::vector<Response>& responses() const;
  const ReplyOptions& options() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// ---- evaluation --------------------------------------------------------------------------

// Held-out pairs from a `message<TAB>reply` file (fields escaped as `s2s reply-data` writes
// them); InputError naming the line of a malformed one.
void read_reply_pairs(const std::string& path, std::vector<std::string>& messages,
                      std::vector<std::string>& replies);

struct ReplyEvaluationOptions {
  std::string candidate = "reply";  // how a true reply becomes a response: reply | first-sentence
  size_t max_tokens = 12;           // as the response set was built
  double coverage = 0.5;            // the calibration's wanted share of triggered messages
  int64_t forced_check = 0;  // also rank the first N messages by forced decoding: agreement, speed
  // How a true reply finds its cluster: "nearest" (the response of highest trigram cosine: every
  // reply with a shared trigram counts) or "intent" (reply/intents.h IntentClassifier: only a
  // reply that falls into one of the set's intents counts; the paper's intent recall).
  std::string truth = "nearest";
  std::function<void(size_t done, size_t total)> on_progress;  // after each chunk of pairs
};

struct RankingFigures {
  double recall = 0;  // recall@k
  double mrr = 0;
  size_t count = 0;  // pairs counted
};

struct CalibrationRow {
  double coverage = 0;   // share of messages with suggestions
  double precision = 0;  // share of them whose true cluster is among the k suggestions
  double threshold = 0;  // the best-score threshold that triggers on that share
};

struct ReplyEvaluation {
  size_t pairs = 0;     // evaluated pairs
  size_t clusters = 0;  // in the response set
  int k = 3;
  int ranked = 0;  // responses ranked per message for the cluster-mass ranking
  // Over the pairs whose true reply maps to a response cluster, and over all pairs (misses).
  RankingFigures model, model_all;
  RankingFigures model_by_mass;             // clusters ranked by P(cluster | message)
  RankingFigures frequency, frequency_all;  // always the k most frequent clusters
  // On the mapped pairs: top-k hits of the model and of frequency, and the discordant pairs
  // (model only, frequency only) for McNemar's test.
  size_t model_hits = 0, frequency_hits = 0, model_only = 0, frequency_only = 0;
  std::vector<CalibrationRow> calibration;  // coverage 0.1 ... 1.0
  double threshold_for_coverage = -1e30;    // for options.coverage
  // forced_check: messages checked, top-k identical, trie prefixes expanded, both speeds.
  size_t forced_checked = 0, forced_agree = 0;
  int64_t forced_expansions = 0;
  double search_seconds = 0, forced_seconds = 0;
};

ReplyEvaluation evaluate_replies(const ReplySuggester& suggester,
                                 const std::vector<std::string>& messages,
                                 const std::vector<std::string>& replies,
                                 const ReplyEvaluationOptions& options = {});

}  // namespace s2s::api
