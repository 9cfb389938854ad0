// The trainer on a tiny copy task: the loss falls, an interrupted-and-resumed run equals the
// uninterrupted one exactly, a stop request saves a checkpoint, checkpoints are complete, and a
// damaged one is refused by name.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "decoders/attention_decoder.h"
#include "encoders/token_encoder.h"
#include "seq2seq/manifest.h"
#include "seq2seq/stop_signal.h"
#include "seq2seq/train/trainer.h"
#include "tests/test_util.h"

namespace s2s {
namespace {

namespace fs = std::filesystem;

// Characters a..h are ids 4..11; 0 pad, 2 BOS, 3 EOS.
std::vector<int32_t> encode(const std::string& text) {
  std::vector<int32_t> ids;
  for (char c : text)
    if (c >= 'a' && c <= 'h') ids.push_back(4 + (c - 'a'));
  return ids;
}

class TrainerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("s2s_trainer_" + std::to_string(::getpid()) + "_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    testing::write_copy_task_corpus((dir_ / "train.tsv").string());
  }
  void TearDown() override { fs::remove_all(dir_); }

  struct Run {
    std::unique_ptr<TokenEncoder> encoder;
    std::unique_ptr<AttentionDecoder> decoder;
    std::unique_ptr<data::Batcher> batcher;
    std::unique_ptr<Trainer> trainer;
  };

  Run make(int64_t max_steps, const std::string& out, double dropout = 0.1,
           int64_t log_every = 20) {
    Run r;
    TokenEncoderOptions e;
    e.vocab_size = 12;
    e.embed_size = 8;
    e.hidden_size = 8;
    e.num_layers = 1;
    e.dropout = dropout;
    e.seed = 1;
    r.encoder = std::make_unique<TokenEncoder>(e);
    AttentionDecoderOptions d;
    d.vocab_size = 12;
    d.embed_size = 16;
    d.hidden_size = 16;
    d.memory_size = 16;
    d.summary_size = 16;
    d.dropout = dropout;
    d.seed = 2;
    r.decoder = std::make_unique<AttentionDecoder>(d);
    data::BatcherOptions b;
    b.batch_tokens = 64;
    b.max_length = 10;
    b.seed = 7;
    b.pool_size = 32;
    b.shuffle_buffer = 32;
    const std::string path = (dir_ / "train.tsv").string();
    r.batcher = std::make_unique<data::Batcher>(
        [path](int64_t) { return std::make_unique<data::ParallelCorpus>(std::vector{path}); },
        encode, encode, b);
    TrainerOptions t;
    t.max_steps = max_steps;
    t.schedule.learning_rate = 0.01;
    t.schedule.warmup_steps = 5;
    t.log_every = log_every;
    t.valid_every = 0;
    t.save_every = 3;
    t.output_dir = (dir_ / out).string();
    TrainerHooks hooks;
    hooks.config_yaml = "model: {}\n";
    hooks.log = [](const std::string& line) {
      if (std::getenv("S2S_TEST_VERBOSE")) std::fprintf(stderr, "%s\n", line.c_str());
    };
    r.trainer = std::make_unique<Trainer>(*r.encoder, *r.decoder, *r.batcher,
                                          std::vector<data::Batch>{}, t, hooks);
    return r;
  }

  static std::vector<float> weights(Run& r) {
    std::vector<float> all;
    for (auto* layer : {static_cast<Layer*>(r.encoder.get()), static_cast<Layer*>(r.decoder.get())})
      for (Parameter* p : layer->parameters()) {
        auto v = p->value.to_vector<float>();
        all.insert(all.end(), v.begin(), v.end());
      }
    return all;
  }

