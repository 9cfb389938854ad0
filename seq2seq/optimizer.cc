// Optimizer: state bookkeeping around ops::adam_step / ops::sgd_step.
#include "seq2seq/optimizer.h"

#include <cmath>
#include <unordered_set>

#include "seq2seq/ops/grad_norm.h"
#include "seq2seq/ops/optimizer_step.h"

namespace s2s {

Optimizer::Optimizer(OptimizerOptions options) : options_(options) {
  const auto in_unit = [](double x) { return x >= 0 && x < 1; };
  S2S_CHECK_AS(ConfigError, in_unit(options_.beta1), "optimizer beta1 must be in [0, 1), got ",
               options_.beta1);
  S2S_CHECK_AS(ConfigError, in_unit(options_.beta2), "optimizer beta2 must be in [0, 1), got ",
               options_.beta2);
  S2S_CHECK_AS(ConfigError, options_.eps > 0 && std::isfinite(options_.eps),
               "optimizer eps must be positive, got ", options_.eps);
  S2S_CHECK_AS(ConfigError, in_unit(options_.momentum),
               "optimizer momentum must be in [0, 1), got ", options_.momentum);
  S2S_CHECK_AS(ConfigError, options_.weight_decay >= 0 && std::isfinite(options_.weight_decay),
               "optimizer weight_decay must be >= 0, got ", options_.weight_decay);
}

void Optimizer::set_steps_taken(int64_t steps) {
  S2S_CHECK(steps >= 0, "optimizer: steps taken must be >= 0, got ", steps);
  steps_ = steps;
}

Optimizer::Slots& Optimizer::slots_for(const Parameter& param) {
  Slots& s = state_[param.name];
  const bool adam = options_.kind == OptimizerKind::adam;
  const bool needs_first = adam || options_.momentum > 0;
  if (needs_first && !s.first.defined()) {
    s.first = Tensor::zeros(param.value.shape(), param.value.dtype(), param.value.device());
    if (adam)
      s.second = Tensor::zeros(param.value.shape(), param.value.dtype(), param.value.device());
  }
  S2S_CHECK(!s.first.defined() ||
                (s.first.shape() == param.value.shape() && s.first.dtype() == param.value.dtype() &&
                 s.first.device() == param.value.device()),
            "optimizer: state of parameter '", param.name, "' is ", s.first.str(),
            " but the parameter is ", param.value.str());
  return s;
}

void Optimizer::step(const std::vector<Parameter*>& params, double lr) {
  std::unordered_set<std::string> seen;
  for (const Parameter* p : params)
    S2S_CHECK(seen.insert(p->name).second, "optimizer: parameter '", p->name,
              "' is listed twice; list a shared parameter once, by its owner");
  const int64_t t = steps_ + 1;
  for (Parameter* p : params) {
    if (!p->trainable) continue;
    Slots& s = slots_for(*p);
    if (options_.kind == OptimizerKind::adam) {
      ops::adam_step(p->value, p->grad, s.first, s.second,
                     {.lr = lr,
                      .beta1 = options_.beta1,
                      .beta2 = options_.beta2,
                      .eps = options_.eps,
                      .weight_decay = options_.weight_decay,
                      .step = t});
    } else {
      ops::sgd_step(
          p->value, p->grad, s.first.defined() ? &s.first : nullptr,
          {.lr = lr, .momentum = options_.momentum, .weight_decay = options_.weight_decay});
    }
  }
  steps_ = t;
}

std::vector<std::pair<std::string, Tensor>> Optimizer::state(
    const std::vector<Parameter*>& params) {
  std::vector<std::pair<std::string, Tensor>> out;
  const bool adam = options_.kind == OptimizerKind::adam;
  for (const Parameter* p : params) {
    if (!p->trainable) continue;
    Slots& s = slots_for(*p);
    if (adam) {
      out.emplace_back(p->name + ".adam_m", s.first);
      out.emplace_back(p->name + ".adam_v", s.second);
    } else if (s.first.defined()) {
      out.emplace_back(p->name + ".momentum", s.first);
    }
  }
  return out;
}

namespace {
std::vector<Tensor> trainable_grads(const std::vector<Parameter*>& params) {
  std::vector<Tensor> grads;
  for (const Parameter* p : params)
    if (p->trainable) grads.push_back(p->grad);
  return grads;
}
}  // namespace

double grad_norm(const std::vector<Parameter*>& params) {
  return ops::global_norm(trainable_grads(params));
}

double clip_grad_norm(const std::vector<Parameter*>& params, double max_norm) {
  return ops::clip_grad_norm(trainable_grads(params), max_norm);
}

}  // namespace s2s
