// Profiler: where the time of a command goes, by op (`s2s translate --profile`). Off by default
// and then a Scope costs one relaxed atomic load; on, each Scope adds its host wall time (and
// FLOPs, where the op knows them) to a named total. Host time is the op's time on the CPU path;
// on CUDA it is only the launch time, since kernels run asynchronously.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace s2s::profile {

namespace detail {
extern std::atomic<bool> enabled;
void add(const char* name, double seconds, double flops);
}  // namespace detail

inline bool enabled() {
  return detail::enabled.load(std::memory_order_relaxed);
}
void enable(bool on);
void reset();

struct Total {
  std::string name;
  double seconds = 0;
  int64_t calls = 0;
  double flops = 0;
};
std::vector<Total> totals();  // largest first

// A table of the totals as shares of wall_seconds, with "other" for the time no scope covered.
std::string report(double wall_seconds);

// Times its lifetime under name (a string literal) when profiling is on.
class Scope {
 public:
  explicit Scope(const char* name, double flops = 0) {
    if (enabled()) name_ = name, flops_ = flops, start_ = std::chrono::steady_clock::now();
  }
  ~Scope() {
    if (name_)
      detail::add(name_,
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(),
                  flops_);
  }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  const char* name_ = nullptr;
  double flops_ = 0;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace s2s::profile
