// Optimizer: the per-parameter state of Adam (AdamW) and SGD with momentum, and the update of a
// model's parameters from their gradients. The arithmetic is ops::adam_step / ops::sgd_step; this
// class owns the moment tensors, names them for checkpoints and counts steps for bias correction.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "seq2seq/layers/parameter.h"

namespace s2s {

enum class OptimizerKind { adam, sgd };

struct OptimizerOptions {
  OptimizerKind kind = OptimizerKind::adam;  // adam (AdamW with weight_decay > 0) or sgd
  double beta1 = 0.9;                        // adam: first-moment decay, in [0, 1)
  double beta2 = 0.999;                      // adam: second-moment decay, in [0, 1)
  double eps = 1e-8;                         // adam: added to sqrt(v_hat), > 0
  double momentum = 0.0;      // sgd: momentum in [0, 1); 0 = plain SGD, no buffer kept
  double weight_decay = 0.0;  // both: decoupled decay per unit lr (ops/optimizer_step.h), >= 0
};

class Optimizer {
 public:
  // Throws ConfigError naming the option when a value is out of range.
  explicit Optimizer(OptimizerOptions options = {});

  // One update of every trainable parameter in params from its grad, at learning rate lr.
  // Frozen parameters (trainable == false) are skipped and get no state. Gradients are left
  // as they are (zeroing them is the training loop's job). State is created, zeroed, the first
  // time a parameter name is seen; a name listed twice is an InvalidArgument, since stepping a
  // shared (tied) parameter twice would apply its update twice.
  void step(const std::vector<Parameter*>& params, double lr);

  // Updates taken so far; the next step() bias-corrects with steps_taken() + 1.
  int64_t steps_taken() const { return steps_; }
  void set_steps_taken(int64_t steps);  // when resuming from a checkpoint

  // The state of the trainable parameters in params, in params order, as (name, tensor) pairs
  // sharing storage with the optimizer: "<param>.adam_m" and "<param>.adam_v" for adam,
  // "<param>.momentum" for sgd with momentum, nothing for plain SGD. Missing state is created
  // (zeroed) first, so a checkpoint loader can copy_from into the returned tensors.
  std::vector<std::pair<std::string, Tensor>> state(const std::vector<Parameter*>& params);

  const OptimizerOptions& options() const { return options_; }

 private:
  struct Slots {
    Tensor first;   // adam m, or the sgd momentum buffer
    Tensor second;  // adam v; undefined for sgd
  };
  Slots& slots_for(const Parameter& param);

  OptimizerOptions options_;
  int64_t steps_ = 0;
  std::unordered_map<std::string, Slots> state_;  // by parameter name: stable across checkpoints
};

// The global L2 norm of the gradients of the trainable parameters in params (ops::global_norm).
double grad_norm(const std::vector<Parameter*>& params);
// Clips those gradients to global norm max_norm (ops::clip_grad_norm); returns the norm before
// clipping, non-finite when a gradient holds inf or NaN (then nothing is scaled).
double clip_grad_norm(const std::vector<Parameter*>& params, double max_norm);

}  // namespace s2s
