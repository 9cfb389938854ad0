// Learning-rate schedules.
#include "seq2seq/train/lr_schedule.h"

#include <algorithm>
#include <cmath>

#include "seq2seq/error.h"

namespace s2s {

ScheduleKind parse_schedule(const std::string& name) {
  if (name == "constant") return ScheduleKind::constant;
  if (name == "inverse_sqrt") return ScheduleKind::inverse_sqrt;
  if (name == "plateau") return ScheduleKind::plateau;
  throw ConfigError("unknown learning-rate schedule '" + name +
                    "': expected constant, inverse_sqrt or plateau");
}

const char* schedule_name(ScheduleKind kind) {
  switch (kind) {
    case ScheduleKind::constant:
      return "constant";
    case ScheduleKind::inverse_sqrt:
      return "inverse_sqrt";
    case ScheduleKind::plateau:
      return "plateau";
  }
  return "?";
}

LearningRateSchedule::LearningRateSchedule(ScheduleOptions options) : options_(options) {
  S2S_CHECK_AS(ConfigError, options_.learning_rate > 0, "train.learning_rate must be positive");
  S2S_CHECK_AS(ConfigError, options_.warmup_steps >= 0, "train.warmup_steps must be >= 0");
  S2S_CHECK_AS(ConfigError, options_.decay_factor > 0 && options_.decay_factor <= 1,
               "train.decay_factor must be in (0, 1]");
}

double LearningRateSchedule::rate(int64_t step) const {
  const double lr = options_.learning_rate;
  const double warmup = static_cast<double>(std::max<int64_t>(options_.warmup_steps, 1));
  const double s = static_cast<double>(std::max<int64_t>(step, 1));
  double r;
  if (s < warmup)
    r = lr * s / warmup;
  else if (options_.kind == ScheduleKind::inverse_sqrt)
    r = lr * std::sqrt(warmup / s);  // continuous at the end of warm-up
  else
    r = lr;
  return std::max(r * factor_, std::min(options_.min_learning_rate, r));
}

void LearningRateSchedule::report_validation(bool improved) {
  if (options_.kind != ScheduleKind::plateau) return;
  if (improved) {
    misses_ = 0;
    return;
  }
  if (++misses_ >= options_.decay_patience) {
    factor_ *= options_.decay_factor;
    misses_ = 0;
  }
}

}  // namespace s2s
