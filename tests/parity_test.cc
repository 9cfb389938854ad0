// Backend consistency: every op with a CUDA body gives the CPU's result on the same inputs.
// Tolerances, relative in norm: f32 elementwise ops use the same formula on both sides, so they
// agree to a few ulps (1e-6); tanh differs between libm and CUDA's by up to 2 ulps (2e-6);
// dropout masks are drawn from the same counter-based stream and must agree exactly.
#include <gtest/gtest.h>

#include "seq2seq/ops/dropout.h"
#include "seq2seq/ops/elementwise.h"
#include "tests/device_test.h"
#include "tests/test_util.h"

namespace s2s {
namespace {

using testing::random_tensor;
using testing::relative_norm_error;

class ParityTest : public testing::DeviceTest {
 protected:
  Tensor on_device(const Tensor& t) const { return t.to(device()); }
};

TEST_P(ParityTest, BiasAxpyScaleTanh) {
  for (DType dtype : {DType::f32, DType::f64}) {
    const double tol = dtype == DType::f32 ? 2e-6 : 1e-14;
    Tensor x = random_tensor({37, 53}, dtype, 1), bias = random_tensor({53}, dtype, 2);
    Tensor y = random_tensor({37, 53}, dtype, 3);

    Tensor x_cpu = x.clone(), x_dev = on_device(x);
    ops::add_bias(x_cpu, bias);
    Tensor bias_dev = on_device(bias);
    ops::add_bias(x_dev, bias_dev);
    EXPECT_LT(relative_norm_error(x_dev.to(Device::cpu()), x_cpu), tol) << "add_bias";

    Tensor db_cpu = bias.clone(), db_dev = on_device(bias);
    ops::bias_grad(y, db_cpu, true);
    ops::bias_grad(on_device(y), db_dev, true);
    EXPECT_LT(relative_norm_error(db_dev.to(Device::cpu()), db_cpu), tol) << "bias_grad";

    Tensor y_cpu = y.clone(), y_dev = on_device(y);
    ops::axpy(-0.75, x, y_cpu);
    ops::axpy(-0.75, on_device(x), y_dev);
    ops::scale(y_cpu, 1.5);
    ops::scale(y_dev, 1.5);
    EXPECT_LT(relative_norm_error(y_dev.to(Device::cpu()), y_cpu), tol) << "axpy, scale";

    Tensor t_cpu = Tensor::empty(x.shape(), dtype),
           t_dev = Tensor::empty(x.shape(), dtype, device());
    ops::tanh_fwd(x, t_cpu);
    ops::tanh_fwd(on_device(x), t_dev);
    EXPECT_LT(relative_norm_error(t_dev.to(Device::cpu()), t_cpu), tol) << "tanh_fwd";

    Tensor dx_cpu = y.clone(), dx_dev = on_device(y);
    ops::tanh_bwd(t_cpu, x, dx_cpu, true);
    ops::tanh_bwd(t_dev, on_device(x), dx_dev, true);
    EXPECT_LT(relative_norm_error(dx_dev.to(Device::cpu()), dx_cpu), tol) << "tanh_bwd";
  }
}

TEST_P(ParityTest, DropoutMasksAreIdentical) {
  Tensor x = random_tensor({1000, 33}, DType::f32, 4);
  Rng rng_cpu(77), rng_dev(77);
  Tensor mask_cpu = Tensor::empty(x.shape()), y_cpu = Tensor::empty(x.shape());
  Tensor mask_dev = Tensor::empty(x.shape(), DType::f32, device());
  Tensor y_dev = Tensor::empty(x.shape(), DType::f32, device());
  ops::dropout_fwd(x, 0.3, rng_cpu, mask_cpu, y_cpu);
  ops::dropout_fwd(on_device(x), 0.3, rng_dev, mask_dev, y_dev);
  EXPECT_EQ(mask_dev.to_vector<float>(), mask_cpu.to_vector<float>());
  EXPECT_EQ(y_dev.to_vector<float>(), y_cpu.to_vector<float>());
  EXPECT_EQ(rng_cpu.counter(), rng_dev.counter());
  Tensor dy = random_tensor(x.shape(), DType::f32, 5);
  Tensor dx_cpu = Tensor::empty(x.shape()), dx_dev = Tensor::empty(x.shape(), DType::f32, device());
  ops::dropout_bwd(dy, mask_cpu, dx_cpu);
  ops::dropout_bwd(on_device(dy), mask_dev, dx_dev);
  EXPECT_EQ(dx_dev.to_vector<float>(), dx_cpu.to_vector<float>());
}

S2S_INSTANTIATE_GPU_TEST(ParityTest);

}  // namespace
}  // namespace s2s
