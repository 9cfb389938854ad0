// ParameterStore: the parameter server of asynchronous (Downpour) training inside one process.
// It holds the master parameters and their optimizer state, sharded by parameter: one shard per
// parameter tensor, each with its own mutex and its own Optimizer, so replicas that push or pull
// different tensors never wait for each other (no global lock). A replica pulls the current
// values into its model copy, computes a gradient on its own batch and pushes it; the store
// applies it shard by shard.
//
// Staleness: the store counts updates applied (version()). A gradient computed on parameters
// pulled at version v and pushed at version w has staleness w - v (updates it did not see). With
// max_staleness S > 0, a gradient older than S updates is dropped (policy drop) or applied with
// its learning rate scaled by (S + 1) / (staleness + 1) (policy scale; the rate rather than the
// gradient, since Adam's normalisation would undo a scaled gradient). Counters of both, and of
// the staleness seen, are kept for the log.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "seq2seq/optimizer.h"

namespace s2s {

enum class StalePolicy { drop, scale };
StalePolicy parse_stale_policy(const std::string& name);  // "drop" | "scale"; else ConfigError

struct StalenessOptions {
  int64_t max_staleness = 0;               // S: 0 = no bound, every gradient applied as it is
  StalePolicy policy = StalePolicy::drop;  // what happens to a gradient older than S updates
};

struct StalenessCounters {
  int64_t pushes = 0;         // gradients pushed
  int64_t applied = 0;        // of which applied (scaled ones included)
  int64_t dropped = 0;        // of which dropped as too stale
  int64_t scaled = 0;         // of which applied with a reduced rate
  int64_t staleness_sum = 0;  // over all pushes (for the mean)
  int64_t staleness_max = 0;
};

class ParameterStore {
 public:
  // master: the parameters served (updated in place); their order is the order replicas list
  // theirs in. Every shard gets an Optimizer with these options.
  ParameterStore(std::vector<Parameter*> master, OptimizerOptions optimizer,
                 StalenessOptions staleness);
  ~ParameterStore();

  // Copies the master values into replica (same names, same order) shard by shard and returns
  // the version it started at: the gradient computed from them is that old.
  int64_t pull(const std::vector<Parameter*>& replica);

  struct PushResult {
    bool applied = false;
    int64_t staleness = 0;
    double rate_scale = 1;  // < 1 when policy scale reduced the rate
  };
  // Applies the replica's gradients at learning rate lr, or drops them (see above).
  PushResult push(const std::vector<Parameter*>& replica, int64_t pulled_version, double lr);

  int64_t version() const { return version_.load(); }  // updates applied so far
  void set_version(int64_t version);                   // resuming

  // Holds every shard (taken in shard order, as push and pull take them: no deadlock) while the
  // caller reads a consistent snapshot: checkpoints and validation.
  std::vector<std::unique_lock<std::mutex>> lock_all();

  // The optimizer state of every shard, in master order, named as Optimizer::state names it.
  std::vector<std::pair<std::string, Tensor>> optimizer_state();
  int64_t optimizer_steps() const;
  void set_optimizer_steps(int64_t steps);

  // The counters since the last call (and resets them).
  StalenessCounters take_counters();
  size_t shards() const { return shards_.size(); }

 private:
  struct Shard;
  std::vector<std::unique_ptr<Shard>> shards_;
  StalenessOptions staleness_;
  std::atomic<int64_t> version_{0};
  // The counters, as atomics: a push takes no lock besides its shards'.
  std::atomic<int64_t> pushes_{0}, applied_{0}, dropped_{0}, scaled_{0}, staleness_sum_{0},
      staleness_max_{0};
};

}  // namespace s2s
