// The run log (RUN/log.jsonl): written record by record, read back with resumed segments
// deduplicated and elapsed time counted on; a torn last line skipped, a damaged one named by
// file:line; runs found under a folder; the learning-curve PNG written whole or not at all.
#include "seq2seq/api/run_log.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "seq2seq/api/learning_curves.h"
#include "seq2seq/error.h"
#include "tests/api/api_models.h"

namespace s2s::api {
namespace {

namespace fs = std::filesystem;

TrainLogRecord progress(int64_t step, double elapsed, double loss) {
  TrainLogRecord r;
  r.kind = TrainLogRecord::Kind::progress;
  r.step = step, r.epoch = 1, r.elapsed_seconds = elapsed, r.loss = loss;
  r.perplexity = std::exp(loss), r.tokens_per_second = 1000, r.learning_rate = 0.001;
  r.text = "step " + std::to_string(step);
  return r;
}

TrainLogRecord validation(int64_t step, double elapsed, double bleu, bool improved) {
  TrainLogRecord r;
  r.kind = TrainLogRecord::Kind::validation;
  r.step = step, r.elapsed_seconds = elapsed, r.perplexity = 5, r.nll = std::log(5.0);
  r.score_name = "bleu", r.score = bleu, r.improved = improved;
  return r;
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

TEST(RunLogTest, RecordsRoundTripWithTheirFields) {
  const std::string dir = test::scratch_folder("run_log_round_trip");
  {
    RunLogWriter writer(dir, "translate");
    writer.write(progress(10, 1.5, 3.25));
    writer.write(validation(20, 3.0, 12.5, true));
    TrainLogRecord checkpoint;
    checkpoint.kind = TrainLogRecord::Kind::checkpoint;
    checkpoint.step = 20, checkpoint.checkpoint = dir + "/checkpoints/step-20";
    writer.write(checkpoint);
    TrainLogRecord message;
    message.kind = TrainLogRecord::Kind::message;
    message.text = "bad \xff byte";  // invalid UTF-8 in a message must not stop a run
    writer.write(message);
    writer.write(progress(30, 4.0, std::nan("")));  // a diverged loss
  }
  const RunLog log = read_run_log(dir);
  EXPECT_EQ(log.task, "translate");
  ASSERT_EQ(log.records.size(), 5u);
  EXPECT_EQ(log.records[0].kind, "progress");
  EXPECT_EQ(log.records[0].step, 10);
  EXPECT_DOUBLE_EQ(log.records[0].loss, 3.25);
  EXPECT_DOUBLE_EQ(log.records[0].elapsed, 1.5);
  EXPECT_DOUBLE_EQ(log.records[0].learning_rate, 0.001);
  EXPECT_GT(log.records[0].time, 1.7e9);  // seconds since the Unix epoch
  EXPECT_EQ(log.records[1].kind, "validation");
  EXPECT_EQ(log.records[1].score_name, "bleu");
  EXPECT_DOUBLE_EQ(log.records[1].score, 12.5);
  EXPECT_TRUE(log.records[1].improved);
  EXPECT_EQ(log.records[2].checkpoint, dir + "/checkpoints/step-20");
  EXPECT_EQ(log.records[3].text, "bad \xef\xbf\xbd byte");
  EXPECT_TRUE(std::isnan(log.records[4].loss));
}

TEST(RunLogTest, AResumedSegmentSupersedesTheStepsItRedidAndTimeCountsOn) {
  const std::string dir = test::scratch_folder("run_log_resume");
  {
    RunLogWriter first(dir, "translate");
    for (int step = 10; step <= 50; step += 10)
      first.write(progress(step, step / 10.0, 4));
  }  // died after step 50; its last checkpoint was step 30
  {
    RunLogWriter second(dir, "translate");
    for (int step = 40; step <= 60; step += 10)
      second.write(progress(step, step / 10.0 - 3, 2));
  }
  const RunLog log = read_run_log(dir);
  std::vector<int64_t> steps;
  std::vector<double> elapsed, loss;
  for (const RunLogRecord& r : log.records)
    steps.push_back(r.step), elapsed.push_back(r.elapsed), loss.push_back(r.loss);
  EXPECT_EQ(steps, (std::vector<int64_t>{10, 20, 30, 40, 50, 60}));
  EXPECT_EQ(loss, (std::vector<double>{4, 4, 4, 2, 2, 2}));
  EXPECT_EQ(elapsed, (std::vector<double>{1, 2, 3, 4, 5, 6}));  // 3 s + the second's 1, 2, 3
}

TEST(RunLogTest, ATornLastLineIsSkippedAndADamagedLineIsNamed) {
  const std::string dir = test::scratch_folder("run_log_damage");
  { RunLogWriter(dir, "caption").write(progress(10, 1, 3)); }
  std::ifstream in(dir + "/log.jsonl", std::ios::binary);
  std::stringstream whole;
  whole << in.rdbuf();
  write_text(dir + "/log.jsonl", whole.str() + "{\"kind\":\"progress\",\"st");
  EXPECT_EQ(read_run_log(dir).records.size(), 1u);  // being written right now

  write_text(dir + "/log.jsonl", whole.str() + "{\"kind\": \"progress\", \"step\": \"ten\"}\n");
  try {
    read_run_log(dir);
    FAIL() << "a wrong field type read";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("log.jsonl:3: \"step\" is not an integer"),
              std::string::npos)
        << e.what();
  }
  write_text(dir + "/log.jsonl", "garbage\n" + whole.str());
  EXPECT_THROW(read_run_log(dir), InputError);
  write_text(dir + "/log.jsonl", "");
  EXPECT_TRUE(read_run_log(dir).records.empty());
  fs::remove(dir + "/log.jsonl");
  EXPECT_TRUE(read_run_log(dir).records.empty());  // not started yet
}

TEST(RunLogTest, RunsAreFoundUnderAFolderWithTheirFigures) {
  const std::string dir = test::scratch_folder("run_log_list");
  fs::create_directories(dir + "/a/model");
  write_text(dir + "/a/model/model.safetensors", "x");
  {
    RunLogWriter writer(dir + "/a", "translate");
    writer.write(progress(10, 1, 3));
    writer.write(validation(20, 2, 7.5, true));
    writer.write(validation(40, 4, 6.0, false));
  }
  fs::create_directories(dir + "/group/b");
  { RunLogWriter(dir + "/group/b", "caption").write(progress(5, 1, 2)); }
  fs::create_directories(dir + "/broken");
  write_text(dir + "/broken/log.jsonl", "garbage\n{}\n");
  fs::create_directories(dir + "/not_a_run");

  EXPECT_EQ(find_runs(dir), (std::vector<std::string>{"a", "broken", "group/b"}));
  const std::vector<RunInfo> runs = list_runs(dir);
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0].name, "a");
  EXPECT_EQ(runs[0].task, "translate");
  EXPECT_EQ(runs[0].step, 40);
  EXPECT_TRUE(runs[0].has_model);
  EXPECT_EQ(runs[0].score_name, "bleu");
  EXPECT_DOUBLE_EQ(runs[0].best_score, 7.5);
  EXPECT_GT(runs[0].updated, 1.7e9);
  EXPECT_EQ(runs[1].name, "broken");  // listed without figures: the others still show
  EXPECT_EQ(runs[1].step, 0);
  EXPECT_EQ(runs[2].name, "group/b");
  EXPECT_EQ(runs[2].task, "caption");
  EXPECT_FALSE(runs[2].has_model);
  EXPECT_THROW(list_runs(dir + "/missing"), InputError);
}

