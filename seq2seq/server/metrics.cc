// Prometheus text for the server's counters and histograms.
#include "seq2seq/server/metrics.h"

#include <cstdio>

namespace s2s::server {

namespace {

std::string number(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.10g", value);
  return buffer;
}

// Label values escape backslash, quote and newline.
std::string label_value(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"')
      out += '\\', out += c;
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

const std::vector<double> kLatencyBounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                            0.25,  0.5,    1,     2.5,  5,     10,   30};
const std::vector<double> kBatchBounds = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
  size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i])
    ++i;
  ++counts_[i];
  sum_ += value;
  ++count_;
}

void Histogram::write(std::string& out, const std::string& name, const std::string& labels) const {
  const std::string sep = labels.empty() ? "" : ",";
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += counts_[i];
    const std::string le = i < bounds_.size() ? number(bounds_[i]) : "+Inf";
    out += name + "_bucket{" + labels + sep + "le=\"" + le + "\"} " + std::to_string(cumulative) +
           "\n";
  }
  const std::string braces = labels.empty() ? "" : "{" + labels + "}";
  out += name + "_sum" + braces + " " + number(sum_) + "\n";
  out += name + "_count" + braces + " " + std::to_string(count_) + "\n";
}

void Metrics::count_request(const std::string& endpoint, int status, double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++requests_[{endpoint, status}];
  latency_.try_emplace(endpoint, kLatencyBounds).first->second.observe(seconds);
}

void Metrics::count_batch(const std::string& model, int64_t items, int64_t requests,
                          double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  batch_items_.try_emplace(model, kBatchBounds).first->second.observe(static_cast<double>(items));
  batch_seconds_.try_emplace(model, kLatencyBounds).first->second.observe(seconds);
  batched_requests_[model] += static_cast<uint64_t>(requests);
}

void Metrics::set_queue_probe(std::function<std::vector<std::pair<std::string, int64_t>>()> probe) {
  std::lock_guard<std::mutex> lock(mutex_);
  queue_probe_ = std::move(probe);
}

std::string Metrics::prometheus_text() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string out;
  out += "# HELP s2s_requests_total HTTP requests answered, by endpoint and status.\n";
  out += "# TYPE s2s_requests_total counter\n";
  for (const auto& [key, n] : requests_)
    out += "s2s_requests_total{endpoint=\"" + label_value(key.first) + "\",status=\"" +
           std::to_string(key.second) + "\"} " + std::to_string(n) + "\n";
  out += "# HELP s2s_request_duration_seconds Time from a request's arrival to its answer.\n";
  out += "# TYPE s2s_request_duration_seconds histogram\n";
  for (const auto& [endpoint, h] : latency_)
    h.write(out, "s2s_request_duration_seconds", "endpoint=\"" + label_value(endpoint) + "\"");
  out += "# HELP s2s_batch_items Items (lines, images, messages) decoded together per batch.\n";
  out += "# TYPE s2s_batch_items histogram\n";
  for (const auto& [model, h] : batch_items_)
    h.write(out, "s2s_batch_items", "model=\"" + label_value(model) + "\"");
  out += "# HELP s2s_batch_duration_seconds Time the model took per batch.\n";
  out += "# TYPE s2s_batch_duration_seconds histogram\n";
  for (const auto& [model, h] : batch_seconds_)
    h.write(out, "s2s_batch_duration_seconds", "model=\"" + label_value(model) + "\"");
  out += "# HELP s2s_batched_requests_total Requests served by the batches of a model.\n";
  out += "# TYPE s2s_batched_requests_total counter\n";
  for (const auto& [model, n] : batched_requests_)
    out += "s2s_batched_requests_total{model=\"" + label_value(model) + "\"} " + std::to_string(n) +
           "\n";
  out += "# HELP s2s_queue_items Items waiting for a batch, by model.\n";
  out += "# TYPE s2s_queue_items gauge\n";
  if (queue_probe_)
    for (const auto& [model, n] : queue_probe_())
      out += "s2s_queue_items{model=\"" + label_value(model) + "\"} " + std::to_string(n) + "\n";
  return out;
}

}  // namespace s2s::server
