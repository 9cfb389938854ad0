// Scale-out pieces without MPI: the parameter store (pull, push, bounded staleness, concurrent
// pushes lose nothing), gradient buckets over a stand-in communicator, the doubled batch equals
// two accumulated batches, and async training with 2 replicas reaches the copy task's target
// loss. The MPI runs themselves are in mpi_train_test.sh (mpirun through the real binary).
#include <gtest/gtest.h>

#include <unistd.h>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <thread>

#include "decoders/attention_decoder.h"
#include "encoders/token_encoder.h"
#include "seq2seq/train/communicator.h"
#include "seq2seq/train/parameter_store.h"
#include "seq2seq/train/trainer.h"
#include "tests/test_util.h"

namespace s2s {
namespace {

namespace fs = std::filesystem;

Parameter make_param(const std::string& name, std::vector<float> values) {
  Parameter p =
      Parameter::make(name, {static_cast<int64_t>(values.size())}, DType::f32, Device::cpu());
  p.value.copy_from(Tensor::from_vector(values, {static_cast<int64_t>(values.size())}));
  return p;
}

OptimizerOptions sgd() {
  OptimizerOptions o;
  o.kind = OptimizerKind::sgd;
  return o;
}

TEST(ParameterStoreTest, PullCopiesAndPushUpdatesTheMaster) {
  Parameter a = make_param("a", {1, 2}), b = make_param("b", {3});
  ParameterStore store({&a, &b}, sgd(), {});
  Parameter ra = make_param("a", {0, 0}), rb = make_param("b", {0});
  EXPECT_EQ(store.pull({&ra, &rb}), 0);
  EXPECT_EQ(ra.value.to_vector<float>(), (std::vector<float>{1, 2}));
  ra.grad.copy_from(Tensor::from_vector(std::vector<float>{1, -1}, {2}));
  rb.grad.copy_from(Tensor::from_vector(std::vector<float>{2}, {1}));
  const auto result = store.push({&ra, &rb}, 0, 0.5);
  EXPECT_TRUE(result.applied);
  EXPECT_EQ(result.staleness, 0);
  EXPECT_EQ(store.version(), 1);
  EXPECT_EQ(a.value.to_vector<float>(), (std::vector<float>{0.5f, 2.5f}));
  EXPECT_EQ(b.value.to_vector<float>(), (std::vector<float>{2}));
  Parameter wrong = make_param("c", {0, 0});
  EXPECT_THROW(store.pull({&wrong, &rb}), InvalidArgument);
}

TEST(ParameterStoreTest, StaleGradientsAreDroppedOrScaled) {
  for (StalePolicy policy : {StalePolicy::drop, StalePolicy::scale}) {
    Parameter a = make_param("a", {0});
    ParameterStore store({&a}, sgd(), {.max_staleness = 1, .policy = policy});
    Parameter r = make_param("a", {0});
    r.grad.copy_from(Tensor::from_vector(std::vector<float>{1}, {1}));
    const int64_t old = store.pull({&r});
    store.push({&r}, store.version(), 1.0);  // two fresh updates: a = -2
    store.push({&r}, store.version(), 1.0);
    const auto late = store.push({&r}, old, 1.0);  // computed 2 updates ago > S = 1
    EXPECT_EQ(late.staleness, 2);
    const StalenessCounters c = store.take_counters();
    EXPECT_EQ(c.pushes, 3);
    EXPECT_EQ(c.staleness_max, 2);
    if (policy == StalePolicy::drop) {
      EXPECT_FALSE(late.applied);
      EXPECT_EQ(c.dropped, 1);
      EXPECT_FLOAT_EQ(a.value.to_vector<float>()[0], -2.0f);
    } else {
      EXPECT_TRUE(late.applied);
      EXPECT_EQ(c.scaled, 1);
      EXPECT_DOUBLE_EQ(late.rate_scale, 2.0 / 3.0);  // (S + 1) / (staleness + 1)
      EXPECT_FLOAT_EQ(a.value.to_vector<float>()[0], -2.0f - 2.0f / 3.0f);
    }
    EXPECT_EQ(store.take_counters().pushes, 0);  // taken and reset
  }
}

TEST(ParameterStoreTest, ConcurrentPushesLoseNoUpdate) {
  // Per-shard locks, no global one: 4 threads x 200 pushes of gradient 1 at rate 1 must land.
  Parameter a = make_param("a", std::vector<float>(64, 0)), b = make_param("b", {0, 0, 0});
  ParameterStore store({&a, &b}, sgd(), {});
  EXPECT_EQ(store.shards(), 2u);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      Parameter ra = make_param("a", std::vector<float>(64, 0)), rb = make_param("b", {0, 0, 0});
      ra.grad.copy_from(Tensor::from_vector(std::vector<float>(64, 1), {64}));
      rb.grad.copy_from(Tensor::from_vector(std::vector<float>{1, 1, 1}, {3}));
      for (int i = 0; i < 200; ++i)
        store.push({&ra, &rb}, store.pull({&ra, &rb}), 1.0);
    });
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(store.version(), 800);
  for (float v : a.value.to_vector<float>())
    EXPECT_EQ(v, -800.0f);
  EXPECT_EQ(b.value.to_vector<float>(), (std::vector<float>{-800, -800, -800}));
}