TEST(RunLogTest, TheLearningCurvesAreAPngWrittenWholeOrNotAtAll) {
  const std::string dir = test::scratch_folder("run_log_plot");
  for (const char* run : {"one", "two"}) {
    fs::create_directories(dir + "/" + run);
    RunLogWriter writer(dir + "/" + run, "translate");
    for (int step = 10; step <= 100; step += 10) {
      writer.write(progress(step, step * 0.6, 5.0 / step + (run[0] == 'o' ? 0 : 0.1)));
      if (step % 50 == 0) writer.write(validation(step, step * 0.6, step / 10.0, true));
    }
  }
  const std::string png = dir + "/curves.png";
  plot_learning_curves({dir + "/one", dir + "/two"}, png, {.width = 800, .height = 500});
  std::ifstream in(png, std::ios::binary);
  std::string header(24, '\0');
  in.read(header.data(), 24);
  EXPECT_EQ(header.substr(0, 8), "\x89PNG\r\n\x1a\n");
  // IHDR: width and height, big-endian, at bytes 16..23.
  auto be32 = [&](int at) {
    return (static_cast<uint32_t>(static_cast<unsigned char>(header[at])) << 24) |
           (static_cast<unsigned char>(header[at + 1]) << 16) |
           (static_cast<unsigned char>(header[at + 2]) << 8) |
           static_cast<unsigned char>(header[at + 3]);
  };
  EXPECT_EQ(be32(16), 800u);
  EXPECT_EQ(be32(20), 500u);
  EXPECT_GT(fs::file_size(png), 5000u);  // curves, ticks, legends: far from a blank image

  const std::string none = dir + "/none.png";
  EXPECT_THROW(plot_learning_curves({dir + "/one", dir + "/missing"}, none), InputError);
  fs::create_directories(dir + "/empty");
  write_text(dir + "/empty/log.jsonl", "");
  EXPECT_THROW(plot_learning_curves({dir + "/empty"}, none), InputError);
  EXPECT_THROW(plot_learning_curves({dir + "/one"}, none, {.width = 10, .height = 10}),
               InvalidArgument);
  EXPECT_FALSE(fs::exists(none));
}

}  // namespace
}  // namespace s2s::api
