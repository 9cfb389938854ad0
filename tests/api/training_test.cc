// api::train: the callbacks see every logged step, validation and checkpoint as a record; a stop
// asked through should_stop ends the run with a checkpoint that resumes to the same model as an
// uninterrupted run; recipe mistakes are ConfigErrors before anything is written.
#include "seq2seq/api/training.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "seq2seq/api/averaging.h"
#include "seq2seq/api/recipe.h"
#include "seq2seq/api/run_log.h"
#include "seq2seq/api/translator.h"
#include "seq2seq/error.h"
#include "seq2seq/safetensors.h"
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
  // The run folder's log.jsonl holds the same records, for the server's runs page and s2s plot.
  const RunLog log = read_run_log(dir + "/run");
  EXPECT_EQ(log.task, "translate");
  ASSERT_EQ(log.records.size(), records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(log.records[i].kind, log_record_kind_name(records[i].kind));
    EXPECT_EQ(log.records[i].step, records[i].step);
    EXPECT_FLOAT_EQ(log.records[i].loss, records[i].loss);
    EXPECT_FLOAT_EQ(log.records[i].score, records[i].score);
  }
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
  // One log over both segments: every logged step once, elapsed counting on.
  std::vector<int64_t> steps;
  double last_elapsed = 0;
  for (const RunLogRecord& r : read_run_log(dir + "/part").records) {
    if (r.kind != "progress") continue;
    steps.push_back(r.step);
    EXPECT_GT(r.elapsed, last_elapsed);
    last_elapsed = r.elapsed;
  }
  EXPECT_EQ(steps, (std::vector<int64_t>{10, 20, 30, 40, 50, 60}));
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
  EXPECT_THROW(train(load_training_recipe(recipe_path, {{"train.workers", "-1"}}), run, quiet()),
               ConfigError);
  EXPECT_THROW(train(load_training_recipe(
                         recipe_path, {{"train.workers", "2"}, {"train.parallel.mode", "async"}}),
                     run, quiet()),
               ConfigError);
  EXPECT_FALSE(fs::exists(run.output));
  run.resume = true;
  EXPECT_THROW(train(load_training_recipe(recipe_path), run, quiet()), ConfigError);
  EXPECT_THROW(train(load_training_recipe(recipe_path), TrainRun{}, quiet()), ConfigError);
}

std::map<std::string, Tensor> tensors_of(const std::string& path) {
  return load_safetensors(path).tensors;
}

std::string checkpoint(const std::string& run, int step) {
  char name[32];
  std::snprintf(name, sizeof name, "step-%09d", step);
  return run + "/checkpoints/" + name;
}

