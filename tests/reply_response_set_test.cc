// Response normalization, candidates, clustering determinism, the response file round trip and
// its bad-input errors, and the ranking metrics.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "reply/evaluation.h"
#include "reply/response_set.h"
#include "seq2seq/error.h"

namespace s2s::reply {
namespace {
namespace fs = std::filesystem;

TEST(ReplyResponses, Normalization) {
  EXPECT_EQ(normalize_response("  Thanks   a LOT!!! "), "thanks a lot");
  EXPECT_EQ(normalize_response("Straße\tOK?"), "strasse ok");  // full case folding
  EXPECT_EQ(normalize_response("ＦＩＮＥ…"), "fine");          // NFKC, then punctuation
  EXPECT_EQ(normalize_response("Σ ΟΔΟΣ."), "σ οδοσ");
  EXPECT_EQ(normalize_response("?!"), "");
  EXPECT_EQ(normalize_response(""), "");
  EXPECT_THROW(normalize_response("bad \xff"), InputError);
  EXPECT_EQ(collapse_whitespace(" a \n\t b\xe2\x80\x83"
                                "c "),
            "a b c");
}

TEST(ReplyResponses, Candidates) {
  EXPECT_EQ(candidate_response("Sounds  good,\nsee you then!", CandidateMode::kWholeReply, 12),
            "Sounds good, see you then!");
  EXPECT_EQ(candidate_response("one two three", CandidateMode::kWholeReply, 2), "");
  EXPECT_EQ(candidate_response("Hi Joe,\n\nYes, e.g. the Mr. Smith one. It works.\nMore.",
                               CandidateMode::kFirstSentence, 12),
            "Yes, e.g. the Mr. Smith one.");
  EXPECT_EQ(candidate_response("I think that the new version is broken in many small ways today",
                               CandidateMode::kFirstSentence, 5),
            "I think that the new");
  EXPECT_EQ(candidate_response("Craig,\nNot really. Why?", CandidateMode::kFirstSentence, 12),
            "Not really.");
  EXPECT_EQ(candidate_response("", CandidateMode::kFirstSentence, 12), "");
  EXPECT_EQ(parse_candidate_mode("first-sentence"), CandidateMode::kFirstSentence);
  EXPECT_THROW(parse_candidate_mode("whole"), InvalidArgument);
}

std::vector<std::string> sample_replies() {
  std::vector<std::string> r;
  const auto add = [&](const std::string& text, int times) {
    for (int i = 0; i < times; ++i)
      r.push_back(text);
  };
  add("Thanks!", 6);
  add("thanks", 3);
  add("Thanks a lot.", 3);
  add("Thanks a lot!", 1);
  add("Sounds good.", 4);
  add("Sounds good to me.", 2);
  add("Yes.", 3);
  add("No idea, sorry.", 2);
  add("Seen once only", 1);
  add(":-)", 3);            // not words
  add("/var/log/cron", 2);  // a path
  add("This reply is far too long to be a response of the set we want", 5);
  return r;
}

TEST(ReplyResponses, BuildsClustersDeterministically) {
  ResponseOptions options;
  ResponseSetStats stats;
  std::vector<std::string> replies = sample_replies();
  const std::vector<Response> set = build_response_set(replies, options, &stats);
  EXPECT_EQ(stats.replies, replies.size());
  EXPECT_EQ(stats.candidates, replies.size() - 10);
  EXPECT_EQ(stats.kept, 6u);  // thanks, thanks a lot, sounds good, yes, sounds good to me, no idea
  ASSERT_EQ(set.size(), 6u);
  EXPECT_EQ(set[0].text, "Thanks!");  // 9 times, most frequent written form
  EXPECT_EQ(set[0].count, 9u);
  EXPECT_EQ(set[1].text, "Sounds good.");  // 4 times, like "thanks a lot": ties by key
  EXPECT_EQ(set[2].text, "Thanks a lot.");
  EXPECT_EQ(set[2].cluster, "Thanks!");  // lexically close: one cluster
  const auto find = [&](const std::string& text) {
    return *std::find_if(set.begin(), set.end(), [&](const Response& r) { return r.text == text; });
  };
  EXPECT_EQ(find("Sounds good to me.").cluster, "Sounds good.");
  EXPECT_EQ(find("Yes.").cluster, "Yes.");
  EXPECT_EQ(find("No idea, sorry.").cluster, "No idea, sorry.");
  EXPECT_EQ(stats.clusters, 4u);
  double mass = 0;
  for (const Response& r : set)
    mass += std::exp(r.prior);
  EXPECT_NEAR(mass, 1.0, 1e-9);
  // Same set whatever the order of the replies.
  std::reverse(replies.begin(), replies.end());
  const std::vector<Response> again = build_response_set(replies, options);
  ASSERT_EQ(again.size(), set.size());
  for (size_t i = 0; i < set.size(); ++i) {
    EXPECT_EQ(again[i].text, set[i].text);
    EXPECT_EQ(again[i].cluster, set[i].cluster);
    EXPECT_EQ(again[i].prior, set[i].prior);
  }
  options.max_responses = 2;
  EXPECT_EQ(build_response_set(replies, options).size(), 2u);
  options.similarity = 0;
  EXPECT_THROW(build_response_set(replies, options), InvalidArgument);
}

class ReplyResponseFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("s2s_reply_responses_" + std::to_string(::getpid()) + "_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& bytes) {
    const std::string p = (dir_ / "r.tsv").string();
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }
  std::string error_of(const std::string& bytes) {
    const std::string p = write(bytes);
    try {
      read_response_set(p);
    } catch (const InputError& e) {
      return e.what();
    }
    return "no error";
  }
  fs::path dir_;
};

TEST_F(ReplyResponseFile, RoundTrip) {
  const std::vector<Response> set = build_response_set(sample_replies(), {});
  const std::string path = (dir_ / "set.tsv").string();
  write_response_set(set, path, {"made by a test"});
  const std::vector<Response> back = read_response_set(path);
  ASSERT_EQ(back.size(), set.size());
  for (size_t i = 0; i < set.size(); ++i) {
    EXPECT_EQ(back[i].text, set[i].text);
    EXPECT_EQ(back[i].cluster, set[i].cluster);
    EXPECT_NEAR(back[i].prior, set[i].prior, 1e-6);
  }
  std::ifstream in(path);
  std::string first;
  std::getline(in, first);
  EXPECT_EQ(first[0], '#');
}

TEST_F(ReplyResponseFile, BadInputNamesTheLine) {
  EXPECT_NE(error_of("").find("no responses"), std::string::npos);
  EXPECT_NE(error_of("# only a comment\n").find("no responses"), std::string::npos);
  EXPECT_NE(
      error_of("# c\nthanks\tthanks\n").find("r.tsv:2: expected response<TAB>cluster<TAB>prior"),
      std::string::npos);
  EXPECT_NE(error_of("a\tb\t-1\textra\n").find("r.tsv:1: expected"), std::string::npos);
  EXPECT_NE(error_of("\tb\t-1\n").find("r.tsv:1: empty response"), std::string::npos);
  EXPECT_NE(error_of("a\t \t-1\n").find("r.tsv:1: empty cluster"), std::string::npos);
  EXPECT_NE(error_of("a\tb\tx\n").find("r.tsv:1: prior must be"), std::string::npos);
  EXPECT_NE(error_of("a\tb\t0.5\n").find("r.tsv:1: prior must be"), std::string::npos);
  EXPECT_NE(error_of("a\tb\tnan\n").find("r.tsv:1: prior must be"), std::string::npos);
  EXPECT_NE(error_of("Thanks!\tt\t-1\nok\to\t-2\nthanks\tt\t-3\n")
                .find("r.tsv:3: response 'thanks' repeats line 1"),
            std::string::npos);
  EXPECT_NE(error_of("ok\to\t-1\nbad \xff\tb\t-1\n").find("r.tsv:2: invalid UTF-8"),
            std::string::npos);
  EXPECT_NE(error_of("!!!\tb\t-1\n").find("only punctuation"), std::string::npos);
  // Truncated last line (no newline) is still read.
  EXPECT_EQ(read_response_set(write("a\tb\t-0.5")).size(), 1u);
}

TEST(ReplyResponses, MatcherAndMetrics) {
  const std::vector<Response> set = {{"Thanks!", "Thanks!", std::log(0.5), 0},
                                     {"Sounds good.", "Sounds good.", std::log(0.3), 0},
                                     {"Thanks a lot.", "Thanks!", std::log(0.1), 0},
                                     {"No.", "No.", std::log(0.1), 0}};
  const ResponseMatcher matcher(set);
  EXPECT_EQ(matcher.nearest("THANKS").index, 0);
  EXPECT_EQ(matcher.nearest("THANKS").similarity, 1.0);
  EXPECT_EQ(matcher.nearest("sounds good to me").index, 1);
  EXPECT_EQ(matcher.nearest("zzzz qqqq").index, -1);
  EXPECT_EQ(clusters_by_prior(set), (std::vector<std::string>{"Thanks!", "Sounds good.", "No."}));
  RankingMetrics m(1);
  m.add(1);
  m.add(2);
  m.add(0);
  m.add(4);
  EXPECT_EQ(m.count(), 4u);
  EXPECT_DOUBLE_EQ(m.recall(), 0.25);
  EXPECT_DOUBLE_EQ(m.mrr(), (1 + 0.5 + 0 + 0.25) / 4);
}

}  // namespace
}  // namespace s2s::reply
