// BLEU: the 13a tokenizer rule by rule, the score's arithmetic, and whole-corpus scores that
// sacreBLEU 2.x printed for the files in tests/data/bleu (see make_expected.sh there).
#include <gtest/gtest.h>

#include "seq2seq/bleu.h"
#include "seq2seq/error.h"
#include "seq2seq/line_reader.h"
#include "tests/test_util.h"

namespace s2s {
namespace {

using Tokens = std::vector<std::string>;

TEST(Tokenize13a, SplitsPunctuationButNotNumbers) {
  EXPECT_EQ(tokenize_13a("The cat sat on the mat."),
            (Tokens{"The", "cat", "sat", "on", "the", "mat", "."}));
  EXPECT_EQ(tokenize_13a("3.50 dollars, 1,000 yen"),
            (Tokens{"3.50", "dollars", ",", "1,000", "yen"}));
  EXPECT_EQ(tokenize_13a("pages 10-20"), (Tokens{"pages", "10", "-", "20"}));
  EXPECT_EQ(tokenize_13a("e-mail"), (Tokens{"e-mail"}));
  EXPECT_EQ(tokenize_13a("\"Hi &amp; bye\" (ok)!"),
            (Tokens{"\"", "Hi", "&", "bye", "\"", "(", "ok", ")", "!"}));
  EXPECT_EQ(tokenize_13a("a<skipped>b"), (Tokens{"ab"}));
  EXPECT_EQ(tokenize_13a("end.5"), (Tokens{"end", ".", "5"}));  // period after a non-digit
  EXPECT_EQ(tokenize_13a("x\xc2\xa0y\xe3\x80\x80z"), (Tokens{"x", "y", "z"}));  // Unicode spaces
  EXPECT_TRUE(tokenize_13a("").empty());
}

TEST(Bleu, IdenticalIs100AndEmptyIs0) {
  const std::vector<std::string> text = {"a small test sentence here", "and another one of them"};
  const BleuScore same = corpus_bleu(text, {text});
  EXPECT_DOUBLE_EQ(same.score, 100.0);
  EXPECT_DOUBLE_EQ(same.brevity_penalty, 1.0);
  const BleuScore empty = corpus_bleu({"", ""}, {text});
  EXPECT_DOUBLE_EQ(empty.score, 0.0);
  EXPECT_EQ(empty.hyp_len, 0);
}

TEST(Bleu, ClipsCountsAndPicksTheClosestShorterReference) {
  // "the the the the": unigram matches clipped to the reference's two "the".
  const BleuStats s = sentence_stats("the the the the", {"the cat the mat"});
  EXPECT_EQ(s.correct[0], 2);
  EXPECT_EQ(s.total[0], 4);
  // Hypothesis of 3 tokens, references of 2 and 4: equally close, the shorter (2) wins.
  EXPECT_EQ(sentence_stats("a b c", {"a b c d", "a b"}).ref_len, 2);
}

TEST(Bleu, PlainFormatIsPythonSacreBleusScoreLine) {
  const auto hyp = read_lines(testing::test_data_dir() + "/bleu/hyp.txt");
  const auto ref = read_lines(testing::test_data_dir() + "/bleu/ref1.txt");
  EXPECT_EQ(
      corpus_bleu(hyp, {ref}).format(),
      "BLEU = 71.87 90.7/84.4/79.4/76.7 (BP = 0.870 ratio = 0.878 hyp_len = 86 ref_len = 98)");
}

TEST(Bleu, MismatchedStreamsAreAnError) {
  EXPECT_THROW(corpus_bleu({"a", "b"}, {{"a"}}), InvalidArgument);
}

std::vector<std::string> lines(const std::string& name) {
  return read_lines(testing::test_data_dir() + "/bleu/" + name);
}

TEST(Bleu, MatchesSacreBleuOnTheTestCorpus) {
  const auto hyp = lines("hyp.txt");
  const auto ref1 = lines("ref1.txt");
  const auto ref2 = lines("ref2.txt");
  EXPECT_EQ(corpus_bleu(hyp, {ref1}).format_with_signature(1, false),
            "BLEU|nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:s2s-0.1.0 = 71.9 "
            "90.7/84.4/79.4/76.7 (BP = 0.870 ratio = 0.878 hyp_len = 86 ref_len = 98)");
  EXPECT_EQ(corpus_bleu(hyp, {ref1, ref2}).format_with_signature(2, false),
            "BLEU|nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|version:s2s-0.1.0 = 94.6 "
            "100.0/97.4/94.1/91.7 (BP = 0.988 ratio = 0.989 hyp_len = 86 ref_len = 87)");
  EXPECT_EQ(corpus_bleu(hyp, {ref1}, true).format_with_signature(1, true),
            "BLEU|nrefs:1|case:lc|eff:no|tok:13a|smooth:exp|version:s2s-0.1.0 = 72.1 "
            "91.9/84.4/79.4/76.7 (BP = 0.870 ratio = 0.878 hyp_len = 86 ref_len = 98)");
  // No 4-gram matches anywhere: sacreBLEU's 'exp' smoothing gives p4 = 100 / (2 * total4).
  EXPECT_EQ(
      corpus_bleu(lines("nomatch4.hyp"), {lines("nomatch4.ref")}).format_with_signature(1, false),
      "BLEU|nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:s2s-0.1.0 = 54.0 "
      "100.0/80.0/66.7/50.0 (BP = 0.751 ratio = 0.778 hyp_len = 7 ref_len = 9)");
}

}  // namespace
}  // namespace s2s
