// Progress: terminal status line or periodic log lines.
#include "seq2seq/progress.h"

#include <unistd.h>

#include <cmath>

namespace s2s {

Progress::Progress(std::string what, int64_t total, std::string unit, std::FILE* out)
    : what_(std::move(what)),
      unit_(std::move(unit)),
      total_(total),
      out_(out),
      terminal_(::isatty(::fileno(out)) != 0),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

Progress::~Progress() {
  if (live_) std::fputc('\n', out_);
}

double Progress::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::string Progress::format_duration(double seconds) {
  const long s = std::lround(std::max(0.0, seconds));
  char buffer[32];
  if (s >= 3600)
    std::snprintf(buffer, sizeof buffer, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else
    std::snprintf(buffer, sizeof buffer, "%ld:%02ld", s / 60, s % 60);
  return buffer;
}

std::string Progress::line(int64_t done, const std::string& detail) const {
  const double elapsed = elapsed_seconds();
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0;
  char head[256];
  if (total_ > 0) {
    const double fraction = std::min(1.0, static_cast<double>(done) / static_cast<double>(total_));
    const double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : 0;
    std::snprintf(head, sizeof head, "%s %lld/%lld %s (%.0f%%) %.1f %s/s, elapsed %s, ETA %s",
                  what_.c_str(), static_cast<long long>(done), static_cast<long long>(total_),
                  unit_.c_str(), 100 * fraction, rate, unit_.c_str(),
                  format_duration(elapsed).c_str(), format_duration(eta).c_str());
  } else {
    std::snprintf(head, sizeof head, "%s %lld %s, %.1f %s/s, elapsed %s", what_.c_str(),
                  static_cast<long long>(done), unit_.c_str(), rate, unit_.c_str(),
                  format_duration(elapsed).c_str());
  }
  return detail.empty() ? std::string(head) : std::string(head) + " | " + detail;
}

void Progress::update(int64_t done, const std::string& detail) {
  const auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - last_draw_).count();
  if (terminal_) {
    if (since < 0.2 && live_) return;
    std::fprintf(out_, "\r\033[K%s", line(done, detail).c_str());
    std::fflush(out_);
    live_ = true;
  } else {
    if (since < interval_) return;
    std::fprintf(out_, "%s\n", line(done, detail).c_str());
    std::fflush(out_);
  }
  last_draw_ = now;
}

void Progress::log(const std::string& text) {
  if (live_) std::fputs("\r\033[K", out_);
  std::fprintf(out_, "%s\n", text.c_str());
  std::fflush(out_);
  live_ = false;
  if (terminal_) last_draw_ = std::chrono::steady_clock::time_point{};  // redraw at once
}

void Progress::finish(const std::string& detail) {
  if (live_) std::fputs("\r\033[K", out_);
  live_ = false;
  (void)detail;
}

}  // namespace s2s
