// Progress reporting of long-running commands: on a terminal, a live status line rewritten in
// place (with rate and ETA); elsewhere (a log file, CI) plain lines at a steady interval. Log
// lines print the same way in both cases.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace s2s {

class Progress {
 public:
  // total: expected units of work (0: unknown, no ETA); unit: "sentences", "steps".
  Progress(std::string what, int64_t total, std::string unit, std::FILE* out = stderr);
  ~Progress();  // ends the live line

  // Reports done units of work (cumulative). Cheap: redraws at most every 0.2 s on a terminal,
  // prints a line every interval_seconds elsewhere.
  void update(int64_t done, const std::string& detail = "");
  // A permanent line (clears the live line first on a terminal).
  void log(const std::string& line);
  void finish(const std::string& detail = "");

  double elapsed_seconds() const;
  static std::string format_duration(double seconds);  // "1:02:03", "4:05"
  void set_interval_seconds(double seconds) { interval_ = seconds; }

 private:
  std::string line(int64_t done, const std::string& detail) const;

  std::string what_, unit_;
  int64_t total_;
  std::FILE* out_;
  bool terminal_;
  bool live_ = false;
  double interval_ = 30.0;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace s2s
