// api::Translator: the same bytes as `s2s translate` and `s2s score` at any batching, n-best
// with scores and alignments, bad lines as per-line errors, ensembles, concurrent callers.
#include "seq2seq/api/translator.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <sstream>
#include <thread>

#include "seq2seq/error.h"
#include "tests/api/api_models.h"

namespace s2s::api {
namespace {

using test::run_command;
using test::s2s_binary;
using test::split_lines;

std::string number(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.4f", value);
  return buffer;
}

std::vector<std::string> best_texts(const std::vector<TranslationResult>& results) {
  std::vector<std::string> out;
  for (const TranslationResult& r : results)
    out.push_back(r.hypotheses.empty() ? "" : r.hypotheses[0].text);
  return out;
}

TEST(TranslatorTest, EqualsTheCliAtBatch1And7And64) {
  const std::string& model = test::translation_model();
  const Translator translator(model);
  int status = -1;
  const std::vector<std::string> cli =
      split_lines(run_command(s2s_binary() + " translate -m " + model + " --beam 5 -i " +
                                  test::translation_inputs_file() + " 2>/dev/null",
                              &status));
  ASSERT_EQ(status, 0);
  ASSERT_EQ(cli.size(), test::translation_inputs().size());
  for (int64_t batch : {1, 7, 64}) {
    TranslateOptions options = translator.default_options();
    options.beam_size = 5;
    options.batch_size = batch;
    EXPECT_EQ(best_texts(translator.translate(test::translation_inputs(), options)), cli)
        << "batch " << batch;
  }
}

TEST(TranslatorTest, NBestScoresAndAlignmentsEqualTheCli) {
  const std::string& model = test::translation_model();
  const Translator translator(model);
  int status = -1;
  const std::vector<std::string> cli = split_lines(run_command(
      s2s_binary() + " translate -m " + model + " --beam 4 --n-best 2 --scores --alignment hard" +
          " -i " + test::translation_inputs_file() + " 2>/dev/null",
      &status));
  ASSERT_EQ(status, 0);
  TranslateOptions options = translator.default_options();
  options.beam_size = 4;
  options.n_best = 2;
  options.alignment = Alignment::hard;
  const std::vector<TranslationResult> results =
      translator.translate(test::translation_inputs(), options);
  std::vector<std::string> api;
  for (size_t i = 0; i < results.size(); ++i)
    for (const Translation& t : results[i].hypotheses) {
      ASSERT_EQ(t.token_log_probs.size(), t.pieces.size() + 1);
      ASSERT_EQ(t.attention.size(), t.pieces.size() + 1);
      std::ostringstream line;
      line << i << " ||| " << t.text << " ||| " << number(t.score) << " |||";
      for (float lp : t.token_log_probs)
        line << ' ' << number(lp);
      line << " |||";
      const std::vector<int32_t> hard = t.hard_alignment();
      for (size_t u = 0; u < hard.size(); ++u)
        line << ' ' << hard[u] << '-' << u;
      api.push_back(line.str());
    }
  EXPECT_EQ(api, cli);
}

TEST(TranslatorTest, ScoresEqualTheCliAndTheSearch) {
  const std::string& model = test::translation_model();
  const Translator translator(model);
  TranslateOptions options = translator.default_options();
  options.beam_size = 3;
  options.length_penalty = 0;  // the score is then the joint log-probability
  const std::vector<TranslationResult> found =
      translator.translate(test::translation_inputs(), options);
  std::vector<std::string> targets;
  for (const TranslationResult& r : found)
    targets.push_back(r.hypotheses.at(0).text);
  const std::vector<ScoreResult> scores =
      translator.score(test::translation_inputs(), targets, options);
  std::string tsv;
  for (size_t i = 0; i < found.size(); ++i) {
    ASSERT_TRUE(scores[i].ok()) << scores[i].error;
    EXPECT_NEAR(scores[i].log_prob, found[i].hypotheses[0].log_prob, 1e-4) << i;
    tsv += test::translation_inputs()[i] + "\t" + targets[i] + "\n";
  }
  const std::string dir = test::scratch_folder("score");
  std::FILE* f = std::fopen((dir + "/pairs.tsv").c_str(), "w");
  std::fputs(tsv.c_str(), f);
  std::fclose(f);
  int status = -1;
  const std::vector<std::string> cli = split_lines(run_command(
      s2s_binary() + " score -m " + model + " -i " + dir + "/pairs.tsv 2>/dev/null", &status));
  ASSERT_EQ(status, 0);
  ASSERT_EQ(cli.size(), scores.size());
  for (size_t i = 0; i < scores.size(); ++i)
    EXPECT_EQ(cli[i].substr(0, cli[i].find('\t')), number(scores[i].log_prob));
}

TEST(TranslatorTest, BadLinesFailAloneAndTheBatchGoesOn) {
  const Translator translator(test::translation_model());
  TranslateOptions options = translator.default_options();
  options.max_source_length = 6;
  options.reject_long = true;
  const std::vector<std::string> lines = {"1 2 3", "\xff\xfe bad", "", "1 2 3 4 5 6 7 8 9", "4 5"};
  const std::vector<TranslationResult> results = translator.translate(lines, options);
  ASSERT_EQ(results.size(), 5u);
  EXPECT_TRUE(results[0].ok());
  EXPECT_FALSE(results[0].hypotheses.empty());
  EXPECT_FALSE(results[1].ok());
  EXPECT_NE(results[1].error.find("UTF-8"), std::string::npos) << results[1].error;
  EXPECT_TRUE(results[2].ok());
  EXPECT_TRUE(results[2].hypotheses.empty());
  EXPECT_FALSE(results[3].ok());
  EXPECT_NE(results[3].error.find("over the limit"), std::string::npos) << results[3].error;
  EXPECT_TRUE(results[4].ok());
  EXPECT_FALSE(results[4].hypotheses.empty());
}

TEST(TranslatorTest, AnEnsembleOfAModelWithItselfIsTheModel) {
  const std::string& model = test::translation_model();
  const Translator one(model), two(std::vector<std::string>{model, model});
  EXPECT_EQ(best_texts(two.translate(test::translation_inputs())),
            best_texts(one.translate(test::translation_inputs())));
}

TEST(TranslatorTest, ConcurrentCallersGetTheSameResults) {
  const Translator single(test::translation_model());
  const std::vector<std::string> expected =
      best_texts(single.translate(test::translation_inputs()));
  for (int replicas : {1, 2}) {
    const Translator translator(test::translation_model(), {"cpu", 2, replicas});
    std::vector<std::string> a, b;
    std::thread first([&] { a = best_texts(translator.translate(test::translation_inputs())); });
    std::thread second([&] { b = best_texts(translator.translate(test::translation_inputs())); });
    first.join();
    second.join();
    EXPECT_EQ(a, expected) << replicas << " replicas";
    EXPECT_EQ(b, expected) << replicas << " replicas";
  }
}

TEST(TranslatorTest, CallerMistakesAreInvalidArguments) {
  EXPECT_THROW(Translator("/nonexistent/model"), InputError);
  const Translator translator(test::translation_model());
  TranslateOptions options = translator.default_options();
  options.n_best = options.beam_size + 1;
  EXPECT_THROW(translator.translate({"1 2"}, options), InvalidArgument);
  EXPECT_THROW(translator.score({"1 2"}, {}), InvalidArgument);
  EXPECT_THROW(Translator(test::translation_model(), {"tpu"}), InvalidArgument);
}

// The folder is verified against its manifest before any file is read: a damaged config.yaml is
// an IntegrityError naming it, not what the YAML parser makes of the damage. A folder without a
// manifest (written before manifests) loads unverified, and the same file is then a ConfigError.
TEST(TranslatorTest, ADamagedConfigIsNamedAsDamaged) {
  const std::string model =
      test::copy_with_damaged_config(test::translation_model(), "damaged_translation");
  try {
    const Translator translator(model);
    FAIL() << "a damaged config.yaml loaded";
  } catch (const IntegrityError& e) {
    EXPECT_NE(std::string(e.what()).find("config.yaml"), std::string::npos) << e.what();
  }
  std::filesystem::remove(model + "/.complete");
  EXPECT_THROW(Translator{model}, ConfigError);
}

}  // namespace
}  // namespace s2s::api
