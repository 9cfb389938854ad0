// The learning-rate schedule: linear warm-up, then constant, inverse square root decay, or decay
// on a validation plateau. Its state is two numbers, saved in every checkpoint.
#pragma once

#include <cstdint>
#include <string>

namespace s2s {

enum class ScheduleKind { constant, inverse_sqrt, plateau };
ScheduleKind parse_schedule(const std::string& name);  // ConfigError naming the value
const char* schedule_name(ScheduleKind kind);

struct ScheduleOptions {
  ScheduleKind kind = ScheduleKind::inverse_sqrt;  // after warm-up
  double learning_rate = 1e-3;                     // peak rate, reached at the end of warm-up
  int64_t warmup_steps = 1000;                     // linear ramp from lr/warmup to lr; 0: none
  double decay_factor = 0.5;                       // plateau: multiply the rate by this...
  int decay_patience = 2;        // ...after this many validations without improvement
  double min_learning_rate = 0;  // never decay below this
};

class LearningRateSchedule {
 public:
  explicit LearningRateSchedule(ScheduleOptions options);

  // The rate for the 1-based step about to be taken.
  double rate(int64_t step) const;
  // After each validation (plateau kind): improved or not; decays after decay_patience misses.
  void report_validation(bool improved);

  // Checkpoint state.
  double factor() const { return factor_; }
  int misses() const { return misses_; }
  void restore(double factor, int misses) { factor_ = factor, misses_ = misses; }

 private:
  ScheduleOptions options_;
  double factor_ = 1.0;  // product of plateau decays so far
  int misses_ = 0;       // validations since the last improvement or decay
};

}  // namespace s2s
