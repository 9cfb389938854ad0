// api::ReplySuggester: the trie search ranks exactly as forced decoding of every response, the
// same suggestions from one replica or several and from concurrent callers; evaluate_replies
// agrees with the forced check.
#include "seq2seq/api/reply.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "seq2seq/error.h"
#include "tests/api/api_models.h"

namespace s2s::api {
namespace {

std::vector<std::string> messages() {
  std::vector<std::string> out;
  for (const std::string& line : test::translation_inputs())
    out.push_back(line);
  return out;
}

TEST(ReplySuggesterTest, SuggestionsEqualExhaustiveScoring) {
  ReplyOptions options;
  options.diverse = false;
  options.ranked = 10;
  const ReplySuggester suggester(test::reply_model(), read_responses(test::reply_responses()),
                                 options);
  const std::vector<std::string> texts = messages();
  const std::vector<ReplyResult> results = suggester.suggest(texts);
  ASSERT_EQ(results.size(), texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::vector<Suggestion> all = suggester.score_all(texts[i]);
    ASSERT_EQ(all.size(), suggester.responses().size());
    ASSERT_GE(results[i].ranked.size(), 10u);
    for (size_t j = 0; j < 10; ++j) {
      EXPECT_EQ(results[i].ranked[j].response, all[j].response) << texts[i] << " rank " << j;
      EXPECT_NEAR(results[i].ranked[j].score, all[j].score, 1e-4);
    }
    ASSERT_EQ(results[i].suggestions.size(), 3u);
  }
}

TEST(ReplySuggesterTest, DiverseSuggestionsFromReplicasAndConcurrentCallers) {
  const std::vector<Response> responses = read_responses(test::reply_responses());
  const ReplySuggester one(test::reply_model(), responses);
  const std::vector<std::string> texts = messages();
  const std::vector<ReplyResult> expected = one.suggest(texts);
  for (const ReplyResult& r : expected) {
    ASSERT_TRUE(r.triggered);
    std::set<std::string> clusters;
    for (const Suggestion& s : r.suggestions)
      EXPECT_TRUE(clusters.insert(responses[s.response].cluster).second);
  }
  const ReplySuggester three(test::reply_model(), responses, {}, {"cpu", 3, 3});
  std::vector<ReplyResult> a, b;
  std::thread first([&] { a = three.suggest(texts); });
  std::thread second([&] { b = three.suggest(texts); });
  first.join();
  second.join();
  for (const std::vector<ReplyResult>* got : {&a, &b}) {
    ASSERT_EQ(got->size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
      ASSERT_EQ((*got)[i].suggestions.size(), expected[i].suggestions.size());
      for (size_t j = 0; j < expected[i].suggestions.size(); ++j) {
        EXPECT_EQ((*got)[i].suggestions[j].response, expected[i].suggestions[j].response);
        EXPECT_NEAR((*got)[i].suggestions[j].score, expected[i].suggestions[j].score, 1e-4);
      }
    }
  }
}

TEST(ReplySuggesterTest, EvaluationAndThreshold) {
  const std::vector<Response> responses = read_responses(test::reply_responses());
  const ReplySuggester suggester(test::reply_model(), responses);
  // The true reply of each message is its first digit's (api_models.cc).
  const char* replies[] = {"yes please",   "no thanks",    "see you soon", "sounds good to me",
                           "i will check", "thanks a lot", "not today",    "call me later",
                           "on my way",    "good night"};
  std::vector<std::string> texts = messages(), truths;
  for (const std::string& m : texts)
    truths.push_back(replies[m[0] - '0']);
  ReplyEvaluationOptions options;
  options.forced_check = 10;
  size_t progress = 0;
  options.on_progress = [&](size_t done, size_t total) {
    EXPECT_EQ(total, texts.size());
    progress = done;
  };
  const ReplyEvaluation e = evaluate_replies(suggester, texts, truths, options);
  EXPECT_EQ(progress, texts.size());
  EXPECT_EQ(e.pairs, texts.size());
  EXPECT_EQ(e.model.count, texts.size());
  EXPECT_GT(e.model.recall, e.frequency.recall);
  EXPECT_EQ(e.forced_checked, 10u);
  EXPECT_EQ(e.forced_agree, 10u);
  ASSERT_EQ(e.calibration.size(), 10u);
  // A threshold above every best score triggers nothing.
  ReplyOptions strict;
  strict.threshold = 1.0;
  for (const ReplyResult& r : suggester.suggest(texts, strict)) {
    EXPECT_FALSE(r.triggered);
    EXPECT_TRUE(r.suggestions.empty());
  }
  EXPECT_TRUE(suggester.suggest({""})[0].suggestions.empty());  // an empty message
  EXPECT_THROW(read_responses("/nonexistent/responses.tsv"), Error);
}

}  // namespace
}  // namespace s2s::api
