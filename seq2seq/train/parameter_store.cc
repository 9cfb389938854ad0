// ParameterStore: per-parameter shards, each a mutex, the master tensor and an Optimizer.
#include "seq2seq/train/parameter_store.h"

#include <algorithm>

namespace s2s {

StalePolicy parse_stale_policy(const std::string& name) {
  if (name == "drop") return StalePolicy::drop;
  if (name == "scale") return StalePolicy::scale;
  throw ConfigError("train.parallel.stale_policy must be drop or scale, got '" + name + "'");
}

struct ParameterStore::Shard {
  std::mutex mutex;
  Parameter* master;
  Optimizer optimizer;
  Shard(Parameter* p, const OptimizerOptions& options) : master(p), optimizer(options) {}
};

ParameterStore::ParameterStore(std::vector<Parameter*> master, OptimizerOptions optimizer,
                               StalenessOptions staleness)
    : staleness_(staleness) {
  S2S_CHECK_AS(ConfigError, staleness.max_staleness >= 0,
               "train.parallel.max_staleness must be >= 0, got ", staleness.max_staleness);
  S2S_CHECK(!master.empty(), "ParameterStore: no parameters");
  for (Parameter* p : master) {
    shards_.push_back(std::make_unique<Shard>(p, optimizer));
    shards_.back()->optimizer.state({p});  // create the moments now: no allocation under load
  }
}

ParameterStore::~ParameterStore() = default;

void ParameterStore::set_version(int64_t version) {
  S2S_CHECK(version >= 0, "ParameterStore: negative version ", version);
  version_ = version;
}

int64_t ParameterStore::pull(const std::vector<Parameter*>& replica) {
  S2S_CHECK(replica.size() == shards_.size(), "ParameterStore::pull: the replica has ",
            replica.size(), " parameters, the store ", shards_.size());
  const int64_t version = version_.load();
  for (size_t i = 0; i < shards_.size(); ++i) {
    Shard& s = *shards_[i];
    S2S_CHECK(replica[i]->name == s.master->name, "ParameterStore::pull: replica parameter ", i,
              " is '", replica[i]->name, "', the store's '", s.master->name, "'");
    std::lock_guard lock(s.mutex);
    replica[i]->value.copy_from(s.master->value);
  }
  return version;
}

ParameterStore::PushResult ParameterStore::push(const std::vector<Parameter*>& replica,
                                                int64_t pulled_version, double lr) {
  S2S_CHECK(replica.size() == shards_.size(), "ParameterStore::push: the replica has ",
            replica.size(), " parameters, the store ", shards_.size());
  PushResult result;
  result.staleness = std::max<int64_t>(0, version_.load() - pulled_version);
  const int64_t bound = staleness_.max_staleness;
  if (bound > 0 && result.staleness > bound) {
    if (staleness_.policy == StalePolicy::scale)
      result.rate_scale =
          static_cast<double>(bound + 1) / static_cast<double>(result.staleness + 1);
  }
  result.applied =
      !(bound > 0 && result.staleness > bound && staleness_.policy == StalePolicy::drop);
  if (result.applied) {
    for (size_t i = 0; i < shards_.size(); ++i) {
      Shard& s = *shards_[i];
      // The master's storage with the replica's gradient: the optimizer updates the master.
      Parameter view{s.master->name, s.master->value, replica[i]->grad, s.master->trainable, {}};
      std::lock_guard lock(s.mutex);
      s.optimizer.step({&view}, lr * result.rate_scale);
    }
    ++version_;
  }
  ++pushes_;
  (result.applied ? applied_ : dropped_) += 1;
  if (result.applied && result.rate_scale < 1) ++scaled_;
  staleness_sum_ += result.staleness;
  int64_t max = staleness_max_.load();
  while (result.staleness > max && !staleness_max_.compare_exchange_weak(max, result.staleness)) {
  }
  return result;
}

std::vector<std::unique_lock<std::mutex>> ParameterStore::lock_all() {
  std::vector<std::unique_lock<std::mutex>> locks;
  locks.reserve(shards_.size());
  for (auto& s : shards_)
    locks.emplace_back(s->mutex);
  return locks;
}

std::vector<std::pair<std::string, Tensor>> ParameterStore::optimizer_state() {
  std::vector<std::pair<std::string, Tensor>> out;
  for (auto& s : shards_)
    for (auto& entry : s->optimizer.state({s->master}))
      out.push_back(std::move(entry));
  return out;
}

int64_t ParameterStore::optimizer_steps() const {
  // Every applied push steps every shard, so the shards agree.
  return shards_.front()->optimizer.steps_taken();
}

void ParameterStore::set_optimizer_steps(int64_t steps) {
  for (auto& s : shards_)
    s->optimizer.set_steps_taken(steps);
}

StalenessCounters ParameterStore::take_counters() {
  // Each counter is taken and reset on its own; a push landing meanwhile may be split across two
  // intervals, which the log can live with.
  StalenessCounters out;
  out.pushes = pushes_.exchange(0);
  out.applied = applied_.exchange(0);
  out.dropped = dropped_.exchange(0);
  out.scaled = scaled_.exchange(0);
  out.staleness_sum = staleness_sum_.exchange(0);
  out.staleness_max = staleness_max_.exchange(0);
  return out;
}

}  // namespace s2s
