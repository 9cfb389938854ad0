// Profiler totals: a small table under a mutex (scopes close a few thousand times a second).
#include "seq2seq/profiler.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <mutex>

namespace s2s::profile {

namespace {
std::mutex mutex;
std::vector<Total>& table() {
  static std::vector<Total> t;
  return t;
}
}  // namespace

namespace detail {
std::atomic<bool> enabled{false};

void add(const char* name, double seconds, double flops) {
  std::lock_guard lock(mutex);
  for (Total& t : table())
    if (t.name == name) {
      t.seconds += seconds, t.flops += flops, ++t.calls;
      return;
    }
  table().push_back(Total{name, seconds, 1, flops});
}
}  // namespace detail

void enable(bool on) {
  detail::enabled.store(on, std::memory_order_relaxed);
}

void reset() {
  std::lock_guard lock(mutex);
  table().clear();
}

std::vector<Total> totals() {
  std::lock_guard lock(mutex);
  std::vector<Total> out = table();
  std::sort(out.begin(), out.end(),
            [](const Total& a, const Total& b) { return a.seconds > b.seconds; });
  return out;
}

std::string report(double wall_seconds) {
  std::string out =
      "profile (host time):\n  op               seconds   share      calls   GFLOP/s\n";
  char line[160];
  double covered = 0;
  for (const Total& t : totals()) {
    covered += t.seconds;
    const double share = wall_seconds > 0 ? 100.0 * t.seconds / wall_seconds : 0;
    if (t.flops > 0)
      std::snprintf(line, sizeof line, "  %-14s %9.3f  %5.1f%% %10lld %9.1f\n", t.name.c_str(),
                    t.seconds, share, static_cast<long long>(t.calls),
                    t.seconds > 0 ? t.flops / t.seconds * 1e-9 : 0.0);
    else
      std::snprintf(line, sizeof line, "  %-14s %9.3f  %5.1f%% %10lld %9s\n", t.name.c_str(),
                    t.seconds, share, static_cast<long long>(t.calls), "-");
    out += line;
  }
  const double other = std::max(0.0, wall_seconds - covered);
  std::snprintf(line, sizeof line, "  %-14s %9.3f  %5.1f%%\n  %-14s %9.3f  100.0%%\n", "other",
                other, wall_seconds > 0 ? 100.0 * other / wall_seconds : 0.0, "total",
                wall_seconds);
  out += line;
  return out;
}

}  // namespace s2s::profile