// ema_k = d_k * ema_(k-1) + (1 - d_k) * weights_k with d_k = min(decay, (1 + k) / (10 + k)):
// read back from consecutive checkpoints (weights in model.safetensors, the average in
// optimizer.safetensors); the model folder holds the last average, and the resumed run the same.
TEST(TrainingTest, WeightAveragingFollowsItsRuleAndIsTheSavedModel) {
  const std::string dir = test::scratch_folder("train_ema");
  const Config recipe = load_training_recipe(write_recipe(dir), {{"train.valid_every", "0"},
                                                                 {"train.save_every", "1"},
                                                                 {"train.keep_checkpoints", "4"},
                                                                 {"train.max_steps", "12"},
                                                                 {"train.ema_decay", "0.5"}});
  TrainRun run;
  run.output = dir + "/run";
  train(recipe, run, quiet());
  for (int k = 10; k <= 12; ++k) {
    const double d = std::min(0.5, (1.0 + k) / (10.0 + k));
    const auto before = tensors_of(checkpoint(run.output, k - 1) + "/optimizer.safetensors");
    const auto now = tensors_of(checkpoint(run.output, k) + "/optimizer.safetensors");
    const auto weights = tensors_of(checkpoint(run.output, k) + "/model.safetensors");
    ASSERT_FALSE(weights.empty());
    double worst = 0;
    for (const auto& [name, w] : weights) {
      const Tensor& e0 = before.at("ema." + name);
      const Tensor& e1 = now.at("ema." + name);
      for (int64_t i = 0; i < w.numel(); ++i) {
        const double expected = d * e0.data<float>()[i] + (1 - d) * w.data<float>()[i];
        worst = std::max(worst, std::abs(expected - e1.data<float>()[i]));
      }
    }
    EXPECT_LT(worst, 1e-6) << "step " << k;
  }
  // The model is the average, not the last weights.
  const auto model = tensors_of(run.output + "/model/model.safetensors");
  const auto last = tensors_of(checkpoint(run.output, 12) + "/optimizer.safetensors");
  const auto raw = tensors_of(checkpoint(run.output, 12) + "/model.safetensors");
  bool differs = false;
  for (const auto& [name, m] : model) {
    const Tensor& e = last.at("ema." + name);
    ASSERT_EQ(m.numel(), e.numel());
    for (int64_t i = 0; i < m.numel(); ++i) {
      ASSERT_EQ(m.data<float>()[i], e.data<float>()[i]) << name;
      differs = differs || m.data<float>()[i] != raw.at(name).data<float>()[i];
    }
  }
  EXPECT_TRUE(differs);
  // Interrupted at step 6 and resumed: the same average, bit for bit.
  int64_t last_step = 0;
  TrainCallbacks stopping = quiet();
  stopping.on_log = [&](const TrainLogRecord& r) { last_step = r.step; };
  stopping.should_stop = [&] { return last_step >= 6; };
  TrainRun part;
  part.output = dir + "/part";
  train(recipe, part, stopping);
  part.resume = true;
  train(recipe, part, quiet());
  EXPECT_EQ(read_bytes(part.output + "/model/model.safetensors"),
            read_bytes(run.output + "/model/model.safetensors"));
  TrainRun bad;
  bad.output = dir + "/bad";
  EXPECT_THROW(
      train(load_training_recipe(write_recipe(dir), {{"train.ema_decay", "1.0"}}), bad, quiet()),
      ConfigError);
}

TEST(TrainingTest, CheckpointAveragingIsTheMeanAndLoads) {
  const std::string dir = test::scratch_folder("average");
  const Config recipe = load_training_recipe(write_recipe(dir), {{"train.valid_every", "0"},
                                                                 {"train.save_every", "5"},
                                                                 {"train.keep_checkpoints", "3"},
                                                                 {"train.max_steps", "15"}});
  TrainRun run;
  run.output = dir + "/run";
  train(recipe, run, quiet());
  const std::vector<std::string> folders = {checkpoint(run.output, 5), checkpoint(run.output, 10),
                                            checkpoint(run.output, 15)};
  average_models(folders, dir + "/averaged");
  const auto mean = tensors_of(dir + "/averaged/model.safetensors");
  std::vector<std::map<std::string, Tensor>> parts;
  for (const std::string& f : folders)
    parts.push_back(tensors_of(f + "/model.safetensors"));
  ASSERT_EQ(mean.size(), parts[0].size());
  for (const auto& [name, m] : mean)
    for (int64_t i = 0; i < m.numel(); ++i) {
      double sum = 0;
      for (const auto& p : parts)
        sum += p.at(name).data<float>()[i];
      ASSERT_EQ(m.data<float>()[i], static_cast<float>(sum / 3)) << name << " " << i;
    }
  EXPECT_FALSE(fs::exists(dir + "/averaged/optimizer.safetensors"));
  EXPECT_TRUE(fs::exists(dir + "/averaged/vocab.model"));
  const Translator averaged(dir + "/averaged");  // a model folder any front end loads
  EXPECT_EQ(averaged.translate({"1 2 3"}).size(), 1u);
  // Through the binary, and the mistakes.
  int status = -1;
  test::run_command(test::s2s_binary() + " average " + folders[1] + " " + folders[2] + " -o " +
                        dir + "/cli_avg 2>/dev/null && " + test::s2s_binary() + " verify " + dir +
                        "/cli_avg >/dev/null",
                    &status);
  EXPECT_EQ(status, 0);
  EXPECT_THROW(average_models({folders[0], test::translation_model()}, dir + "/mixed"), InputError);
  EXPECT_THROW(average_models({folders[0], dir + "/nothing"}, dir + "/missing"), InputError);
  EXPECT_FALSE(fs::exists(dir + "/mixed"));
}

}  // namespace
}  // namespace s2s::api
