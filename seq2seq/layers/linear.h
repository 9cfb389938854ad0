// Linear: the affine layer y = x W^T + b, with weight [out, in] in PyTorch's layout so weights
// move between the two unchanged.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "seq2seq/layers/layer.h"

namespace s2s {

struct LinearOptions {
  int64_t in_features = 0;        // input width; required (> 0)
  int64_t out_features = 0;       // output width; required (> 0)
  bool bias = true;               // learn a bias [out] (zero-initialised)
  DType dtype = DType::f32;       // f32, or f64 for gradient checks
  Device device = Device::cpu();  // where parameters and activations live
  std::string name = "linear";    // parameter prefix: "<name>.weight", "<name>.bias"
  uint64_t seed = 0;              // stream for the Glorot-uniform weight initialisation
};

class Linear : public Layer {
 public:
  explicit Linear(LinearOptions options);

  // y = x W^T + b over every leading index. Keeps a view of x for backward: do not overwrite x
  // before backward.
  Tensor forward(const Tensor& x);  // [..., in] -> [..., out]
  // Returns dx and accumulates weight.grad += dy^T x, bias.grad += sum of dy.
  Tensor backward(const Tensor& dy);  // [..., out] -> [..., in]

  void collect_parameters(std::vector<Parameter*>& out) override;
  const LinearOptions& options() const { return options_; }
  Parameter& weight() { return weight_; }  // [out, in]
  Parameter& bias() { return bias_; }      // [out]; value undefined without a bias

 private:
  LinearOptions options_;
  Parameter weight_;
  Parameter bias_;
  Tensor x_;  // forward's input, flattened to [N, in]
};

}  // namespace s2s
