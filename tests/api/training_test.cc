// api::train: the callbacks see every logged step, validation and checkpoint as a record; a stop
// asked through should_stop ends the run with a checkpoint that resumes to the same model as an
// uninterrupted run; recipe mistakes are ConfigErrors before anything is written.
#include "seq2seq/api/training.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "seq2seq/api/recipe.h"
#include "seq2seq/error.h"
#include "tests/api/api_models.h"

namespace s2s::api {
namespace {

namespace fs = std::filesystem;

// A digit-reversal corpus and a recipe that logs every 10 steps and validates every 20.
std::string write_recipe(const std::string& dir) {
  std::mt19937 rng(7);
  for (const char* name : {"train.tsv", "dev.tsv"}) {
    std::ofstream out(dir + "/" + name);
    for (int i = 0; i < (name[0] == 't' ? 600 : 20); ++i) {
      std::vector<int> digits(2 + rng() % 5);
      for (int& d : digits)
        d = static_cast<int>(rng() % 10);
      for (size_t j = 0; j < digits.size(); ++j)
        out << (j ? " " : "") << digits[j];
      out << '\t';
      for (size_t j = digits.size(); j-- > 0;)
        out << digits[j] << (j ? " " : "");
      out << '\n';
    }
  }
  std::ofstream(dir + "/recipe.yaml")
      << "data: {train: train.tsv, valid: dev.tsv, batch_tokens: 128, max_length: 20}\n"
         "vocab: {size: 16}\n"
         "encoder: {embed_size: 8, hidden_size: 16, layers: 1, dropout: 0.1}\n"
         "decoder: {embed_size: 8, hidden_size: 16, dropout: 0.1}\n"
         "train: {max_steps: 60, valid_every: 20, log_every: 10, learning_rate: 0.01,\n"
         "        warmup_steps: 10, patience: 0, valid_metric: perplexity}\n";
  return dir + "/recipe.yaml";
}

TrainCallbacks quiet() {
  TrainCallbacks c;
  c.on_log = [](const TrainLogRecord&) {};
  c.on_message = [](const std::string&) {};
  return c;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

TEST(TrainingTest, CallbacksSeeEveryLoggedStepValidationAndCheckpoint) {
  const std::string dir = test::scratch_folder("train_log");
  const Config recipe = load_training_recipe(write_recipe(dir));
  std::vector<TrainLogRecord> records;
  TrainCallbacks callbacks = quiet();
  callbacks.on_log = [&](const TrainLogRecord& r) { records.push_back(r); };
  TrainRun run;
  run.output = dir + "/run";
  const TrainSummary summary = train(recipe, run, callbacks);
  EXPECT_EQ(summary.steps, 60);
  EXPECT_EQ(summary.reason, StopReason::max_steps);
  EXPECT_TRUE(summary.root);
  std::vector<int64_t> progress, validations, checkpoints;
  for (const TrainLogRecord& r : records) {
    EXPECT_FALSE(r.text.empty());
    if (r.kind == TrainLogRecord::Kind::progress) {
      progress.push_back(r.step);
      EXPECT_GT(r.loss, 0);
      EXPECT_GT(r.tokens_per_second, 0);
      EXPECT_GT(r.learning_rate, 0);
      EXPECT_GE(r.epoch, 1);
    } else if (r.kind == TrainLogRecord::Kind::validation) {
      validations.push_back(r.step);
      EXPECT_GT(r.perplexity, 1);
      EXPECT_NEAR(std::log(r.perplexity), r.nll, 1e-6);
      EXPECT_EQ(r.score_name, "bleu");  // translation validates BLEU too
    } else if (r.kind == TrainLogRecord::Kind::checkpoint) {
      checkpoints.push_back(r.step);
      EXPECT_TRUE(fs::exists(r.checkpoint + "/model.safetensors")) << r.checkpoint;
    }
  }
  EXPECT_EQ(progress, (std::vector<int64_t>{10, 20, 30, 40, 50, 60}));
  EXPECT_EQ(validations, (std::vector<int64_t>{20, 40, 60}));
  EXPECT_EQ(checkpoints, (std::vector<int64_t>{20, 40, 60}));
  EXPECT_TRUE(fs::exists(dir + "/run/model/model.safetensors"));
  EXPECT_EQ(std::string(log_record_kind_name(TrainLogRecord::Kind::validation)), "validation");
}

TEST(TrainingTest, AStopRequestCheckpointsAndTheResumedRunEqualsAnUninterruptedOne) {
  const std::string dir = test::scratch_folder("train_stop");
  const Config recipe = load_training_recipe(write_recipe(dir), {{"train.valid_every", "0"}});
  TrainRun whole;
  whole.output = dir + "/whole";
  train(recipe, whole, quiet());

  int64_t last_step = 0;
  TrainCallbacks stopping = quiet();
  stopping.on_log = [&](const TrainLogRecord& r) { last_step = r.step; };
  stopping.should_stop = [&] { return last_step >= 30; };
  TrainRun part;
  part.output = dir + "/part";
  const TrainSummary stopped = train(recipe, part, stopping);
  EXPECT_EQ(stopped.reason, StopReason::interrupted);
  EXPECT_EQ(stopped.steps, 30);
  EXPECT_TRUE(fs::exists(dir + "/part/checkpoints/step-000000030/model.safetensors"));

  part.resume = true;
  const TrainSummary resumed = train(recipe, part, quiet());
  EXPECT_EQ(resumed.steps, 60);
  EXPECT_EQ(resumed.reason, StopReason::max_steps);
  EXPECT_EQ(read_bytes(dir + "/part/model/model.safetensors"),
            read_bytes(dir + "/whole/model/model.safetensors"));
}

TEST(TrainingTest, MistakesAreConfigErrorsBeforeAnythingIsWritten) {
  const std::string dir = test::scratch_folder("train_errors");
  const std::string recipe_path = write_recipe(dir);
  EXPECT_THROW(load_training_recipe(recipe_path, {{"train.no_such_key", "1"}}), ConfigError);
  TrainRun run;
  run.output = dir + "/run";
  EXPECT_THROW(
      train(load_training_recipe(recipe_path, {{"train.schedule", "sideways"}}), run, quiet()),
      ConfigError);
  EXPECT_THROW(train(load_training_recipe(recipe_path, {{"task", "poetry"}}), run, quiet()),
               ConfigError);
  EXPECT_FALSE(fs::exists(run.output));
  run.resume = true;
  EXPECT_THROW(train(load_training_recipe(recipe_path), run, quiet()), ConfigError);
  EXPECT_THROW(train(load_training_recipe(recipe_path), TrainRun{}, quiet()), ConfigError);
}

}  // namespace
}  // namespace s2s::api
