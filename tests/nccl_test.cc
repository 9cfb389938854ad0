// The NCCL communicator (cuda/nccl_comm.h): the library loader's error, the errors of builds and
// machines that cannot use it, gradient buckets on the parameters' device, and a single-rank NCCL
// communicator on one GPU. Several ranks need several GPUs: docs/scale-out.md says how to check.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "device_test.h"
#include "seq2seq/ops/elementwise.h"
#include "seq2seq/train/communicator.h"

namespace s2s {
namespace {

using testing::DeviceTest;

// The MPI communicator of a job of one process: nothing to exchange. Counts what it is given.
class SoloCommunicator : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string describe() const override { return "solo"; }
  std::vector<double> sum_scalars(const std::vector<double>& v, double) override { return v; }
  void start_sum(Tensor buffer) override {
    EXPECT_TRUE(buffer.device().is_cpu());
    ++cpu_sums;
  }
  void wait_all() override {}
  void broadcast(Tensor buffer, int) override { EXPECT_TRUE(buffer.device().is_cpu()); }
  [[noreturn]] void abort(const std::string& message) override { throw RankTimeout(message); }
  int cpu_sums = 0;
};

// Two ranks in one process on any device: the other rank holds the same gradients, so a sum
// doubles them (ops::scale, a kernel on CUDA).
class DoublingCommunicator : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 2; }
  std::string describe() const override { return "doubling"; }
  std::vector<double> sum_scalars(const std::vector<double>& v, double) override { return v; }
  void start_sum(Tensor buffer) override {
    devices.push_back(buffer.device());
    pending.push_back(buffer);
  }
  void wait_all() override {
    for (Tensor& t : pending)
      ops::scale(t, 2.0);
    pending.clear();
  }
  void broadcast(Tensor, int) override {}
  [[noreturn]] void abort(const std::string& message) override { throw RankTimeout(message); }
  std::vector<Tensor> pending;
  std::vector<Device> devices;
};

std::vector<Parameter> gradients(Device device) {
  std::vector<Parameter> params;
  for (int i = 0; i < 4; ++i) {
    const int64_t n = 3 + 10 * i;
    params.push_back(Parameter::make("p" + std::to_string(i), {n}, DType::f32, device));
    std::vector<float> g(n);
    for (int64_t j = 0; j < n; ++j)
      g[j] = static_cast<float>(i * 100 + j);
    params.back().grad.copy_from(Tensor::from_vector(g, {n}).to(device));
  }
  return params;
}

void expect_gradients(const std::vector<Parameter>& params, float factor) {
  for (size_t i = 0; i < params.size(); ++i) {
    const std::vector<float> g = params[i].grad.to_vector<float>();
    for (size_t j = 0; j < g.size(); ++j)
      EXPECT_EQ(g[j], static_cast<float>(i * 100 + j) * factor) << "p" << i << "[" << j << "]";
  }
}

TEST(NcclLoaderTest, MissingLibraryIsAnEnvironmentErrorNamingIt) {
  const std::string path = "/nonexistent/s2s-test/libnccl.so.2";
  try {
    nccl_version(path);
    FAIL() << "loaded " << path;
  } catch (const ConfigError& e) {  // a build without CUDA (or without nccl.h) says so instead
    if (cuda::built()) GTEST_SKIP() << "built without nccl.h: " << e.what();
    EXPECT_NE(std::string(e.what()).find("S2S_CUDA"), std::string::npos) << e.what();
  } catch (const EnvironmentError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("LD_LIBRARY_PATH"), std::string::npos) << e.what();
  }
}

// Loading needs no GPU: where the library is installed (on the loader's path), it loads and
// reports a version of the major s2s was compiled against.
TEST(NcclLoaderTest, InstalledLibraryLoads) {
  if (!cuda::built()) GTEST_SKIP() << "CUDA backend not built (configure with -DS2S_CUDA=ON)";
  std::string version;
  try {
    version = nccl_version();
  } catch (const Error& e) {
    GTEST_SKIP() << "no NCCL to load here: " << e.what();
  }
  EXPECT_EQ(version.rfind("2.", 0), 0u) << version;
}

TEST(NcclCommunicatorTest, WithoutCudaOrGpuIsAClearError) {
  if (cuda::built() && cuda::device_count() > 0) GTEST_SKIP() << "a GPU is present";
  try {
    make_nccl_communicator(std::make_unique<SoloCommunicator>(), 10);
    FAIL();
  } catch (const ConfigError& e) {  // CPU-only build
    EXPECT_FALSE(cuda::built()) << e.what();
    EXPECT_NE(std::string(e.what()).find("S2S_CUDA"), std::string::npos) << e.what();
  } catch (const EnvironmentError& e) {  // CUDA build, no GPU
    EXPECT_TRUE(cuda::built()) << e.what();
    EXPECT_NE(std::string(e.what()).find("CUDA device"), std::string::npos) << e.what();
  }
}

