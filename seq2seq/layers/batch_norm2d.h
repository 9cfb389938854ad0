// BatchNorm2d: batch normalization of NCHW feature maps per channel (ops/batch_norm.h). Training
// mode normalises with the batch's statistics and updates running ones; evaluation mode
// (set_training(false)) uses the running ones.
//
// The running statistics are state, not weights, but must travel with the model: they are
// Parameters flagged trainable = false, so checkpoints save and load them like any weight (as
// "<name>.running_mean" / "<name>.running_var", PyTorch's names) while optimizers and gradient
// clipping skip them. Their grad tensors exist (Parameter's contract) and stay zero.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "seq2seq/layers/layer.h"
#include "seq2seq/ops/batch_norm.h"

namespace s2s {

struct BatchNorm2dOptions {
  int64_t channels = 0;           // C; required (> 0)
  double eps = 1e-5;              // added to the variance, > 0
  double momentum = 0.1;          // running-statistics update rate, in [0, 1]
  DType dtype = DType::f32;       // f32, or f64 for gradient checks
  Device device = Device::cpu();  // CUDA has no body yet (BackendUnavailable at forward)
  std::string name = "bn";        // parameter prefix
};

class BatchNorm2d : public Layer {
 public:
  explicit BatchNorm2d(BatchNorm2dOptions options);

  // Keeps a view of x for backward: do not overwrite x before backward. In training mode each
  // call updates the running statistics once.
  Tensor forward(const Tensor& x);  // [N, C, H, W] -> [N, C, H, W]
  // Returns dx; accumulates weight.grad and bias.grad. Differentiates the mode forward ran in.
  Tensor backward(const Tensor& dy);  // [N, C, H, W]

  void collect_parameters(std::vector<Parameter*>& out) override;
  const BatchNorm2dOptions& options() const { return options_; }
  Parameter& weight() { return weight_; }              // gamma [C], initialised to 1
  Parameter& bias() { return bias_; }                  // beta [C], initialised to 0
  Parameter& running_mean() { return running_mean_; }  // [C], 0 at first; trainable = false
  Parameter& running_var() { return running_var_; }    // [C], 1 at first; trainable = false

 private:
  BatchNorm2dOptions options_;
  Parameter weight_, bias_, running_mean_, running_var_;
  Tensor x_;                         // forward's input
  Tensor save_mean_, save_inv_std_;  // [C] the statistics forward used
  bool batch_stats_ = false;         // forward ran in training mode
};

}  // namespace s2s
