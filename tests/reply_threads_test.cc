// Threads of reply pairs and the split by thread; next-sentence pretraining pairs and the Brown
// corpus reader.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "reply/pretraining.h"
#include "reply/response_set.h"
#include "reply/threads.h"
#include "seq2seq/error.h"

namespace s2s::reply {
namespace {

TEST(MessageIds, TakesEveryBracketedIdAndSkipsDamage) {
  EXPECT_EQ(message_ids("<a@x> <b@y>\n\t<c@z>"),
            (std::vector<std::string>{"<a@x>", "<b@y>", "<c@z>"}));
  EXPECT_EQ(message_ids("Your message of \"Mon\" <m1@host>"),
            (std::vector<std::string>{"<m1@host>"}));
  EXPECT_TRUE(message_ids("").empty());
  EXPECT_TRUE(message_ids("<> <a b> <unclosed").empty());
}

TEST(ThreadGrouper, JoinsPairsThroughSharedLinksTransitively) {
  ThreadGrouper g;
  g.add({"<r1@x>", "<root@x>", "text:1"});      // replies to root
  g.add({"<r2@x>", "<r1@x>", "text:2"});        // replies to r1 (no References)
  g.add({"<other@y>", "text:3"});               // another conversation
  g.add({"<r3@z>", "text:3"});                  // quotes the same text as the third
  g.add({"<lonely@q>", "<gone@q>", "text:4"});  // a fifth
  const std::vector<std::string> keys = g.keys();
  ASSERT_EQ(keys.size(), 5u);
  EXPECT_EQ(keys[0], keys[1]);
  EXPECT_EQ(keys[2], keys[3]);
  EXPECT_NE(keys[0], keys[2]);
  EXPECT_NE(keys[4], keys[0]);
  EXPECT_NE(keys[4], keys[2]);
  EXPECT_EQ(keys[0], "<r1@x>");  // the smallest link names the thread
  EXPECT_EQ(keys[4], "<gone@q>");
}

TEST(ThreadGrouper, KeysDoNotDependOnTheOrderPairsCameIn) {
  const std::vector<std::vector<std::string>> pairs = {
      {"<b@x>", "<a@x>", "text:1"}, {"<c@x>", "<b@x>", "text:2"}, {"<d@y>", "text:3"}};
  ThreadGrouper forward, backward;
  for (const auto& p : pairs)
    forward.add(p);
  for (auto p = pairs.rbegin(); p != pairs.rend(); ++p)
    backward.add(*p);
  std::vector<std::string> f = forward.keys(), b = backward.keys();
  std::reverse(b.begin(), b.end());
  EXPECT_EQ(f, b);
}

TEST(SplitOfThread, IsDeterministicAndFollowsTheShares) {
  EXPECT_EQ(split_of_thread("<a@x>", 10, 40), split_of_thread("<a@x>", 10, 40));
  EXPECT_EQ(fnv1a64(""), 14695981039346656037ull);  // FNV-1a's offset basis: the hash is FNV-1a
  int counts[3] = {0, 0, 0};
  for (int i = 0; i < 20000; ++i) {
    std::string key = "<";  // appended: GCC 12's -Wrestrict misfires on "<" + s + ">" at -O3
    key.append(std::to_string(i)).append("@host>");
    ++counts[static_cast<int>(split_of_thread(key, 10, 40))];
  }
  EXPECT_NEAR(counts[0] / 20000.0, 0.50, 0.02);
  EXPECT_NEAR(counts[1] / 20000.0, 0.10, 0.02);
  EXPECT_NEAR(counts[2] / 20000.0, 0.40, 0.02);
  EXPECT_THROW(split_of_thread("k", 70, 40), InvalidArgument);
  EXPECT_THROW(split_of_thread("k", -1, 40), InvalidArgument);
}

TEST(ParagraphSentences, SplitsParagraphsAtBlankLinesAndSentencesAtTheirEnds) {
  const auto p = paragraph_sentences("Hi there. It works, e.g. here!\nDoes it?\n\n \nNew one");
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0], (std::vector<std::string>{"Hi there.", "It works, e.g. here!", "Does it?"}));
  EXPECT_EQ(p[1], (std::vector<std::string>{"New one"}));
  EXPECT_TRUE(paragraph_sentences("\n\n").empty());
}

TEST(NextSentencePairs, PairEachSentenceWithWhatCameBeforeCutAsTheReplyTaskIs) {
  const std::vector<std::vector<std::string>> text = {{"A b c.", "D e."}, {"F g h i j k."}};
  NextSentenceOptions options;
  options.max_source_words = 3;
  options.max_target_words = 2;
  const auto pairs = next_sentence_pairs(text, options);
  ASSERT_EQ(pairs.size(), 2u);
  EXPECT_EQ(pairs[0], std::make_pair(std::string("A b c."), std::string("D e.")));
  // A paragraph's first sentence follows the whole paragraph before, its last 3 words.
  EXPECT_EQ(pairs[1], std::make_pair(std::string("c. D e."), std::string("F g")));
  EXPECT_TRUE(next_sentence_pairs({{"Only one."}}, options).empty());
  EXPECT_EQ(last_words("a b c d", 2), "c d");
  EXPECT_EQ(last_words("a b", 5), "a b");
}

TEST(InContextPairs, PairChosenSentencesWithAContextThatHoldsThem) {
  const std::vector<std::vector<std::string>> text = {{"A b c.", "D e."},
                                                      {"F g h.", "I j.", "K l m n."}};
  NextSentenceOptions options;
  options.max_source_words = 100;
  options.max_target_words = 12;
  const auto all = in_context_pairs(text, options, 100);
  ASSERT_EQ(all.size(), 5u);  // every sentence has some context
  EXPECT_EQ(all[0], std::make_pair(std::string("A b c. D e."), std::string("A b c.")));
  // A paragraph's sentence: the paragraph before, then its own paragraph around it.
  EXPECT_EQ(all[3],
            std::make_pair(std::string("A b c. D e. F g h. I j. K l m n."), std::string("I j.")));
  EXPECT_TRUE(in_context_pairs(text, options, 0).empty());
  EXPECT_TRUE(in_context_pairs({{"Alone."}}, options, 100).empty());  // no context but itself
  // Cut to the room: the sentence stays inside, half the rest after it, the rest before.
  options.max_source_words = 6;
  const auto cut = in_context_pairs(text, options, 100);
  EXPECT_EQ(cut[3].first, "g h. I j. K l");
  const size_t some = in_context_pairs(text, NextSentenceOptions{}, 50).size();
  EXPECT_LT(some, 5u);  // chosen by a hash of the sentence: about half
  EXPECT_EQ(in_context_pairs(text, NextSentenceOptions{}, 50).size(), some);
}

TEST(BrownSentence, DropsTagsAndAttachesPunctuation) {
  EXPECT_EQ(brown_sentence("\tThe/at jury/nn said/vbd ,/, ``/`` no/at evidence/nn ''/'' ./."),
            "The jury said, \"no evidence\".");
  EXPECT_EQ(brown_sentence("\tAtlanta's/np$ (/( 1961/cd )/) primary/nn ?/."),
            "Atlanta's (1961) primary?");
  EXPECT_EQ(brown_sentence(""), "");
  EXPECT_EQ(brown_sentence("   \t "), "");
  EXPECT_EQ(brown_sentence("a/at word/nn/nn"), "a word/nn");  // only the last tag goes
}

}  // namespace
}  // namespace s2s::reply
