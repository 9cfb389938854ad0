// The 1-of-N ranking test: candidate lists, the scorers, ranks, intervals and McNemar's test.
#include "seq2seq/api/reply_ranking.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <random>
#include <unordered_map>

#include "reply/pairs.h"
#include "reply/response_set.h"
#include "seq2seq/error.h"

namespace s2s::api {

namespace {

// Words for TF-IDF: runs of ASCII letters and digits (lowercased) and of non-ASCII bytes.
std::vector<std::string> words_of(const std::string& text) {
  std::vector<std::string> words;
  std::string word;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || u >= 0x80) {
      word.push_back(static_cast<char>(std::tolower(u)));
    } else if (!word.empty()) {
      words.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

size_t code_points(const std::string& text) {
  size_t n = 0;
  for (const char c : text)
    n += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  return n;
}

// 1-based rank of candidate 0; ties broken by `tiebreak` (a fixed random order).
size_t rank_of_truth(const std::vector<double>& scores, const std::vector<double>& tiebreak) {
  size_t rank = 1;
  for (size_t j = 1; j < scores.size(); ++j)
    rank += scores[j] > scores[0] || (scores[j] == scores[0] && tiebreak[j] > tiebreak[0]);
  return rank;
}

// Scores as z-scores within one pair's candidates (all equal: all 0); -infinity (a text with no
// pieces) counts as the lowest finite score.
std::vector<double> standardized(std::vector<double> scores) {
  double lowest = std::numeric_limits<double>::infinity();
  for (double s : scores)
    if (std::isfinite(s)) lowest = std::min(lowest, s);
  if (!std::isfinite(lowest)) lowest = 0;
  double mean = 0;
  for (double& s : scores) {
    if (!std::isfinite(s)) s = lowest;
    mean += s;
  }
  mean /= static_cast<double>(scores.size());
  double variance = 0;
  for (double s : scores)
    variance += (s - mean) * (s - mean);
  const double sd = std::sqrt(variance / static_cast<double>(scores.size()));
  for (double& s : scores)
    s = sd > 0 ? (s - mean) / sd : 0;
  return scores;
}

}  // namespace

TfIdf::TfIdf(const std::vector<std::string>& documents) {
  std::unordered_map<std::string, size_t> df;
  for (const std::string& d : documents) {
    std::vector<std::string> words = words_of(d);
    std::sort(words.begin(), words.end());
    words.erase(std::unique(words.begin(), words.end()), words.end());
    for (const std::string& w : words)
      ++df[w];
  }
  const double n = static_cast<double>(documents.size());
  for (const auto& [word, count] : df)
    idf_[word] = std::log((1 + n) / (1 + static_cast<double>(count))) + 1;
  unseen_idf_ = std::log(1 + n) + 1;
}

std::vector<std::pair<std::string, double>> TfIdf::vector_of(const std::string& text) const {
  std::vector<std::string> words = words_of(text);
  std::sort(words.begin(), words.end());
  std::vector<std::pair<std::string, double>> v;
  for (size_t i = 0; i < words.size();) {
    size_t j = i;
    while (j < words.size() && words[j] == words[i])
      ++j;
    const auto it = idf_.find(words[i]);
    v.emplace_back(words[i],
                   static_cast<double>(j - i) * (it == idf_.end() ? unseen_idf_ : it->second));
    i = j;
  }
  return v;
}

double TfIdf::cosine(const std::string& a, const std::string& b) const {
  const auto va = vector_of(a), vb = vector_of(b);
  double dot = 0, na = 0, nb = 0;
  size_t i = 0, j = 0;
  while (i < va.size() && j < vb.size()) {
    if (va[i].first == vb[j].first)
      dot += va[i++].second * vb[j++].second;
    else if (va[i].first < vb[j].first)
      ++i;
    else
      ++j;
  }
  for (const auto& [w, x] : va)
    na += x * x;
  for (const auto& [w, x] : vb)
    nb += x * x;
  return na > 0 && nb > 0 ? dot / std::sqrt(na * nb) : 0;
}

RankingScores score_ranking_test(const ReplySuggester& suggester,
                                 const std::vector<std::string>& messages,
                                 const std::vector<std::string>& replies,
                                 const RankingTestOptions& options) {
  S2S_CHECK(messages.size() == replies.size(), "ranking test: ", messages.size(), " messages but ",
            replies.size(), " replies");
  S2S_CHECK(options.candidates >= 2, "ranking test: candidates must be at least 2, got ",
            options.candidates);
  RankingScores scores;
  std::vector<std::string> kept_messages;
  for (size_t i = 0; i < messages.size(); ++i) {
    const std::string first = reply::collapse_whitespace(reply::candidate_response(
        replies[i], reply::CandidateMode::kFirstSentence, options.max_tokens));
    const std::string message = reply::collapse_whitespace(messages[i]);
    if (first.empty() || message.empty()) {
      ++scores.skipped;
      continue;
    }
    scores.texts.push_back(first);
    kept_messages.push_back(message);
  }
  const size_t n = scores.texts.size();
  S2S_CHECK(n >= 2, "ranking test: ", n, " pairs with a first sentence; at least 2 are needed");
  // The others of each pair: a partial Fisher-Yates draw from a seeded mt19937_64 (its output is
  // fixed by the standard, unlike the library's distributions), never a text equal to the true one.
  std::mt19937_64 rng(options.seed);
  const auto uniform = [&] { return static_cast<double>(rng() >> 11) * 0x1.0p-53; };
  std::vector<int32_t> pool(n);
  for (size_t i = 0; i < n; ++i)
    pool[i] = static_cast<int32_t>(i);
  scores.candidates.resize(n);
  scores.random.resize(n);
  for (size_t i = 0; i < n; ++i) {
    std::vector<int32_t>& list = scores.candidates[i];
    list.push_back(static_cast<int32_t>(i));
    size_t left = n;
    while (list.size() < static_cast<size_t>(options.candidates) && left > 0) {
      const size_t pick = static_cast<size_t>(rng() % left);
      const int32_t other = pool[pick];
      std::swap(pool[pick], pool[left - 1]);
      --left;
      if (scores.texts[other] != scores.texts[i]) list.push_back(other);
    }
    for (size_t j = 0; j < list.size(); ++j)
      scores.random[i].push_back(uniform());
  }

  // The model: every pair's list, in chunks for progress; then every text's prior.
  scores.model.resize(n);
  const size_t chunk = 32;
  for (size_t begin = 0; begin < n; begin += chunk) {
    const size_t end = std::min(n, begin + chunk);
    std::vector<std::string> part_messages;
    std::vector<std::vector<std::string>> part_texts;
    for (size_t i = begin; i < end; ++i) {
      part_messages.push_back(kept_messages[i]);
      std::vector<std::string> texts;
      for (int32_t c : scores.candidates[i])
        texts.push_back(scores.texts[c]);
      part_texts.push_back(std::move(texts));
    }
    std::vector<std::vector<double>> found = suggester.score_texts(part_messages, part_texts);
    for (size_t i = begin; i < end; ++i)
      scores.model[i] = std::move(found[i - begin]);
    if (options.on_progress) options.on_progress(end, n);
  }
  scores.prior = suggester.score_texts({reply::kNoMessage}, {scores.texts})[0];

  std::vector<std::string> documents = options.idf_documents;
  if (documents.empty()) {
    documents = kept_messages;
    documents.insert(documents.end(), scores.texts.begin(), scores.texts.end());
  }
  const TfIdf tfidf(documents);
  scores.tfidf.resize(n);
  for (size_t i = 0; i < n; ++i)
    for (int32_t c : scores.candidates[i])
      scores.tfidf[i].push_back(tfidf.cosine(kept_messages[i], scores.texts[c]));
  return scores;
}

Interval wilson_interval(size_t hits, size_t n) {
  if (n == 0) return {};
  const double z = 1.959963984540054, p = static_cast<double>(hits) / static_cast<double>(n);
  const double nn = static_cast<double>(n), z2 = z * z;
  const double center = (p + z2 / (2 * nn)) / (1 + z2 / nn);
  const double half = z * std::sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn)) / (1 + z2 / nn);
  return {p, std::max(0.0, center - half), std::min(1.0, center + half)};
}