// Two ranks in one process: the "other" rank holds the same gradients, so a sum doubles them.
class DoublingCommunicator : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 2; }
  std::string describe() const override { return "test"; }
  std::vector<double> sum_scalars(const std::vector<double>& v, double) override {
    std::vector<double> out = v;
    for (double& x : out)
      x *= 2;
    return out;
  }
  void start_sum(Tensor buffer) override {
    ++started;
    pending.push_back(buffer);
  }
  void wait_all() override {
    for (Tensor& t : pending) {
      float* x = t.data<float>();
      for (int64_t i = 0; i < t.numel(); ++i)
        x[i] *= 2;
    }
    pending.clear();
  }
  void broadcast(Tensor, int) override {}
  [[noreturn]] void abort(const std::string& message) override { throw RankTimeout(message); }
  int started = 0;
  std::vector<Tensor> pending;
};

TEST(GradientReducerTest, BucketsPackAndUnpackEveryGradient) {
  std::vector<Parameter> params;
  for (int i = 0; i < 5; ++i) {
    params.push_back(make_param("p" + std::to_string(i), std::vector<float>(3 + 10 * i, 0)));
    std::vector<float> g(3 + 10 * i);
    for (size_t j = 0; j < g.size(); ++j)
      g[j] = static_cast<float>(i * 100 + j);
    params.back().grad.copy_from(Tensor::from_vector(g, {static_cast<int64_t>(g.size())}));
  }
  params[2].trainable = false;  // frozen: not sent, left alone
  std::vector<Parameter*> first = {&params[0], &params[1], &params[2]},
                          second = {&params[3], &params[4]};
  DoublingCommunicator comm;
  GradientReducer reducer(comm, 100);  // 100 bytes: p0 + p1 (12 + 52) share one; p3, p4 alone
  reducer.start(first);
  reducer.start(second);
  reducer.finish();
  EXPECT_EQ(comm.started, 3);
  EXPECT_EQ(reducer.bytes_sent(), 4 * (3 + 13 + 33 + 43));
  for (int i = 0; i < 5; ++i) {
    const auto g = params[i].grad.to_vector<float>();
    for (size_t j = 0; j < g.size(); ++j)
      EXPECT_EQ(g[j], static_cast<float>((i * 100 + j) * (i == 2 ? 1 : 2))) << i << " " << j;
  }
}

