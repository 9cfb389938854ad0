// Runs one test body on every device: CPU always, CUDA when built and present. A CUDA case on a
// machine without one is skipped with a message saying why, so it shows in the test report.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "seq2seq/cuda_backend.h"
#include "seq2seq/tensor.h"

namespace s2s {
inline void PrintTo(const Device& device, std::ostream* os) {
  *os << device.str();
}
}  // namespace s2s

namespace s2s::testing {

inline std::vector<Device> all_devices() {
  return {Device::cpu(), Device::cuda(0)};
}

// The devices other than the CPU: what a parity test (a GPU against the CPU) runs on.
inline std::vector<Device> gpu_devices() {
  return {Device::cuda(0)};
}

inline std::string device_name(const ::testing::TestParamInfo<Device>& info) {
  return info.param.is_cpu() ? "cpu" : "cuda";
}

// Empty when the device can run here, else the reason it cannot.
inline std::string unavailable_reason(Device device) {
  if (device.is_cpu()) return "";
  if (!cuda::built()) return "CUDA backend not built (configure with -DS2S_CUDA=ON)";
  if (cuda::device_count() <= device.index) return "no CUDA device present: " + cuda::describe();
  return "";
}

class DeviceTest : public ::testing::TestWithParam<Device> {
 protected:
  void SetUp() override {
    const std::string reason = unavailable_reason(GetParam());
    if (!reason.empty()) GTEST_SKIP() << reason;
  }
  Device device() const { return GetParam(); }
};

}  // namespace s2s::testing

// Instantiates a DeviceTest-derived fixture over all devices.
#define S2S_INSTANTIATE_DEVICE_TEST(Fixture)                                                     \
  INSTANTIATE_TEST_SUITE_P(Devices, Fixture, ::testing::ValuesIn(::s2s::testing::all_devices()), \
                           ::s2s::testing::device_name)

// Instantiates a parity fixture (a GPU result against the CPU's) over the GPUs only: a CPU
// instance would compare the CPU with itself, so it is not made (it would only show as a skip).
#define S2S_INSTANTIATE_GPU_TEST(Fixture)                                                        \
  INSTANTIATE_TEST_SUITE_P(Devices, Fixture, ::testing::ValuesIn(::s2s::testing::gpu_devices()), \
                           ::s2s::testing::device_name)
