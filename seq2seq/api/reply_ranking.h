// The 1-of-N ranking test of smart reply (Henderson et al. 2017): for each held-out (message,
// reply) pair, the true reply's first sentence is ranked against N-1 first sentences of other
// held-out replies, drawn with a fixed seed. Unlike mapping a true reply to its nearest response,
// it asks only "does the scorer prefer what was said to this message over what was said to
// others", so it can tell a model that reads the message from one that ranks the marginal.
//
// Scorers: the model by log P(r | m) - lambda log P(r) (the prior from the same model given
// reply::kNoMessage); baselines random, prior (the model's log P(r) alone), shortest-first and
// TF-IDF cosine between message and candidate; and the model interpolated with TF-IDF (z-scores
// within each pair's candidates). Each gets R@1, R@3 and MRR with 95% intervals (Wilson for the
// recalls, normal for MRR) and, against the model, McNemar's exact test on the pairs where one
// finds the true reply in its top 3 and the other does not.
//
//   RankingScores scores = score_ranking_test(suggester, messages, replies, options);
//   RankingTest test = judge_ranking_test(scores, /*lambda=*/0.5, /*tfidf_weight=*/0.3);
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "seq2seq/api/reply.h"

namespace s2s::api {

struct RankingTestOptions {
  int candidates = 100;      // the true reply and candidates - 1 others per pair
  uint64_t seed = 20170801;  // which others (fixed: every run ranks the same lists)
  size_t max_tokens = 12;    // a first sentence is cut to this many words, as responses are
  // Documents whose frequencies weight TF-IDF (training messages and replies); empty: the
  // held-out messages and candidates themselves.
  std::vector<std::string> idf_documents;
  std::function<void(size_t done, size_t total)> on_progress;
};

// Every score the test needs, computed once (the model's forced decoding is the cost); judging
// it with any lambda and interpolation weight is then instant (what tuning on dev does).
struct RankingScores {
  size_t skipped = 0;              // pairs whose reply has no first sentence (not ranked)
  std::vector<std::string> texts;  // the candidate pool: first sentences
  std::vector<std::vector<int32_t>> candidates;  // per pair: indices into texts, [0] is true
  std::vector<std::vector<double>> model;        // log P(candidate | message), per pair
  std::vector<double> prior;                     // log P(text | kNoMessage), per text
  std::vector<std::vector<double>> tfidf;        // cosine(message, candidate), per pair
  std::vector<std::vector<double>> random;       // uniform draws, per pair (seeded)
};

RankingScores score_ranking_test(const ReplySuggester& suggester,
                                 const std::vector<std::string>& messages,
                                 const std::vector<std::string>& replies,
                                 const RankingTestOptions& options = {});

struct Interval {
  double value = 0, low = 0, high = 0;  // estimate and 95% interval
};

struct ScorerFigures {
  std::string name;
  Interval r1, r3, mrr;
  std::vector<char> top3;  // per pair: the true reply among its first 3
  // McNemar's exact two-sided p against the model's top-3 hits (1 for the model itself), and
  // the discordant counts: pairs only the model / only this scorer got right.
  double p_vs_model = 1;
  size_t model_only = 0, scorer_only = 0;
};

struct RankingTest {
  size_t pairs = 0, skipped = 0;
  int candidates = 0;
  double lambda = 0, tfidf_weight = 0;
  // model, model + TF-IDF, random, prior, shortest-first, TF-IDF (in this order)
  std::vector<ScorerFigures> scorers;
};

RankingTest judge_ranking_test(const RankingScores& scores, double lambda, double tfidf_weight);

// Two-sided exact McNemar p-value: the binomial(b + c, 1/2) probability of a split at least as
// uneven as b : c.
double mcnemar_exact_p(size_t b, size_t c);
// Wilson score interval (95%) of `hits` successes in `n` trials.
Interval wilson_interval(size_t hits, size_t n);

// TF-IDF cosine similarity of texts: words are runs of letters and digits (ASCII lowercased,
// other UTF-8 kept), idf = ln((1 + N) / (1 + df)) + 1 over the documents given.
class TfIdf {
 public:
  explicit TfIdf(const std::vector<std::string>& documents);
  double cosine(const std::string& a, const std::string& b) const;

 private:
  std::vector<std::pair<std::string, double>> vector_of(const std::string& text) const;
  std::unordered_map<std::string, double> idf_;
  double unseen_idf_ = 1;
};

}  // namespace s2s::api
