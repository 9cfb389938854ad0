// Beam search: exact on a hypothesis space small enough to enumerate, equal to greedy with a beam
// of one, independent of the batch, faithful to constraints, ensembles and length limits.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>

#include "beam_search/beam_search.h"
#include "beam_search/greedy.h"
#include "tests/test_util.h"
#include "tests/tiny_model.h"

namespace s2s {
namespace {

constexpr int32_t kEos = 3;

// What the search's score of one complete output is, recomputed by feeding it step by step to
// each model alone (a fresh state per sequence) and averaging the members' log-probabilities.
struct Replay {
  double log_prob = 0, score = 0;
};
Replay replay(const std::vector<TinyModel*>& models, const std::vector<int32_t>& source,
              const std::vector<int32_t>& tokens, double alpha, double beta) {
  std::vector<int32_t> path = tokens;
  path.push_back(kEos);
  Replay r;
  std::vector<double> coverage(source.size(), 0.0);
  for (size_t m = 0; m < models.size(); ++m) {
    std::vector<int64_t> lengths;
    const Memory memory = models[m]->encode({source}, lengths);
    auto state = models[m]->decoder.start(memory);
    int32_t previous = 2;
    for (int32_t token : path) {
      Tensor attention;
      const Tensor lp = models[m]->decoder.step(
          *state, Tensor::from_vector<int32_t>({previous}, {1}), &attention);
      r.log_prob += lp.data<double>()[token] / static_cast<double>(models.size());
      if (m == 0)
        for (size_t i = 0; i < source.size(); ++i)
          coverage[i] += attention.data<double>()[i];
      previous = token;
    }
  }
  double cp = 0;
  for (double c : coverage)
    cp += std::log(std::clamp(c, 1e-20, 1.0));
  r.score = r.log_prob / length_penalty(static_cast<int64_t>(path.size()), alpha) + beta * cp;
  return r;
}

std::vector<std::vector<Hypothesis>> search(const std::vector<TinyModel*>& models,
                                            const std::vector<std::vector<int32_t>>& sources,
                                            const BeamSearchOptions& options,
                                            const Constraint* constraint = nullptr) {
  std::vector<Memory> memories(models.size());
  std::vector<SearchModel> members;
  std::vector<int64_t> lengths;
  for (size_t m = 0; m < models.size(); ++m) {
    memories[m] = models[m]->encode(sources, lengths);
    members.push_back(SearchModel{&models[m]->decoder, &memories[m]});
  }
  return beam_search(members, lengths, options, constraint);
}

const std::vector<std::vector<int32_t>> kSources = {{4, 5}, {5, 1, 4, 4}, {1}};

TEST(BeamSearch, AWideBeamFindsExactlyTheExhaustiveRanking) {
  TinyModel model(5, 6, 3.0);
  const auto outputs = all_outputs(6, 3);  // 1 + 3 + 9 + 27 = 40 sequences
  ASSERT_EQ(outputs.size(), 40u);
  for (auto [alpha, beta] : {std::pair{0.0, 0.0}, {0.6, 0.0}, {1.0, 0.4}}) {
    BeamSearchOptions o;
    o.beam_size = 48;
    o.n_best = 48;
    o.length_penalty = alpha;
    o.coverage_penalty = beta;
    o.max_length_factor = 0;
    o.max_length_add = 3;
    const auto found = search({&model}, kSources, o);
    for (size_t s = 0; s < kSources.size(); ++s) {
      std::vector<std::pair<double, std::vector<int32_t>>> truth;
      for (const auto& y : outputs)
        truth.emplace_back(replay({&model}, kSources[s], y, alpha, beta).score, y);
      std::sort(truth.begin(), truth.end(), std::greater<>());
      ASSERT_EQ(found[s].size(), truth.size()) << "alpha " << alpha << " sentence " << s;
      for (size_t i = 0; i < truth.size(); ++i) {
        EXPECT_EQ(found[s][i].tokens, truth[i].second) << "alpha " << alpha << " rank " << i;
        EXPECT_NEAR(found[s][i].score, truth[i].first, 1e-10);
        const Replay r = replay({&model}, kSources[s], found[s][i].tokens, alpha, beta);
        EXPECT_NEAR(found[s][i].log_prob, r.log_prob, 1e-10);
        double sum = 0;
        for (float lp : found[s][i].token_log_probs)
          sum += lp;
        EXPECT_NEAR(sum, r.log_prob, 1e-5);  // the per-token values are floats
      }
      // The 1-best alone takes the early stop, which must not change the answer.
      o.n_best = 1;
      const auto best = search({&model}, {kSources[s]}, o)[0];
      ASSERT_EQ(best.size(), 1u);
      EXPECT_EQ(best[0].tokens, truth[0].second) << "alpha " << alpha << " sentence " << s;
      o.n_best = 48;
    }
  }
}

TEST(BeamSearch, ABeamOfOneIsGreedyDecoding) {
  TinyModel model(21, 7, 2.0);
  GreedyOptions g;
  g.max_length_factor = 1.5;
  g.max_length_add = 2;
  std::vector<int64_t> lengths;
  const Memory memory = model.encode(kSources, lengths);
  const std::vector<Hypothesis> greedy = greedy_decode(model.decoder, memory, lengths, g);
  for (double alpha : {0.0, 0.6}) {
    BeamSearchOptions o;
    o.beam_size = 1;
    o.length_penalty = alpha;
    o.max_length_factor = 1.5;
    o.max_length_add = 2;
    const auto beam = search({&model}, kSources, o);
    for (size_t s = 0; s < kSources.size(); ++s) {
      ASSERT_EQ(beam[s].size(), 1u);
      EXPECT_EQ(beam[s][0].tokens, greedy[s].tokens) << "sentence " << s;
      EXPECT_EQ(beam[s][0].log_prob, greedy[s].log_prob);
      EXPECT_EQ(beam[s][0].finished, greedy[s].finished);
    }
  }
}

TEST(BeamSearch, EachSentenceDecodesAsItWouldAlone) {
  TinyModel model(9, 9, 2.5);
  const std::vector<std::vector<int32_t>> sources = {
      {4, 5, 6}, {7}, {8, 8, 4, 5, 4, 1}, {6, 5}, {4, 4, 4, 4}};
  BeamSearchOptions o;
  o.beam_size = 4;
  o.n_best = 3;
  o.coverage_penalty = 0.2;
  const auto together = search({&model}, sources, o);
  for (size_t s = 0; s < sources.size(); ++s) {
    const auto alone = search({&model}, {sources[s]}, o)[0];
    ASSERT_EQ(together[s].size(), alone.size()) << "sentence " << s;
    for (size_t i = 0; i < alone.size(); ++i) {
      EXPECT_EQ(together[s][i].tokens, alone[i].tokens) << "sentence " << s << " rank " << i;
      EXPECT_NEAR(together[s][i].score, alone[i].score, 1e-12);
    }
    for (size_t i = 1; i < alone.size(); ++i)
      EXPECT_GE(alone[i - 1].score, alone[i].score);
  }
}

TEST(BeamSearch, AnEnsembleSearchesTheMeanLogProbability) {
  TinyModel a(31, 6, 3.0), b(41, 6, 3.0);
  BeamSearchOptions o;
  o.beam_size = 48;
  o.n_best = 1;
  o.length_penalty = 0;
  o.max_length_factor = 0;
  o.max_length_add = 3;
  const auto outputs = all_outputs(6, 3);
  const auto found = search({&a, &b}, kSources, o);
  for (size_t s = 0; s < kSources.size(); ++s) {
    std::pair<double, std::vector<int32_t>> best{-INFINITY, {}};
    for (const auto& y : outputs)
      best = std::max(best, std::pair{replay({&a, &b}, kSources[s], y, 0, 0).score, y});
    ASSERT_EQ(found[s].size(), 1u);
    EXPECT_EQ(found[s][0].tokens, best.second) << "sentence " << s;
    EXPECT_NEAR(found[s][0].log_prob, best.first, 1e-10);
  }
  // A model in an ensemble with itself is the model.
  TinyModel a2(31, 6, 3.0);
  o.beam_size = 3;
  o.n_best = 3;
  const auto alone = search({&a}, kSources, o);
  const auto twice = search({&a, &a2}, kSources, o);
  for (size_t s = 0; s < kSources.size(); ++s)
    for (size_t i = 0; i < alone[s].size(); ++i) {
      EXPECT_EQ(twice[s][i].tokens, alone[s][i].tokens);
      EXPECT_NEAR(twice[s][i].score, alone[s][i].score, 1e-12);
    }
}

TEST(BeamSearch, ATrieConstraintRanksExactlyItsSequences) {
  TinyModel model(13, 8, 2.5);
  const std::vector<std::vector<int32_t>> allowed = {
      {4}, {4, 5}, {4, 5, 6, 7}, {6, 6}, {7, 1, 5}, {5, 4, 4, 4, 4, 4, 4}, {4, 5}};
  const TrieConstraint trie(allowed, kEos);
  EXPECT_EQ(trie.sequences(), 6);  // the duplicate collapses
  BeamSearchOptions o;
  o.beam_size = 8;
  o.n_best = 8;
  o.length_penalty = 0;
  o.max_length_factor = 0;
  o.max_length_add = 10;
  const auto found = search({&model}, kSources, o, &trie);
  for (size_t s = 0; s < kSources.size(); ++s) {
    std::vector<std::pair<double, std::vector<int32_t>>> truth;
    for (size_t i = 0; i + 1 < allowed.size(); ++i)
      truth.emplace_back(replay({&model}, kSources[s], allowed[i], 0, 0).log_prob, allowed[i]);
    std::sort(truth.begin(), truth.end(), std::greater<>());
    ASSERT_EQ(found[s].size(), truth.size()) << "sentence " << s;
    for (size_t i = 0; i < truth.size(); ++i) {
      EXPECT_EQ(found[s][i].tokens, truth[i].second) << "sentence " << s << " rank " << i;
      EXPECT_NEAR(found[s][i].log_prob, truth[i].first, 1e-10);
    }
  }
  // Sequences longer than the length limit cannot be completed: they are simply not found.
  o.max_length_add = 2;
  for (const auto& list : search({&model}, kSources, o, &trie))
    for (const Hypothesis& h : list)
      EXPECT_LE(h.tokens.size(), 2u);
}

TEST(BeamSearch, ThePrunedBoundCertifiesExactResults) {
  // Every output of up to 3 tokens is allowed; narrow beams must say when they may be wrong.
  TinyModel model(29, 7, 1.0);  // unsharpened: nearly uniform, so narrow beams do go wrong
  const auto outputs = all_outputs(7, 3);
  std::vector<std::vector<int32_t>> allowed(outputs.begin() + 1, outputs.end());
  const TrieConstraint trie(allowed, kEos);
  int certified = 0, uncertified = 0;
  for (int beam : {1, 2, 4, 8, 200}) {
    BeamSearchOptions o;
    o.beam_size = beam;
    o.n_best = 1;
    o.length_penalty = 0;
    o.max_length_factor = 0;
    o.max_length_add = 3;
    std::vector<Memory> memories(1);
    std::vector<int64_t> lengths;
    memories[0] = model.encode(kSources, lengths);
    const SearchModel member{&model.decoder, &memories[0]};
    std::vector<double> pruned;
    const auto found = beam_search(std::span(&member, 1), lengths, o, &trie, &pruned);
    for (size_t s = 0; s < kSources.size(); ++s) {
      std::pair<double, std::vector<int32_t>> best{-INFINITY, {}};
      for (const auto& y : allowed)
        best = std::max(best, std::pair{replay({&model}, kSources[s], y, 0, 0).log_prob, y});
      ASSERT_EQ(found[s].size(), 1u);
      if (found[s][0].log_prob >= pruned[s]) {
        ++certified;
        EXPECT_EQ(found[s][0].tokens, best.second) << "beam " << beam << " sentence " << s;
      } else {
        ++uncertified;
      }
      if (beam == 200) {
        EXPECT_GE(found[s][0].log_prob, pruned[s]) << "a beam as wide as the trie is always sure";
      }
    }
  }
  EXPECT_GT(certified, 0);
  EXPECT_GT(uncertified, 0);  // the narrow beams of this flat model are not all sure
}

TEST(BeamSearch, LengthLimitsHold) {
  TinyModel model(17, 7, 2.0);
  BeamSearchOptions o;
  o.beam_size = 3;
  o.n_best = 3;
  o.min_length = 3;
  o.max_length_factor = 1.0;
  o.max_length_add = 1;
  const auto found = search({&model}, kSources, o);
  for (size_t s = 0; s < kSources.size(); ++s)
    for (const Hypothesis& h : found[s]) {
      EXPECT_GE(h.tokens.size(), 3u);
      const size_t limit = std::max<size_t>(3, kSources[s].size() + 1);
      EXPECT_LE(h.tokens.size(), limit);
      if (h.tokens.size() < limit) {
        EXPECT_TRUE(h.finished);
      }
      EXPECT_EQ(h.token_log_probs.size(), h.tokens.size() + 1);
    }
}

TEST(BeamSearch, KeepsTheAttentionOfEveryToken) {
  TinyModel model(19, 7, 2.0);
  BeamSearchOptions o;
  o.beam_size = 3;
  o.n_best = 2;
  o.keep_attention = true;
  const auto found = search({&model}, kSources, o);
  for (size_t s = 0; s < kSources.size(); ++s)
    for (const Hypothesis& h : found[s]) {
      ASSERT_EQ(h.attention.size(), h.token_log_probs.size());
      for (const auto& row : h.attention) {
        ASSERT_EQ(row.size(), kSources[s].size());
        double sum = 0;
        for (float w : row)
          sum += w;
        EXPECT_NEAR(sum, 1.0, 1e-6);
      }
    }
}

TEST(BeamSearch, RejectsOptionsThatMakeNoSense) {
  TinyModel model(23);
  BeamSearchOptions o;
  o.beam_size = 2;
  o.n_best = 3;
  EXPECT_THROW(search({&model}, kSources, o), InvalidArgument);
  o.n_best = 1;
  o.length_penalty = -1;
  EXPECT_THROW(search({&model}, kSources, o), InvalidArgument);
  o.length_penalty = 0;
  o.beam_size = 0;
  EXPECT_THROW(search({&model}, kSources, o), InvalidArgument);
}

TEST(TrieConstraint, AllowsPrefixesAndEndsOnly) {
  const TrieConstraint trie({{5, 6}, {5}, {7, 5, 9}}, kEos);
  EXPECT_EQ(trie.sequences(), 3);
  const auto root = trie.start(0);
  EXPECT_EQ(std::vector<int32_t>(trie.allowed(root).begin(), trie.allowed(root).end()),
            (std::vector<int32_t>{5, 7}));
  const auto after5 = trie.advance(root, 5);
  EXPECT_EQ(std::vector<int32_t>(trie.allowed(after5).begin(), trie.allowed(after5).end()),
            (std::vector<int32_t>{kEos, 6}));
  EXPECT_EQ(trie.find(std::vector<int32_t>{7, 5}), trie.advance(trie.advance(root, 7), 5));
  EXPECT_EQ(trie.find(std::vector<int32_t>{6}), -1);
  EXPECT_THROW(trie.advance(root, 6), InvalidArgument);
  EXPECT_THROW(TrieConstraint({{5, kEos}}, kEos), InvalidArgument);
  EXPECT_THROW(TrieConstraint({{-1}}, kEos), InvalidArgument);
  const TrieConstraint empty({}, kEos);
  EXPECT_TRUE(empty.allowed(empty.start(0)).empty());
}

}  // namespace
}  // namespace s2s