  fs::path dir_;
};

TEST_F(TrainerTest, LossFallsOnACopyTask) {
  Run r = make(400, "out", 0.0);
  const TrainingSummary summary = r.trainer->run();
  EXPECT_EQ(summary.reason, StopReason::max_steps);
  EXPECT_EQ(summary.steps, 400);
  EXPECT_GT(summary.epochs_completed, 0);
  // last_loss: the mean over the last log interval (20 steps). Uniform guessing over 12 tokens
  // costs log(12) = 2.48 nats per token; label smoothing 0.1 puts the floor near 0.4.
  EXPECT_LT(summary.last_loss, 1.0);
  EXPECT_TRUE(fs::exists(dir_ / "out" / "model" / "model.safetensors"));
  EXPECT_TRUE(fs::exists(dir_ / "out" / "model" / "config.yaml"));
}

TEST_F(TrainerTest, ResumedRunEqualsTheUninterruptedOne) {
  Run whole = make(9, "whole");
  whole.trainer->run();

  Run part = make(6, "split");
  part.trainer->run();  // checkpoints at 3 and 6
  Run rest = make(9, "split");
  const std::string latest = rest.trainer->latest_checkpoint();
  ASSERT_NE(latest.find("step-000000006"), std::string::npos) << latest;
  rest.trainer->resume(latest);
  rest.trainer->run();
  EXPECT_EQ(weights(rest), weights(whole));
}

// A checkpoint with one flipped bit in its optimizer state is refused by name before anything
// is loaded; the checkpoint before it then resumes to the uninterrupted run's weights.
TEST_F(TrainerTest, ADamagedCheckpointIsNamedAndChangesNothing) {
  Run whole = make(9, "whole");
  whole.trainer->run();
  Run part = make(9, "split");
  part.trainer->run();  // checkpoints at 3, 6 and 9
  const fs::path damaged = dir_ / "split" / "checkpoints" / "step-000000009";
  std::fstream file(damaged / "optimizer.safetensors",
                    std::ios::in | std::ios::out | std::ios::binary);
  file.seekg(-3, std::ios::end);
  const char byte = static_cast<char>(file.get() ^ 0x04);
  file.seekp(-3, std::ios::end);
  file.put(byte);
  file.close();

  Run rest = make(9, "split");
  const std::vector<float> before = weights(rest);
  try {
    rest.trainer->resume(damaged.string());
    FAIL() << "resumed from a damaged checkpoint";
  } catch (const IntegrityError& e) {
    EXPECT_NE(std::string(e.what()).find((damaged / "optimizer.safetensors").string()),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(weights(rest), before);
  rest.trainer->resume((dir_ / "split" / "checkpoints" / "step-000000006").string());
  rest.trainer->run();
  EXPECT_EQ(weights(rest), weights(whole));
}

TEST_F(TrainerTest, StopRequestSavesACheckpointAndReturns) {
  Run r = make(1000, "stopped");
  request_stop();
  const TrainingSummary summary = r.trainer->run();
  clear_stop_request();
  EXPECT_EQ(summary.reason, StopReason::interrupted);
  EXPECT_EQ(summary.steps, 0);
  // Stopping after some steps: the checkpoint is the last step.
  Run again = make(4, "stopped2");
  again.trainer->run();
  const std::string latest = again.trainer->latest_checkpoint();
  ASSERT_FALSE(latest.empty());
  for (const char* file :
       {"model.safetensors", "optimizer.safetensors", "state.yaml", "config.yaml", ".complete"})
    EXPECT_TRUE(fs::exists(fs::path(latest) / file)) << file;
  EXPECT_NE(latest.find("step-000000004"), std::string::npos);
}

TEST_F(TrainerTest, ResumingIntoAnotherModelIsANamedError) {
  Run r = make(3, "a");
  r.trainer->run();
  Run other = make(3, "b");
  other.encoder.reset();  // keep the compiler honest about lifetimes below
  TokenEncoderOptions e;
  e.vocab_size = 12;
  e.embed_size = 4;  // a different shape
  e.hidden_size = 8;
  e.num_layers = 1;
  Run mismatched = make(3, "c");
  mismatched.encoder = std::make_unique<TokenEncoder>(e);
  TrainerOptions t;
  t.max_steps = 3;
  t.output_dir = (dir_ / "c").string();
  TrainerHooks hooks;
  hooks.log = [](const std::string&) {};
  Trainer trainer(*mismatched.encoder, *mismatched.decoder, *mismatched.batcher, {}, t, hooks);
  try {
    trainer.resume(r.trainer->latest_checkpoint());
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("encoder.embedding.weight"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace s2s
