// Intents of a response set: the seeds file, response features, label propagation over the
// response-feature graph, the classifier that maps held-out replies to intents.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "reply/intents.h"
#include "seq2seq/error.h"

namespace s2s::reply {
namespace {
namespace fs = std::filesystem;

class IntentSeedsFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("s2s_reply_intents_" + std::to_string(::getpid()) + "_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& bytes) {
    const std::string p = (dir_ / "intents.tsv").string();
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }
  std::string error_of(const std::string& bytes) {
    const std::string p = write(bytes);
    try {
      read_intent_seeds(p);
    } catch (const InputError& e) {
      return e.what();
    }
    return "no error";
  }
  fs::path dir_;
};

TEST_F(IntentSeedsFile, ReadsIntentsInOrderOfFirstAppearanceSkippingCommentsAndBlankLines) {
  const IntentSeeds seeds =
      read_intent_seeds(write("# reviewed\n\nthanks\tThanks!\nsorry\tMy bad.\nthanks\tMerci.\n"));
  EXPECT_EQ(seeds.intents, (std::vector<std::string>{"thanks", "sorry"}));
  ASSERT_EQ(seeds.seeds.size(), 3u);
  EXPECT_EQ(seeds.seeds[0].text, "Thanks!");
  EXPECT_EQ(seeds.seeds[0].key, "thanks");
  EXPECT_EQ(seeds.seeds[2].intent, "thanks");
}

TEST_F(IntentSeedsFile, NamesTheLineOfEveryBadSeed) {
  EXPECT_NE(error_of("thanks Thanks!\n").find("intents.tsv:1: expected intent<TAB>response"),
            std::string::npos);
  EXPECT_NE(error_of("a\tb\tc\n").find(":1: expected intent<TAB>response"), std::string::npos);
  EXPECT_NE(error_of("# c\n \tThanks\n").find(":2: empty intent"), std::string::npos);
  EXPECT_NE(error_of("thanks\t  \n").find(":1: empty response"), std::string::npos);
  EXPECT_NE(error_of("smile\t:-)\n").find("does not read as text"), std::string::npos);
  EXPECT_NE(
      error_of("thanks\tThanks!\nyes\tTHANKS\n").find(":2: response 'THANKS' is seeded on line 1"),
      std::string::npos);
  EXPECT_NE(error_of("thanks\tThanks \xff\n").find(":1:"), std::string::npos);  // invalid UTF-8
  EXPECT_NE(error_of("").find("no intent seeds"), std::string::npos);
  EXPECT_NE(error_of("# only a comment\n").find("no intent seeds"), std::string::npos);
  EXPECT_THROW(read_intent_seeds((dir_ / "missing.tsv").string()), Error);
}

TEST(ResponseFeatures, TakeWordsWithoutPunctuationBigramsSkipGramsAndTrigrams) {
  const std::vector<uint64_t> a = response_features("thanks, a lot");
  const std::vector<uint64_t> b = response_features("thanks so much");
  EXPECT_TRUE(std::is_sorted(a.begin(), a.end()));
  EXPECT_EQ(a, response_features("thanks, a lot"));  // deterministic
  // "thanks," and "thanks" share the word feature (and the trigrams of " thanks").
  size_t shared = 0;
  for (const uint64_t f : a)
    shared += std::binary_search(b.begin(), b.end(), f);
  // " th" "tha" "han" "ank" "nks", the word and the opening word "thanks".
  EXPECT_EQ(shared, 7u);
  // 3 words: 3 unigrams, 2 bigrams, 1 skip-gram, 2 openings ("a", "a b"), 5 trigrams of " a b c ".
  EXPECT_EQ(response_features("a b c").size(), 3u + 2u + 1u + 2u + 5u);
  EXPECT_FALSE(response_features("x").empty());
}

IntentSeeds small_seeds() {
  IntentSeeds seeds;
  seeds.intents = {"thanks", "sorry"};
  for (const auto& [intent, text] :
       std::vector<std::pair<std::string, std::string>>{{"thanks", "thanks"},
                                                        {"thanks", "thanks a lot"},
                                                        {"thanks", "thanks for that"},
                                                        {"sorry", "sorry"},
                                                        {"sorry", "sorry about that"},
                                                        {"sorry", "sorry i missed this"}})
    seeds.seeds.push_back({intent, text, normalize_response(text)});
  return seeds;
}

// Responses of no intent, as most of a mail corpus's first sentences are: they make the graph's
// document frequencies those of a real set.
std::vector<std::string> topical_keys() {
  return {"the kernel panics at boot",
          "a kernel oops at boot",
          "you need the glut package",
          "the build fails on sparc",
          "my laptop has a via c3 processor",
          "procmail runs the filter",
          "razor reports it as spam",
          "the mirror is down again",
          "exmh crashes on that folder",
          "the config parameter is gone",
          "rpm says the database is locked",
          "spamassassin flags the list",
          "the patch is in cvs",
          "apt cannot find the package"};
}

TEST(PropagateIntents, SpreadsSeedsToResponsesThatShareTheirWordsAndLeavesTheRest) {
  std::vector<std::string> keys = {"thanks", "sorry", "thanks for the quick fix",
                                   "sorry, i missed the patch"};
  for (const std::string& key : topical_keys())
    keys.push_back(key);
  const std::vector<int> labels = propagate_intents(keys, small_seeds());
  ASSERT_EQ(labels.size(), keys.size());
  EXPECT_EQ(labels[0], 0);  // seeds keep their intents
  EXPECT_EQ(labels[1], 1);
  EXPECT_EQ(labels[2], 0);  // "thanks for the quick fix" reaches thanks
  EXPECT_EQ(labels[3], 1);  // "sorry, i missed the patch" reaches sorry
  for (size_t i = 4; i < keys.size(); ++i)
    EXPECT_EQ(labels[i], -1) << keys[i];                      // nothing of an intent in these
  EXPECT_EQ(labels, propagate_intents(keys, small_seeds()));  // deterministic
  // Seeds that are none of the responses still spread their intents.
  std::vector<std::string> without_seeds(keys.begin() + 2, keys.end());
  const std::vector<int> spread = propagate_intents(without_seeds, small_seeds());
  EXPECT_EQ(spread[0], 0);
  EXPECT_EQ(spread[1], 1);
  EXPECT_EQ(spread[2], -1);
  // A stricter share keeps fewer responses: the threshold works.
  IntentOptions strict;
  strict.min_share = 0.99;
  EXPECT_EQ(propagate_intents(keys, small_seeds(), strict)[2], -1);
}

TEST(LabelIntents, KeepsLabelledResponsesWithIntentClustersAndRenormalisedPriors) {
  std::vector<Response> responses;
  for (const auto& [text, count] :
       std::vector<std::pair<std::string, size_t>>{{"Thanks!", 4},
                                                   {"Sorry.", 2},
                                                   {"The kernel panics at boot.", 3},
                                                   {"Thanks for the quick fix.", 1}})
    responses.push_back({text, text, std::log(static_cast<double>(count) / 10.0), count});
  for (const std::string& key : topical_keys())
    responses.push_back({key, key, std::log(0.01), 1});
  IntentStats stats;
  const std::vector<Response> kept = label_intents(responses, small_seeds(), {}, &stats);
  ASSERT_EQ(kept.size(), 3u);
  EXPECT_EQ(kept[0].text, "Thanks!");
  EXPECT_EQ(kept[0].cluster, "thanks");
  EXPECT_EQ(kept[1].cluster, "sorry");
  EXPECT_EQ(kept[2].text, "Thanks for the quick fix.");
  EXPECT_EQ(kept[2].cluster, "thanks");
  double mass = 0;
  for (const Response& r : kept)
    mass += std::exp(r.prior);
  EXPECT_NEAR(mass, 1.0, 1e-12);
  EXPECT_NEAR(kept[0].prior, std::log(4.0 / 7.0), 1e-12);
  EXPECT_EQ(stats.responses, responses.size());
  EXPECT_EQ(stats.labelled, 3u);
  EXPECT_EQ(stats.seeds_matched, 2u);  // "thanks" and "sorry"
  EXPECT_EQ(stats.seeds_unmatched, 4u);
  EXPECT_EQ(stats.per_intent, (std::vector<size_t>{2, 1}));
}

TEST(IntentClassifier, PutsHeldOutRepliesIntoTheSetsIntentsOrNone) {
  std::vector<Response> set = {{"Thanks!", "thanks", -1, 0},
                               {"Thanks a lot.", "thanks", -1, 0},
                               {"Thanks for the fix.", "thanks", -1, 0},
                               {"Sorry.", "sorry", -1, 0},
                               {"Sorry about that.", "sorry", -1, 0},
                               {"Sorry, I missed this.", "sorry", -1, 0}};
  const IntentClassifier classifier(set);
  EXPECT_EQ(classifier.classify("Thanks so much!").intent, "thanks");
  EXPECT_EQ(classifier.classify("Sorry about the noise").intent, "sorry");
  const IntentClassifier::Result none = classifier.classify("The kernel panics at boot.");
  EXPECT_EQ(none.intent, "");
  EXPECT_LT(none.share, 0.12);
  EXPECT_GT(classifier.classify("Thanks!").share, classifier.classify("Thanks so much!").share);
}

}  // namespace
}  // namespace s2s::reply
