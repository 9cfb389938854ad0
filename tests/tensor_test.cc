// Tensor: shapes, views sharing storage, copies, alignment, errors; CUDA round trips.
#include <gtest/gtest.h>

#include <cstdint>

#include "seq2seq/tensor.h"
#include "tests/device_test.h"

namespace s2s {
namespace {

TEST(Shape, NumelRankAndText) {
  Shape s{2, 3, 4};
  EXPECT_EQ(s.rank(), 3);
  EXPECT_EQ(s.numel(), 24);
  EXPECT_EQ(s.str(), "[2, 3, 4]");
  EXPECT_EQ(Shape{}.numel(), 1);
  EXPECT_THROW((Shape{1, 2, 3, 4, 5}), ShapeError);
  EXPECT_THROW((Shape{2, -1}), ShapeError);
}

TEST(Tensor, CpuStorageIs64ByteAligned) {
  for (int64_t n : {1, 3, 17, 1000}) {
    Tensor t = Tensor::empty({n}, DType::f32);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.raw_data()) % 64, 0u) << n;
  }
}

TEST(Tensor, ViewsShareStorage) {
  Tensor t = Tensor::from_vector<float>({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, {3, 2, 2});
  Tensor row = t.select(1);
  EXPECT_EQ(row.shape(), (Shape{2, 2}));
  EXPECT_EQ(row.to_vector<float>(), (std::vector<float>{4, 5, 6, 7}));
  Tensor rows = t.slice(1, 3).reshape({2, 4});
  EXPECT_EQ(rows.to_vector<float>(), (std::vector<float>{4, 5, 6, 7, 8, 9, 10, 11}));
  row.data<float>()[0] = 40;  // writes through the view
  EXPECT_EQ(t.data<float>()[4], 40);
  Tensor copy = t.clone();
  copy.data<float>()[4] = -1;
  EXPECT_EQ(t.data<float>()[4], 40);
}

TEST(Tensor, MistakesThrowNamedErrors) {
  Tensor t = Tensor::zeros({2, 3}, DType::f32);
  EXPECT_THROW(t.data<double>(), InvalidArgument);
  EXPECT_THROW(t.slice(1, 3), ShapeError);
  EXPECT_THROW(t.select(2), ShapeError);
  EXPECT_THROW(t.reshape({4, 2}), ShapeError);
  EXPECT_THROW(Tensor::from_vector<float>({1, 2}, {3}), ShapeError);
  try {
    t.data<int32_t>();
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("f32[2, 3] on cpu accessed as i32"), std::string::npos)
        << e.what();
  }
}

TEST(Device, ParseAndPrint) {
  EXPECT_EQ(Device::parse("cpu"), Device::cpu());
  EXPECT_EQ(Device::parse("cuda"), Device::cuda(0));
  EXPECT_EQ(Device::parse("cuda:3").index, 3);
  EXPECT_EQ(Device::cuda(1).str(), "cuda:1");
  EXPECT_THROW(Device::parse("gpu"), InvalidArgument);
  EXPECT_THROW(Device::parse("cuda:x"), InvalidArgument);
}

TEST(Tensor, CudaTensorInCpuBuildNamesTheOption) {
  if (cuda::built()) GTEST_SKIP() << "this build has CUDA";
  try {
    Tensor::empty({2}, DType::f32, Device::cuda(0));
    FAIL();
  } catch (const BackendUnavailable& e) {
    EXPECT_NE(std::string(e.what()).find("S2S_CUDA=ON"), std::string::npos) << e.what();
  }
}

class TensorDeviceTest : public testing::DeviceTest {};

TEST_P(TensorDeviceTest, RoundTripZeroAndViews) {
  Tensor host = Tensor::from_vector<int32_t>({1, 2, 3, 4, 5, 6}, {3, 2});
  Tensor dev = host.to(device());
  EXPECT_EQ(dev.device(), device());
  EXPECT_EQ(dev.to_vector<int32_t>(), host.to_vector<int32_t>());
  Tensor middle = dev.select(1);
  EXPECT_EQ(middle.to_vector<int32_t>(), (std::vector<int32_t>{3, 4}));
  middle.zero();
  EXPECT_EQ(dev.to(Device::cpu()).to_vector<int32_t>(), (std::vector<int32_t>{1, 2, 0, 0, 5, 6}));
}
S2S_INSTANTIATE_DEVICE_TEST(TensorDeviceTest);

}  // namespace
}  // namespace s2s