TEST(ParallelOptionsTest, BadNamesAreConfigErrors) {
  EXPECT_EQ(parse_parallel_mode("sync"), ParallelMode::sync);
  EXPECT_EQ(parse_stale_policy("scale"), StalePolicy::scale);
  EXPECT_THROW(parse_parallel_mode("allreduce"), ConfigError);
  EXPECT_THROW(parse_stale_policy("ignore"), ConfigError);
  Parameter a = make_param("a", {0});
  EXPECT_THROW(ParameterStore({&a}, sgd(), {.max_staleness = -1}), ConfigError);
}

TEST(CommunicatorTest, SyncWithoutMpiIsAClearError) {
  if (mpi_available()) GTEST_SKIP() << "built with MPI (mpi_train_test.sh runs it)";
  try {
    make_mpi_communicator(10);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("S2S_MPI"), std::string::npos) << e.what();
  }
}

// A tiny attention model in double precision.
struct Model {
  std::unique_ptr<TokenEncoder> encoder;
  std::unique_ptr<AttentionDecoder> decoder;
  std::vector<Parameter*> params() {
    std::vector<Parameter*> p = encoder->parameters();
    for (Parameter* q : decoder->parameters())
      p.push_back(q);
    return p;
  }
};

Model tiny_model(DType dtype, double dropout) {
  Model m;
  TokenEncoderOptions e;
  e.vocab_size = 12;
  e.embed_size = 8;
  e.hidden_size = 8;
  e.num_layers = 1;
  e.dropout = dropout;
  e.dtype = dtype;
  e.seed = 1;
  m.encoder = std::make_unique<TokenEncoder>(e);
  AttentionDecoderOptions d;
  d.vocab_size = 12;
  d.embed_size = 16;
  d.hidden_size = 16;
  d.memory_size = 16;
  d.summary_size = 16;
  d.dropout = dropout;
  d.dtype = dtype;
  d.seed = 2;
  m.decoder = std::make_unique<AttentionDecoder>(d);
  return m;
}

TEST(DataParallelTest, TwoBatchesSummedEqualTheDoubledBatch) {
  // What sync training relies on: gradients of batch b1 and b2, each scaled by the tokens of
  // both, summed, equal the gradient of one batch holding both (padded to the longer).
  std::vector<data::Example> one = {{{4, 5, 6}, {4, 5, 6}}, {{7, 8}, {7, 8}}},
                             two = {{{9, 10, 11, 4, 5}, {9, 10, 11, 4, 5}}, {{6}, {6}}};
  std::vector<data::Example> both = one;
  both.insert(both.end(), two.begin(), two.end());
  Model m = tiny_model(DType::f64, 0.0);
  m.encoder->set_training(true);
  m.decoder->set_training(true);
  const auto grads = [&](const std::vector<std::vector<data::Example>>& parts) {
    for (Parameter* p : m.params())
      p->grad.zero();
    double tokens = 0;
    for (const auto& part : parts)
      tokens += static_cast<double>(data::make_batch(part).target_tokens);
    ops::XentOptions xent;
    xent.label_smoothing = 0.1;
    xent.pad_id = 0;  // make_batch's padding
    xent.grad_scale = 1.0 / tokens;
    for (const auto& part : parts) {
      const data::Batch b = data::make_batch(part);
      Tensor mask = Tensor::empty(b.source_mask.shape(), DType::f64);
      for (int64_t i = 0; i < mask.numel(); ++i)
        mask.data<double>()[i] = b.source_mask.data<float>()[i];
      const Memory memory = m.encoder->encode(b.source, mask, nullptr);
      auto result =
          m.decoder->forward_backward(memory, b.target_input, b.target_output, xent, nullptr);
      m.encoder->backward(result.d_memory);
    }
    std::vector<std::vector<double>> out;
    for (Parameter* p : m.params())
      out.push_back(p->grad.to_vector<double>());
    return out;
  };
  const auto split = grads({one, two});
  const auto doubled = grads({both});
  ASSERT_EQ(split.size(), doubled.size());
  for (size_t i = 0; i < split.size(); ++i) {
    double diff = 0, norm = 0;
    for (size_t j = 0; j < split[i].size(); ++j) {
      diff += (split[i][j] - doubled[i][j]) * (split[i][j] - doubled[i][j]);
      norm += doubled[i][j] * doubled[i][j];
    }
    EXPECT_LE(std::sqrt(diff), 1e-10 * std::sqrt(norm) + 1e-14) << m.params()[i]->name;
  }
}

