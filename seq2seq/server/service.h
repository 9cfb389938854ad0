// Service: what `s2s serve` answers, independent of the HTTP library. It loads the models named
// on the command line (translation, caption and reply models side by side, each behind its own
// DynamicBatcher), and turns one request (method, path, body, uploads) into one response
// (status, body). Endpoints:
//   POST /v1/translate  {model, text, beam, n_best, alignment, ...}  -> translations
//   POST /v1/caption    multipart images or {model, images: [base64]} -> captions (+ attention)
//   POST /v1/reply      {model, messages, k}                          -> suggestions
//   GET  /v1/models, /healthz, /metrics (Prometheus), /v1/runs, /v1/runs/log?run=NAME
//   GET  /  and the web page's assets (compiled in)
// handle() never throws: a bad request is a 4xx naming the field, a model failure a 500, and the
// server goes on.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "seq2seq/api/translator.h"  // ModelOptions
#include "seq2seq/server/dynamic_batcher.h"
#include "seq2seq/server/metrics.h"

namespace s2s::server {

struct ServiceOptions {
  std::vector<std::pair<std::string, std::string>> models;  // name -> model folder
  std::map<std::string, std::string> responses;             // reply model name -> response set file
  std::string runs_dir;             // --runs: training runs to show; "" none
  api::ModelOptions model_options;  // device and threads of every model
  BatchLimits batching;
  std::chrono::milliseconds deadline{30000};    // default per-request deadline (504 past it)
  size_t max_lines = 256;                       // lines/images/messages per request (413 past it)
  std::string scratch_dir;                      // uploaded images while they are captioned
  std::function<void(const std::string&)> say;  // loading messages
};

struct Upload {
  std::string name, filename, content_type, content;
};

struct HttpRequest {
  std::string method;  // GET | POST | ...
  std::string path;    // without the query
  std::map<std::string, std::string> query;
  std::string body, content_type;
  std::vector<Upload> uploads;  // multipart/form-data parts
  // True once the client has closed its connection (polled while the request waits).
  std::function<bool()> client_gone;
};

struct HttpResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  int retry_after = 0;  // seconds, with 503
  bool cacheable = false;
};

class Service {
 public:
  explicit Service(ServiceOptions options);  // loads every model; Error naming the one at fault
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  HttpResponse handle(const HttpRequest& request);

  // Refuse new model requests (503) while those in flight finish; /healthz says "draining".
  void drain();
  bool draining() const { return draining_.load(); }
  // Requests being answered now.
  int64_t in_flight() const { return in_flight_.load(); }
  const Metrics& metrics() const { return metrics_; }

 private:
  struct Models;
  HttpResponse route(const HttpRequest& request, std::string& endpoint);
  HttpResponse translate(const HttpRequest& request);
  HttpResponse caption(const HttpRequest& request);
  HttpResponse reply(const HttpRequest& request);
  HttpResponse models_list() const;
  HttpResponse runs_list() const;
  // read(--runs folder), its InputError (the folder went away) a 500.
  template <typename Result>
  Result runs_folder(Result (*read)(const std::string&)) const;
  HttpResponse run_log(const HttpRequest& request) const;
  Clock::time_point deadline_of(int64_t deadline_ms) const;

  ServiceOptions options_;
  Metrics metrics_;
  std::unique_ptr<Models> models_;
  std::atomic<bool> draining_{false};
  std::atomic<int64_t> in_flight_{0};
  std::atomic<uint64_t> upload_counter_{0};
};

}  // namespace s2s::server
