// Conv2d: a 2-D convolution layer over NCHW images (ops/conv2d.h), with weight [O, C, KH, KW] and
// bias [O] in PyTorch's layout so weights move between the two unchanged.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "seq2seq/layers/layer.h"
#include "seq2seq/ops/conv2d.h"

namespace s2s {

struct Conv2dOptions {
  int64_t in_channels = 0;        // C; required (> 0)
  int64_t out_channels = 0;       // O; required (> 0)
  int64_t kernel_size = 3;        // KH = KW, >= 1
  int64_t stride = 1;             // >= 1
  int64_t padding = 0;            // zeros on each side, >= 0 (kernel_size / 2 keeps H and W)
  bool bias = true;               // learn a bias [O] (zero-initialised); off before batch norm
  DType dtype = DType::f32;       // f32, or f64 for gradient checks
  Device device = Device::cpu();  // CUDA has no conv body yet (BackendUnavailable at forward)
  std::string name = "conv";      // parameter prefix: "<name>.weight", "<name>.bias"
  uint64_t seed = 0;              // stream for the He-uniform weight initialisation
};

class Conv2d : public Layer {
 public:
  explicit Conv2d(Conv2dOptions options);

  // Keeps a view of x for backward: do not overwrite x before backward.
  Tensor forward(const Tensor& x);  // [N, C, H, W] -> [N, O, OH, OW]
  // Accumulates weight.grad and bias.grad; returns dx [N, C, H, W], or an undefined tensor when
  // input_gradient is false (the first layer: nothing needs the gradient of the pixels).
  Tensor backward(const Tensor& dy, bool input_gradient = true);  // [N, O, OH, OW]

  // Output height or width for an input of that length.
  int64_t output_size(int64_t in) const;

  void collect_parameters(std::vector<Parameter*>& out) override;
  const Conv2dOptions& options() const { return options_; }
  Parameter& weight() { return weight_; }  // [O, C, K, K]
  Parameter& bias() { return bias_; }      // [O]; value undefined without a bias

 private:
  ops::Conv2dArgs args() const { return {options_.stride, options_.padding}; }

  Conv2dOptions options_;
  Parameter weight_;
  Parameter bias_;
  Tensor x_;  // forward's input
};

}  // namespace s2s