// Characters a..h are ids 4..11; 0 pad, 2 BOS, 3 EOS.
std::vector<int32_t> encode(const std::string& text) {
  std::vector<int32_t> ids;
  for (char c : text)
    if (c >= 'a' && c <= 'h') ids.push_back(4 + (c - 'a'));
  return ids;
}

// The copy task's batches (tests/test_util.h writes the corpus at path).
std::unique_ptr<data::Batcher> copy_task_batcher(const std::string& path, int64_t batch_tokens) {
  data::BatcherOptions b;
  b.batch_tokens = batch_tokens;
  b.max_length = 10;
  b.seed = 7;
  b.pool_size = 32;
  b.shuffle_buffer = 32;
  return std::make_unique<data::Batcher>(
      [path](int64_t) { return std::make_unique<data::ParallelCorpus>(std::vector{path}); }, encode,
      encode, b);
}

TEST(AsyncTrainingTest, TwoReplicasReachTheCopyTasksTargetLoss) {
  // The copy task of trainer_test.cc, whose target is a loss under 1.0 within 400 updates.
  const fs::path dir = fs::temp_directory_path() / "s2s_async_test";
  fs::remove_all(dir);
  fs::create_directories(dir);
  testing::write_copy_task_corpus((dir / "train.tsv").string());
  Model main = tiny_model(DType::f32, 0.0), r0 = tiny_model(DType::f32, 0.0),
        r1 = tiny_model(DType::f32, 0.0);
  const auto batcher = copy_task_batcher((dir / "train.tsv").string(), 64);
  TrainerOptions t;
  t.max_steps = 400;
  t.schedule.learning_rate = 0.01;
  t.schedule.warmup_steps = 5;
  t.log_every = 20;
  t.valid_every = 0;
  t.save_every = 200;
  t.output_dir = (dir / "out").string();
  t.parallel.mode = ParallelMode::async;
  t.parallel.staleness = {.max_staleness = 4, .policy = StalePolicy::drop};
  std::vector<std::string> lines;
  TrainerHooks hooks;
  hooks.config_yaml = "model: {}\n";
  hooks.log = [&](const std::string& line) { lines.push_back(line); };
  Trainer trainer(*main.encoder, *main.decoder, *batcher, {}, t, hooks);
  trainer.add_replica(*r0.encoder, *r0.decoder);
  trainer.add_replica(*r1.encoder, *r1.decoder);
  const TrainingSummary summary = trainer.run();
  EXPECT_EQ(summary.reason, StopReason::max_steps);
  EXPECT_GE(summary.steps, 400);
  EXPECT_LT(summary.last_loss, 1.0);
  bool logged_staleness = false;
  for (const std::string& line : lines)
    logged_staleness |= line.find("staleness mean") != std::string::npos;
  EXPECT_TRUE(logged_staleness);
  EXPECT_TRUE(fs::exists(dir / "out" / "model" / "model.safetensors"));
  const std::string latest = trainer.latest_checkpoint();
  ASSERT_FALSE(latest.empty());
  EXPECT_TRUE(fs::exists(fs::path(latest) / "optimizer.safetensors"));
  fs::remove_all(dir);
}

