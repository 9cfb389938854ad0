// Parameter allocation, naming and initialisation.
#include "seq2seq/layers/parameter.h"

#include <cmath>

#include "seq2seq/ops/gemm.h"

namespace s2s {

void weight_product(const Tensor& x, const Parameter& w, Tensor& y, double beta) {
  if (w.quantized())
    ops::gemm_int8(x, w.int8, y, beta);
  else
    ops::gemm(x, false, w.value, true, y, 1.0, beta);
}

namespace {
thread_local bool without_gradients = false;
}  // namespace

NoGradients::NoGradients() : previous_(without_gradients) {
  without_gradients = true;
}
NoGradients::~NoGradients() {
  without_gradients = previous_;
}

Parameter Parameter::make(std::string name, Shape shape, DType dtype, Device device) {
  Parameter p;
  p.name = std::move(name);
  p.value = Tensor::zeros(shape, dtype, device);
  if (!without_gradients) p.grad = Tensor::zeros(shape, dtype, device);
  return p;
}

std::string join_name(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}

namespace {
template <typename Fill>
void fill_host(Tensor& t, Fill fill) {
  Tensor host = t.device().is_cpu() ? t : Tensor::empty(t.shape(), t.dtype());
  for (int64_t i = 0; i < host.numel(); ++i) {
    const double v = fill();
    if (host.dtype() == DType::f32)
      host.data<float>()[i] = static_cast<float>(v);
    else
      host.data<double>()[i] = v;
  }
  if (!t.device().is_cpu()) t.copy_from(host);
}
}  // namespace

void init_uniform(Tensor& t, Rng& rng, double bound) {
  S2S_CHECK(t.dtype() != DType::i32, "init_uniform: ", t.str(), " is not floating");
  fill_host(t, [&] { return rng.uniform(-bound, bound); });
}

void init_constant(Tensor& t, double value) {
  S2S_CHECK(t.dtype() != DType::i32, "init_constant: ", t.str(), " is not floating");
  fill_host(t, [&] { return value; });
}

void init_glorot_uniform(Tensor& t, Rng& rng) {
  S2S_CHECK_SHAPE(t.rank() == 2, "init_glorot_uniform: expected a 2-D weight, got ", t.str());
  init_uniform(t, rng, std::sqrt(6.0 / static_cast<double>(t.dim(0) + t.dim(1))));
}

}  // namespace s2s
