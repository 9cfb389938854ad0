// The 1-of-N ranking test's statistics and scorers: Wilson intervals, McNemar's exact test,
// TF-IDF cosine, ranks with ties, lambda and the interpolation, on scores made by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "seq2seq/api/reply_ranking.h"

namespace s2s::api {
namespace {

TEST(WilsonInterval, MatchesPublishedValues) {
  // Wilson 95% intervals (z = 1.96): 0/10 -> [0, 0.2775], 5/10 -> [0.2366, 0.7634].
  const Interval none = wilson_interval(0, 10), half = wilson_interval(5, 10);
  EXPECT_NEAR(none.value, 0.0, 1e-12);
  EXPECT_NEAR(none.low, 0.0, 1e-4);
  EXPECT_NEAR(none.high, 0.2775, 1e-4);
  EXPECT_NEAR(half.low, 0.2366, 1e-4);
  EXPECT_NEAR(half.high, 0.7634, 1e-4);
  const Interval many = wilson_interval(150, 1000);  // narrower with more trials
  EXPECT_LT(many.high - many.low, 0.05);
  EXPECT_EQ(wilson_interval(0, 0).high, 0.0);
}

TEST(McNemarExact, IsTheTwoSidedBinomialTail) {
  EXPECT_DOUBLE_EQ(mcnemar_exact_p(0, 0), 1.0);
  EXPECT_DOUBLE_EQ(mcnemar_exact_p(5, 5), 1.0);
  EXPECT_NEAR(mcnemar_exact_p(0, 10), 2.0 / 1024, 1e-12);
  EXPECT_NEAR(mcnemar_exact_p(10, 0), 2.0 / 1024, 1e-12);
  EXPECT_NEAR(mcnemar_exact_p(1, 9), 2.0 * 11 / 1024, 1e-12);  // 2 (C(10,0) + C(10,1)) / 2^10
  EXPECT_LT(mcnemar_exact_p(40, 10), 1e-4);
}

TEST(TfIdf, CosineOfWordsWeightedByRarity) {
  const TfIdf tfidf({"the cat sat", "the dog sat", "the bird flew", "exmh crashes on startup"});
  EXPECT_NEAR(tfidf.cosine("The cat!", "the CAT"), 1.0, 1e-12);  // case and punctuation
  EXPECT_EQ(tfidf.cosine("cat", "dog"), 0.0);
  EXPECT_EQ(tfidf.cosine("", "dog"), 0.0);
  // Sharing a rare word counts more than sharing a common one.
  EXPECT_GT(tfidf.cosine("exmh is slow", "exmh crashes"), tfidf.cosine("the cat", "the dog"));
}

// Hand-made scores: 4 pairs, 4 candidates each; candidate 0 is the true reply.
RankingScores hand_made() {
  RankingScores s;
  s.texts = {"yes", "a longer reply here", "thanks a lot", "no way at all"};
  s.candidates = {{0, 1, 2, 3}, {1, 0, 2, 3}, {2, 0, 1, 3}, {3, 0, 1, 2}};
  // The model prefers the true reply only for pairs 0 and 1 by log P(r | m) ...
  s.model = {{-1, -5, -6, -7}, {-2, -4, -6, -7}, {-6, -1, -5, -7}, {-6, -2, -5, -1}};
  // ... and text 0 ("yes") is very likely a priori.
  s.prior = {-1, -9, -8, -3};
  s.tfidf = {{0.1, 0, 0, 0}, {0.5, 0, 0, 0}, {0.9, 0.1, 0, 0}, {0.4, 0.5, 0, 0}};
  s.random = {
      {0.1, 0.2, 0.3, 0.4}, {0.9, 0.1, 0.2, 0.3}, {0.5, 0.6, 0.7, 0.8}, {0.2, 0.1, 0.3, 0.4}};
  return s;
}

const ScorerFigures& scorer(const RankingTest& t, const std::string& name) {
  for (const ScorerFigures& f : t.scorers)
    if (f.name == name) return f;
  throw std::runtime_error("no scorer " + name);
}

TEST(JudgeRankingTest, RanksTheTrueReplyAndCountsRecallAndMrr) {
  const RankingTest t = judge_ranking_test(hand_made(), 0, 0);
  EXPECT_EQ(t.pairs, 4u);
  EXPECT_EQ(t.candidates, 4);
  const ScorerFigures& model = scorer(t, "model");
  // Ranks 1, 1, 3, 4 -> R@1 0.5, R@3 0.75, MRR (1 + 1 + 1/3 + 1/4) / 4.
  EXPECT_DOUBLE_EQ(model.r1.value, 0.5);
  EXPECT_DOUBLE_EQ(model.r3.value, 0.75);
  EXPECT_NEAR(model.mrr.value, (1 + 1 + 1.0 / 3 + 0.25) / 4, 1e-12);
  // TF-IDF: ranks 1, 1, 1, 2.
  EXPECT_DOUBLE_EQ(scorer(t, "TF-IDF").r1.value, 0.75);
  // Shortest-first (characters 3, 19, 12, 13 for texts 0-3): ranks 1, 4, 2, 3.
  EXPECT_NEAR(scorer(t, "shortest-first").mrr.value, (1 + 0.25 + 0.5 + 1.0 / 3) / 4, 1e-12);
  // Random: the true reply's draw against the others'.
  EXPECT_NEAR(scorer(t, "random").mrr.value, (0.25 + 1 + 0.25 + 1.0 / 3) / 4, 1e-12);
}

TEST(JudgeRankingTest, LambdaSubtractsThePriorAndTheWeightMixesInTfIdf) {
  const RankingScores s = hand_made();
  // With lambda 1, log P(r | m) - log P(r): pair 0's "yes" (prior -1) scores -1 + 1 = 0 against
  // -5 + 9, -6 + 8 and -7 + 3: rank 3; the four ranks are 3, 1, 2, 4.
  const RankingTest conditioned = judge_ranking_test(s, 1, 0);
  EXPECT_NEAR(conditioned.scorers[0].mrr.value, (1.0 / 3 + 1 + 0.5 + 0.25) / 4, 1e-12);
  EXPECT_EQ(conditioned.lambda, 1.0);
  // The interpolation at weight 1 is TF-IDF alone, at weight 0 the model alone.
  EXPECT_DOUBLE_EQ(judge_ranking_test(s, 0, 1).scorers[1].mrr.value,
                   scorer(judge_ranking_test(s, 0, 0), "TF-IDF").mrr.value);
  EXPECT_DOUBLE_EQ(judge_ranking_test(s, 0, 0).scorers[1].mrr.value,
                   judge_ranking_test(s, 0, 0).scorers[0].mrr.value);
}

TEST(JudgeRankingTest, McNemarComparesTopThreeHitsPairByPair) {
  const RankingTest t = judge_ranking_test(hand_made(), 0, 0);
  const ScorerFigures& model = t.scorers[0];
  EXPECT_EQ(model.p_vs_model, 1.0);
  for (const ScorerFigures& f : t.scorers) {
    size_t model_only = 0, other_only = 0;
    for (size_t i = 0; i < t.pairs; ++i) {
      model_only += model.top3[i] && !f.top3[i];
      other_only += !model.top3[i] && f.top3[i];
    }
    EXPECT_EQ(f.model_only, model_only) << f.name;
    EXPECT_EQ(f.scorer_only, other_only) << f.name;
    EXPECT_DOUBLE_EQ(f.p_vs_model, mcnemar_exact_p(model_only, other_only)) << f.name;
  }
}

}  // namespace
}  // namespace s2s::api
