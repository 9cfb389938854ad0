// Metrics: the server's counters and histograms, written in the Prometheus text exposition
// format (version 0.0.4) for GET /metrics: requests by endpoint and status, request latency,
// batch sizes and batch time per model, and each model's queue depth (asked of the batchers
// when the page is written). Thread-safe; one mutex, taken once per request and per batch.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace s2s::server {

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double value);
  // `name_bucket{labels,le="..."} n` lines, then _sum and _count; labels like `model="x"`.
  void write(std::string& out, const std::string& name, const std::string& labels) const;

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bound, not cumulative; the last is +Inf
  double sum_ = 0;
  uint64_t count_ = 0;
};

class Metrics {
 public:
  void count_request(const std::string& endpoint, int status, double seconds);
  void count_batch(const std::string& model, int64_t items, int64_t requests, double seconds);
  // Gauges read when the page is written: model name -> queued items.
  void set_queue_probe(std::function<std::vector<std::pair<std::string, int64_t>>()> probe);
  std::string prometheus_text() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::map<std::string, Histogram> latency_;      // by endpoint
  std::map<std::string, Histogram> batch_items_;  // by model
  std::map<std::string, Histogram> batch_seconds_;
  std::map<std::string, uint64_t> batched_requests_;
  std::function<std::vector<std::pair<std::string, int64_t>>()> queue_probe_;
};

}  // namespace s2s::server
