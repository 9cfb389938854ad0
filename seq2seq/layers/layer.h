// Layer: the base of every layer. A layer owns named parameters and implements forward and
// backward explicitly (no autograd): forward caches what backward needs, and backward consumes
// that cache, returns the gradient of its input(s) and accumulates its parameters' gradients.
// One forward/backward pair is in flight per layer object at a time.
#pragma once

#include <string>
#include <vector>

#include "seq2seq/layers/parameter.h"

namespace s2s {

class Layer {
 public:
  virtual ~Layer() = default;

  // Every parameter of this layer and its sub-layers, in a fixed order (the order optimizers,
  // checkpoints and gradient all-reduce use).
  std::vector<Parameter*> parameters() {
    std::vector<Parameter*> out;
    collect_parameters(out);
    return out;
  }
  void zero_grad() {
    for (Parameter* p : parameters())
      p->grad.zero();
  }
  // Training mode enables dropout; evaluation mode disables it.
  void set_training(bool training) { training_ = training; }
  bool training() const { return training_; }

  virtual void collect_parameters(std::vector<Parameter*>& out) = 0;

 protected:
  bool training_ = true;
};

}  // namespace s2s