// The reducer packs buckets where the gradients live, and unpacks them there.
class GradientReducerDeviceTest : public DeviceTest {};

TEST_P(GradientReducerDeviceTest, BucketsLiveOnTheParametersDevice) {
  std::vector<Parameter> params = gradients(device());
  DoublingCommunicator comm;
  GradientReducer reducer(comm, 100);  // 100 bytes: p0 + p1 (12 + 52) packed; p2, p3 in place
  reducer.start({&params[0], &params[1], &params[2], &params[3]});
  reducer.finish();
  ASSERT_EQ(comm.devices.size(), 3u);
  for (const Device& d : comm.devices)
    EXPECT_EQ(d, device());
  expect_gradients(params, 2);
}
S2S_INSTANTIATE_DEVICE_TEST(GradientReducerDeviceTest);

// One rank, one GPU: the NCCL id is made locally, sums and broadcasts leave the buffers as they
// are, CPU buffers go to the bootstrap, and sums see the kernels issued before them.
class NcclTest : public DeviceTest {
 protected:
  void SetUp() override {
    DeviceTest::SetUp();
    if (IsSkipped()) return;
    auto solo = std::make_unique<SoloCommunicator>();
    solo_ = solo.get();
    try {
      comm_ = make_nccl_communicator(std::move(solo), 30, device().index);
    } catch (const ConfigError& e) {
      GTEST_SKIP() << e.what();  // built without nccl.h
    } catch (const EnvironmentError& e) {
      if (std::string(e.what()).find("libnccl") == std::string::npos) throw;
      GTEST_SKIP() << "NCCL is not installed on this GPU machine: " << e.what();
    }
  }
  std::unique_ptr<Communicator> comm_;
  SoloCommunicator* solo_ = nullptr;
};

TEST_P(NcclTest, SingleRankSumsAndBroadcasts) {
  EXPECT_EQ(comm_->rank(), 0);
  EXPECT_EQ(comm_->size(), 1);
  EXPECT_EQ(comm_->device(), device());
  EXPECT_NE(comm_->describe().find("NCCL 2."), std::string::npos) << comm_->describe();

  Tensor f = Tensor::from_vector(std::vector<float>{1.5f, -2, 3}, {3}).to(device());
  Tensor d = Tensor::from_vector(std::vector<double>{0.1, 1e300, -7}, {3}).to(device());
  Tensor cpu = Tensor::from_vector(std::vector<double>{4, 5}, {2});
  // Filled by a kernel just before the sum: the sum's stream must wait for it.
  Tensor big = Tensor::from_vector(std::vector<float>(1 << 22, 1.0f), {1 << 22}).to(device());
  ops::scale(big, 3.0);
  comm_->start_sum(f);
  comm_->start_sum(d);
  comm_->start_sum(cpu);
  comm_->start_sum(big);
  comm_->wait_all();
  EXPECT_EQ(solo_->cpu_sums, 1);
  EXPECT_EQ(f.to_vector<float>(), (std::vector<float>{1.5f, -2, 3}));
  EXPECT_EQ(d.to_vector<double>(), (std::vector<double>{0.1, 1e300, -7}));
  for (float v : big.to_vector<float>())
    ASSERT_EQ(v, 3.0f);

  comm_->broadcast(f, 0);
  EXPECT_EQ(f.to_vector<float>(), (std::vector<float>{1.5f, -2, 3}));
  EXPECT_THROW(comm_->broadcast(f, 1), InvalidArgument);  // no rank 1
  Tensor ids = Tensor::zeros({2}, DType::i32, device());
  EXPECT_THROW(comm_->start_sum(ids), InvalidArgument);
}

TEST_P(NcclTest, ReducesGradientBuckets) {
  std::vector<Parameter> params = gradients(device());
  GradientReducer reducer(*comm_, 100);
  reducer.start({&params[0], &params[1]});
  reducer.start({&params[2], &params[3]});
  reducer.finish();
  expect_gradients(params, 1);  // the sum over one rank
  EXPECT_EQ(reducer.buckets_sent(), 3);
}
INSTANTIATE_TEST_SUITE_P(Cuda, NcclTest, ::testing::Values(Device::cuda(0)),
                         ::s2s::testing::device_name);

}  // namespace
}  // namespace s2s
