// The best-first trie search: its ranking is the exhaustive one (forced decoding of every
// sequence) however many prefixes it expands per step, it stops when told and then has expanded
// only part of the trie, and each sentence of a batch is searched as it would be alone.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>

#include "beam_search/trie_search.h"
#include "tests/tiny_model.h"

namespace s2s {
namespace {

constexpr int32_t kEos = 3;
const std::vector<std::vector<int32_t>> kSources = {{4, 5}, {5, 1, 4, 4}, {1}, {6, 6, 5}};

// Every sequence of 1 to max_tokens ordinary ids (the empty one cannot be a response).
std::vector<std::vector<int32_t>> all_sequences(int64_t vocab, int max_tokens) {
  std::vector<std::vector<int32_t>> out = all_outputs(vocab, max_tokens);
  out.erase(out.begin());
  return out;
}

struct Ranked {
  std::vector<std::vector<int32_t>> sequences;
  std::vector<double> log_probs;
};

// The reference: every sequence scored alone, best first.
Ranked exhaustive(TinyModel& model, const std::vector<int32_t>& source,
                  const std::vector<std::vector<int32_t>>& sequences) {
  std::vector<std::pair<double, std::vector<int32_t>>> scored;
  for (const auto& y : sequences)
    scored.emplace_back(model.sequence_log_prob(source, y), y);
  std::sort(scored.begin(), scored.end(), std::greater<>());
  Ranked r;
  for (auto& [lp, y] : scored)
    r.log_probs.push_back(lp), r.sequences.push_back(y);
  return r;
}

struct Searched {
  std::vector<Ranked> ranked;  // per sentence
  TrieSearchStats stats;
};

Searched run(TinyModel& model, const std::vector<std::vector<int32_t>>& sources,
             const std::vector<std::vector<int32_t>>& sequences, int expand, size_t stop_after,
             int64_t pool_rows = 16384) {
  const TrieConstraint trie(sequences, kEos);
  std::map<Constraint::State, std::vector<int32_t>> sequence_of;
  for (const auto& y : sequences)
    sequence_of[trie.find(y)] = y;
  std::vector<int64_t> lengths;
  const Memory memory = model.encode(sources, lengths);
  TrieSearchOptions options;
  options.expand_per_step = expand;
  options.pool_rows = pool_rows;
  Searched out;
  const auto enough = [&](int64_t, std::span<const TrieHit> hits) {
    return stop_after > 0 && hits.size() >= stop_after;
  };
  const auto found = trie_search(model.decoder, memory, trie, enough, options, &out.stats);
  for (const auto& hits : found) {
    Ranked r;
    for (const TrieHit& hit : hits)
      r.sequences.push_back(sequence_of.at(hit.node)), r.log_probs.push_back(hit.log_prob);
    out.ranked.push_back(r);
  }
  return out;
}

void expect_same_ranking(const Ranked& found, const Ranked& truth, size_t count,
                         const std::string& where) {
  ASSERT_EQ(found.sequences.size(), count) << where;
  for (size_t i = 0; i < count; ++i) {
    EXPECT_EQ(found.sequences[i], truth.sequences[i]) << where << " rank " << i;
    EXPECT_NEAR(found.log_probs[i], truth.log_probs[i], 1e-10) << where << " rank " << i;
  }
}

TEST(TrieSearch, RanksEverySequenceExactlyAsForcedDecodingDoes) {
  // Unsharpened, the tiny model is nearly uniform: the hardest case for any pruning.
  for (double sharpen : {1.0, 3.0}) {
    TinyModel model(31, 7, sharpen);
    const auto sequences = all_sequences(7, 3);  // 4 + 16 + 64 sequences, shared prefixes
    for (int expand : {1, 3, 64}) {
      const Searched searched = run(model, kSources, sequences, expand, 0);
      EXPECT_EQ(searched.stats.compactions, 0);
      for (size_t s = 0; s < kSources.size(); ++s)
        expect_same_ranking(searched.ranked[s], exhaustive(model, kSources[s], sequences),
                            sequences.size(),
                            "sharpen " + std::to_string(sharpen) + " expand " +
                                std::to_string(expand) + " sentence " + std::to_string(s));
    }
  }
}

TEST(TrieSearch, WithAConstantPerSequenceRanksByLogProbPlusItExactly) {
  // Smart reply's -lambda log P(r): a constant per sequence, larger for some long sequences,
  // which breaks "a prefix bounds its extensions" unless the bound carries the subtree's best
  // constant. Constants of both signs and magnitudes that reorder the ranking.
  TinyModel model(37, 7, 2.0);
  const auto sequences = all_sequences(7, 3);
  const TrieConstraint trie(sequences, kEos);
  std::vector<double> end_bonus(trie.nodes(), 0.0), subtree_bonus(trie.nodes(), -1e300);
  std::map<Constraint::State, std::vector<int32_t>> sequence_of;
  std::map<std::vector<int32_t>, double> bonus_of;
  for (size_t i = 0; i < sequences.size(); ++i) {
    const double bonus = 0.9 * static_cast<double>(sequences[i].size()) +
                         std::sin(static_cast<double>(i) * 1.7) * 1.5;
    bonus_of[sequences[i]] = bonus;
    Constraint::State node = trie.start(0);
    for (int32_t token : sequences[i]) {
      subtree_bonus[node] = std::max(subtree_bonus[node], bonus);
      node = trie.advance(node, token);
    }
    subtree_bonus[node] = std::max(subtree_bonus[node], bonus);
    end_bonus[node] = bonus;
    sequence_of[node] = sequences[i];
  }
  std::vector<int64_t> lengths;
  const Memory memory = model.encode(kSources, lengths);
  for (const size_t stop_after : {size_t{0}, size_t{3}}) {
    TrieSearchOptions options;
    options.expand_per_step = 4;
    options.end_bonus = &end_bonus;
    options.subtree_bonus = &subtree_bonus;
    const auto enough = [&](int64_t, std::span<const TrieHit> hits) {
      return stop_after > 0 && hits.size() >= stop_after;
    };
    const auto found = trie_search(model.decoder, memory, trie, enough, options);
    for (size_t s = 0; s < kSources.size(); ++s) {
      std::vector<std::pair<double, std::vector<int32_t>>> truth;
      for (const auto& y : sequences)
        truth.emplace_back(model.sequence_log_prob(kSources[s], y) + bonus_of[y], y);
      std::sort(truth.begin(), truth.end(), std::greater<>());
      const size_t count = stop_after ? stop_after : sequences.size();
      ASSERT_EQ(found[s].size(), count);
      bool reordered = false;
      for (size_t i = 0; i < count; ++i) {
        EXPECT_EQ(sequence_of.at(found[s][i].node), truth[i].second)
            << "sentence " << s << " rank " << i;
        EXPECT_NEAR(found[s][i].score, truth[i].first, 1e-10);
        EXPECT_NEAR(found[s][i].score - found[s][i].log_prob, bonus_of[truth[i].second], 1e-12);
        reordered |= i > 0 && found[s][i].log_prob > found[s][i - 1].log_prob;
      }
      if (stop_after == 0) {
        EXPECT_TRUE(reordered) << "the constants should change the order";
      }
    }
  }
}

TEST(TrieSearch, CompactingTheStatePoolChangesNothing) {
  TinyModel model(17, 7, 2.0);
  const auto sequences = all_sequences(7, 3);
  for (int expand : {1, 5}) {
    const Searched searched = run(model, kSources, sequences, expand, 0, /*pool_rows=*/6);
    EXPECT_GT(searched.stats.compactions, 0) << "expand " << expand;
    for (size_t s = 0; s < kSources.size(); ++s)
      expect_same_ranking(searched.ranked[s], exhaustive(model, kSources[s], sequences),
                          sequences.size(),
                          "expand " + std::to_string(expand) + " sentence " + std::to_string(s));
  }
}

TEST(TrieSearch, StopsWhenToldHavingExpandedPartOfTheTrie) {
  TinyModel model(7, 9, 3.0);
  const auto sequences = all_sequences(9, 4);  // 6 + 36 + 216 + 1296 sequences
  const TrieConstraint trie(sequences, kEos);
  for (int expand : {1, 8}) {
    const Searched searched = run(model, kSources, sequences, expand, 3);
    for (size_t s = 0; s < kSources.size(); ++s)
      expect_same_ranking(searched.ranked[s], exhaustive(model, kSources[s], sequences), 3,
                          "expand " + std::to_string(expand) + " sentence " + std::to_string(s));
    // The trie has one node per prefix; forced decoding of every sequence would feed
    // 4 * (6 + 2 * 36 + 3 * 216 + 4 * 1296) tokens for the batch.
    EXPECT_LT(searched.stats.expansions, static_cast<int64_t>(kSources.size()) * trie.nodes() / 4)
        << "expand " << expand;
    int64_t per_sentence = 0;
    for (int64_t e : searched.stats.sentence_expansions)
      per_sentence += e;
    EXPECT_EQ(per_sentence, searched.stats.expansions);
  }
}

TEST(TrieSearch, EachSentenceIsSearchedAsItWouldBeAlone) {
  TinyModel model(5, 8, 2.0);
  const auto sequences = all_sequences(8, 3);
  const Searched together = run(model, kSources, sequences, 4, 5);
  for (size_t s = 0; s < kSources.size(); ++s) {
    const Searched alone = run(model, {kSources[s]}, sequences, 4, 5);
    ASSERT_EQ(alone.ranked[0].sequences.size(), 5u);
    EXPECT_EQ(together.ranked[s].sequences, alone.ranked[0].sequences) << "sentence " << s;
    for (size_t i = 0; i < alone.ranked[0].log_probs.size(); ++i)
      EXPECT_NEAR(together.ranked[s].log_probs[i], alone.ranked[0].log_probs[i], 1e-10);
  }
}

TEST(TrieSearch, AnEmptyTrieFindsNothing) {
  TinyModel model(3, 7, 1.0);
  const Searched searched = run(model, kSources, {}, 8, 3);
  for (const Ranked& r : searched.ranked)
    EXPECT_TRUE(r.sequences.empty());
}

}  // namespace
}  // namespace s2s