// In-process workers (train.workers): each batch cut into shards run on worker threads, their
// gradients summed. In f64 without dropout, N workers' updates equal one thread's on the whole
// batch to float summation order; with dropout, a run stopped and resumed equals the whole run.
class WorkersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("s2s_workers_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    testing::write_copy_task_corpus((dir_ / "train.tsv").string());
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Trains `steps` updates (or resumes `out` first) with `workers` workers; the final weights.
  std::vector<double> train(int workers, DType dtype, double dropout, int64_t steps,
                            const std::string& out, bool resume = false) {
    Model main = tiny_model(dtype, dropout);
    std::vector<Model> copies;
    for (int w = 1; w < workers; ++w)
      copies.push_back(tiny_model(dtype, dropout));
    const auto batcher = copy_task_batcher((dir_ / "train.tsv").string(), 96);
    TrainerOptions t;
    t.max_steps = steps;
    t.schedule.learning_rate = 0.01;
    t.schedule.warmup_steps = 2;
    t.log_every = 100;
    t.valid_every = 0;
    t.save_every = 3;
    t.workers = workers;
    t.output_dir = (dir_ / out).string();
    TrainerHooks hooks;
    hooks.config_yaml = "model: {}\n";
    hooks.log = [](const std::string&) {};
    Trainer trainer(*main.encoder, *main.decoder, *batcher, {}, t, hooks);
    for (Model& c : copies)
      trainer.add_worker(*c.encoder, *c.decoder);
    if (resume) trainer.resume(trainer.latest_checkpoint());
    trainer.run();
    std::vector<double> all;
    for (Parameter* p : main.params()) {
      if (p->value.dtype() == DType::f64) {
        const std::vector<double> values = p->value.to_vector<double>();
        all.insert(all.end(), values.begin(), values.end());
      } else {
        const std::vector<float> values = p->value.to_vector<float>();
        all.insert(all.end(), values.begin(), values.end());
      }
    }
    return all;
  }

  fs::path dir_;
};

TEST_F(WorkersTest, ShardedUpdatesEqualTheWholeBatchsInF64) {
  const std::vector<double> one = train(1, DType::f64, 0.0, 6, "one");
  for (int workers : {2, 3}) {
    const std::vector<double> sharded =
        train(workers, DType::f64, 0.0, 6, "w" + std::to_string(workers));
    ASSERT_EQ(sharded.size(), one.size());
    double diff = 0, norm = 0, moved = 0;
    const std::vector<double> start = [&] {
      Model m = tiny_model(DType::f64, 0.0);
      std::vector<double> all;
      for (Parameter* p : m.params()) {
        const std::vector<double> v = p->value.to_vector<double>();
        all.insert(all.end(), v.begin(), v.end());
      }
      return all;
    }();
    for (size_t i = 0; i < one.size(); ++i) {
      diff = std::max(diff, std::abs(sharded[i] - one[i]));
      norm = std::max(norm, std::abs(one[i]));
      moved = std::max(moved, std::abs(one[i] - start[i]));
    }
    EXPECT_GT(moved, 1e-3);  // six updates moved the weights
    EXPECT_LE(diff, 1e-10 * norm) << workers << " workers";
  }
}

TEST_F(WorkersTest, AResumedShardedRunEqualsTheUninterruptedOneWithDropout) {
  const std::vector<double> whole = train(2, DType::f32, 0.1, 9, "whole");
  train(2, DType::f32, 0.1, 6, "split");  // checkpoints at 3 and 6
  const std::vector<double> resumed = train(2, DType::f32, 0.1, 9, "split", true);
  EXPECT_EQ(resumed, whole);
}

TEST_F(WorkersTest, WorkersAreRefusedWithAsyncReplicas) {
  Model main = tiny_model(DType::f32, 0.0);
  const auto batcher = copy_task_batcher((dir_ / "train.tsv").string(), 64);
  TrainerOptions t;
  t.max_steps = 1;
  t.workers = 2;
  t.parallel.mode = ParallelMode::async;
  t.output_dir = (dir_ / "out").string();
  EXPECT_THROW(Trainer(*main.encoder, *main.decoder, *batcher, {}, t, {}), ConfigError);
  t.parallel.mode = ParallelMode::none;
  t.workers = 0;
  EXPECT_THROW(Trainer(*main.encoder, *main.decoder, *batcher, {}, t, {}), ConfigError);
}

}  // namespace
}  // namespace s2s