double mcnemar_exact_p(size_t b, size_t c) {
  const size_t n = b + c;
  if (n == 0) return 1;
  const size_t k = std::min(b, c);
  // P(X <= k) for X ~ binomial(n, 1/2), summed in logs; two-sided: twice that, at most 1.
  double tail = 0;
  for (size_t i = 0; i <= k; ++i)
    tail += std::exp(std::lgamma(n + 1.0) - std::lgamma(i + 1.0) - std::lgamma(n - i + 1.0) -
                     static_cast<double>(n) * std::log(2.0));
  return std::min(1.0, 2 * tail);
}

RankingTest judge_ranking_test(const RankingScores& scores, double lambda, double tfidf_weight) {
  const size_t n = scores.candidates.size();
  RankingTest test;
  test.pairs = n;
  test.skipped = scores.skipped;
  test.candidates = n ? static_cast<int>(scores.candidates[0].size()) : 0;
  test.lambda = lambda;
  test.tfidf_weight = tfidf_weight;
  const auto model_scores = [&](size_t i) {
    std::vector<double> s(scores.model[i]);
    for (size_t j = 0; j < s.size(); ++j)
      s[j] -= lambda * scores.prior[scores.candidates[i][j]];
    return s;
  };
  using ScoreOf = std::function<std::vector<double>(size_t)>;
  const std::vector<std::pair<std::string, ScoreOf>> scorers = {
      {"model", model_scores},
      {"model + TF-IDF",
       [&](size_t i) {
         std::vector<double> m = standardized(model_scores(i)), t = standardized(scores.tfidf[i]);
         for (size_t j = 0; j < m.size(); ++j)
           m[j] = (1 - tfidf_weight) * m[j] + tfidf_weight * t[j];
         return m;
       }},
      {"random", [&](size_t i) { return scores.random[i]; }},
      {"prior",
       [&](size_t i) {
         std::vector<double> s;
         for (int32_t c : scores.candidates[i])
           s.push_back(scores.prior[c]);
         return s;
       }},
      {"shortest-first",
       [&](size_t i) {
         std::vector<double> s;
         for (int32_t c : scores.candidates[i])
           s.push_back(-static_cast<double>(code_points(scores.texts[c])));
         return s;
       }},
      {"TF-IDF", [&](size_t i) { return scores.tfidf[i]; }},
  };
  for (const auto& [name, score_of] : scorers) {
    ScorerFigures f;
    f.name = name;
    size_t hits1 = 0, hits3 = 0;
    double reciprocal = 0, reciprocal_squares = 0;
    for (size_t i = 0; i < n; ++i) {
      // Ties (shortest-first has many) fall in the fixed random order of the random scorer.
      const size_t rank = rank_of_truth(score_of(i), scores.random[i]);
      hits1 += rank == 1;
      hits3 += rank <= 3;
      f.top3.push_back(rank <= 3);
      reciprocal += 1.0 / static_cast<double>(rank);
      reciprocal_squares += 1.0 / static_cast<double>(rank * rank);
    }
    f.r1 = wilson_interval(hits1, n);
    f.r3 = wilson_interval(hits3, n);
    const double nn = static_cast<double>(std::max<size_t>(n, 1));
    const double mean = reciprocal / nn;
    const double sd = std::sqrt(std::max(0.0, reciprocal_squares / nn - mean * mean));
    const double half = n > 1 ? 1.959963984540054 * sd / std::sqrt(nn - 1) : 0;
    f.mrr = {mean, std::max(0.0, mean - half), std::min(1.0, mean + half)};
    test.scorers.push_back(std::move(f));
  }
  const std::vector<char>& model = test.scorers[0].top3;
  for (ScorerFigures& f : test.scorers) {
    for (size_t i = 0; i < n; ++i) {
      f.model_only += model[i] && !f.top3[i];
      f.scorer_only += !model[i] && f.top3[i];
    }
    f.p_vs_model = mcnemar_exact_p(f.model_only, f.scorer_only);
  }
  return test;
}

}  // namespace s2s::api
