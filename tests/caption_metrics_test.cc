// Caption metrics: the PTB-like tokenizer, coco-caption's BLEU and CIDEr-D on an example worked
// by hand, and on a larger example whose values tests/data/captions/coco_metrics_reference.py
// (an independent Python transcription of the published formulas) printed.
#include <gtest/gtest.h>

#include <cmath>

#include "seq2seq/caption_metrics.h"
#include "seq2seq/error.h"

namespace s2s {
namespace {

using Tokens = CaptionTokens;

TEST(CaptionTokenizer, LowercasesAndDropsPunctuationLikeCocoCaption) {
  EXPECT_EQ(tokenize_caption("A Sneaker, in the top-left; and a BAG below it."),
            (Tokens{"a", "sneaker", "in", "the", "top-left", "and", "a", "bag", "below", "it"}));
  EXPECT_EQ(tokenize_caption("Top left: sneaker!  (bag?)"),
            (Tokens{"top", "left", "sneaker", "bag"}));
  EXPECT_EQ(tokenize_caption("the dog's ball isn't red"),
            (Tokens{"the", "dog", "'s", "ball", "is", "n't", "red"}));
  EXPECT_EQ(tokenize_caption("it\xe2\x80\x99s \xe2\x80\x9c"
                             "fine\xe2\x80\x9d"),
            (Tokens{"it", "'s", "fine"}));
  EXPECT_EQ(tokenize_caption("3.5 kg, 1,000 items -- at 10:30 ... u.s. t-shirt/top"),
            (Tokens{"3.5", "kg", "1,000", "items", "at", "10:30", "u.s", "t-shirt/top"}));
  EXPECT_EQ(tokenize_caption("\xc3\x84RMEL \xc3\xbc"), (Tokens{"\xc3\xa4rmel", "\xc3\xbc"}));
  EXPECT_TRUE(tokenize_caption("").empty());
  EXPECT_TRUE(tokenize_caption(" . , ! ").empty());
  EXPECT_THROW(tokenize_caption("bad \xff"), InputError);
}

// Worked by hand. Image 1: hypothesis "a b", references "a b" and "a c"; image 2: hypothesis
// "c", reference "c d".
// BLEU: n-gram matches 1-grams 3/3, 2-grams 1/1, 3- and 4-grams 0/0; hypothesis length 3,
// closest reference lengths 2 + 2 = 4, so BP = exp(1 - 4/3) = exp(-1/3) = 0.716531.
// BLEU-1 = BLEU-2 = BP. BLEU-3 = BP * (1 * 1 * (1e-15 / 1e-9))^(1/3) = BP * 0.01 (the
// published code's smoothing constants), BLEU-4 = BP * (1e-6 * 1e-6)^(1/4) = BP * 0.001.
// CIDEr-D: 2 images, so idf = ln 2 - ln df; "c" occurs in both images' references (df 2, idf 0),
// every other n-gram in one (idf ln 2). Image 1 against "a b": identical vectors, cosine 1 for
// n = 1, 2 and 0 for n = 3, 4, no length penalty (both have one bigram). Against "a c": the
// unigram vectors (ln2, ln2) for a, b and (ln2, 0) for a, c give (ln2 * ln2) / (ln2 sqrt2 * ln2)
// = 1 / sqrt 2; bigrams share nothing. Image 1 = 10 * ((1 + 1/sqrt2) + 1) / 4 / 2 = 3.383883.
// Image 2: "c" has idf 0, so its vector is zero and the score 0. Corpus: 3.383883 / 2.
TEST(CaptionMetrics, HandWorkedExample) {
  const std::vector<Tokens> hyps = {{"a", "b"}, {"c"}};
  const std::vector<std::vector<Tokens>> refs = {{{"a", "b"}, {"a", "c"}}, {{"c", "d"}}};
  const CocoBleu bleu = coco_bleu(hyps, refs);
  const double bp = std::exp(-1.0 / 3.0);
  EXPECT_NEAR(bleu.bleu[0], bp, 1e-9);
  EXPECT_NEAR(bleu.bleu[1], bp, 1e-9);
  EXPECT_NEAR(bleu.bleu[2], bp * 0.01, 1e-9);
  EXPECT_NEAR(bleu.bleu[3], bp * 0.001, 1e-9);
  EXPECT_EQ(bleu.hyp_len, 3);
  EXPECT_EQ(bleu.ref_len, 4);
  EXPECT_EQ(bleu.correct[0], 3u);
  EXPECT_EQ(bleu.guess[1], 1u);

  const CiderD cider = cider_d(hyps, refs);
  const double image1 = 10.0 * (2.0 + 1.0 / std::sqrt(2.0)) / 4.0 / 2.0;
  ASSERT_EQ(cider.per_image.size(), 2u);
  EXPECT_NEAR(cider.per_image[0], image1, 1e-12);
  EXPECT_NEAR(cider.per_image[1], 0.0, 1e-12);
  EXPECT_NEAR(cider.score, image1 / 2, 1e-12);
}

// Values printed by tests/data/captions/coco_metrics_reference.py (its "scenes" example).
TEST(CaptionMetrics, MatchesTheReferenceScript) {
  const std::vector<std::string> hyps = {
      "a sneaker in the top left and a bag below it",
      "a dress in the middle",
      "a coat at the bottom right and a shirt at the top",
      "two bags on the left",
  };
  const std::vector<std::vector<std::string>> refs = {
      {"a sneaker in the top left and a bag below it", "top left a sneaker with a bag under it",
       "a sneaker top left and a bag in the middle left"},
      {"a dress in the center", "a dress right in the middle of the picture"},
      {"a shirt at the top and a coat at the bottom right", "a coat in the bottom right corner",
       "bottom right a coat and top middle a shirt"},
      {"a bag on the left and a bag at the top left", "two bags in the left column"},
  };
  const CaptionScores s = score_captions(hyps, refs);
  EXPECT_EQ(s.images, 4u);
  EXPECT_EQ(s.references, 10u);
  const double bleu[4] = {0.970151503637833, 0.936100428965714, 0.879410160149473,
                          0.814386722915152};
  for (int k = 0; k < 4; ++k)
    EXPECT_NEAR(s.bleu.bleu[k], bleu[k], 1e-12) << "BLEU-" << k + 1;
  EXPECT_NEAR(s.cider.score, 3.98882630394198, 1e-12);
  const double per_image[4] = {5.19615850939177, 4.37863517271368, 4.22225714077216,
                               2.15825439289029};
  for (int i = 0; i < 4; ++i)
    EXPECT_NEAR(s.cider.per_image[i], per_image[i], 1e-12) << "image " << i;
}

TEST(CaptionMetrics, EmptyHypothesesScoreZeroAndSizesAreChecked) {
  const CaptionScores s = score_captions({"", ""}, {{"a b"}, {"c d"}});
  EXPECT_NEAR(s.bleu.bleu[3], 0.0, 1e-12);
  EXPECT_EQ(s.cider.score, 0.0);
  EXPECT_THROW(score_captions({"a"}, {}), InvalidArgument);
  EXPECT_THROW(coco_bleu({{"a"}}, {{}}), InvalidArgument);  // an image without references
  EXPECT_TRUE(cider_d({}, {}).per_image.empty());
}

TEST(CaptionMetrics, IdenticalCaptionsScoreOneBleu) {
  const CaptionScores s =
      score_captions({"a red bag on the left", "a coat"}, {{"a red bag on the left"}, {"a coat"}});
  // BLEU-4 of a 2-word caption has no 3- or 4-grams; corpus-level they come from image 1.
  EXPECT_NEAR(s.bleu.bleu[3], 1.0, 1e-9);
  EXPECT_GT(s.cider.score, 0.0);
}

}  // namespace
}  // namespace s2s
