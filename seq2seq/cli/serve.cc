// `s2s serve -m NAME=MODEL_DIR ... [--runs DIR]`: the HTTP service (seq2seq/server/) with its
// web page. Models are loaded before the port opens; SIGTERM or SIGINT drains: the requests in
// flight are answered, new ones refused (503, then connection refused), and the exit code is 0.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "seq2seq/cli/command.h"
#include "seq2seq/error.h"
#include "seq2seq/server/http_server.h"
#include "seq2seq/server/service.h"
#include "seq2seq/stop_signal.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace s2s::cli {

namespace {

// NAME=PATH, or PATH alone: then the name is the folder's (its parent's for a run's model/).
std::pair<std::string, std::string> named_path(const std::string& spec, const char* option) {
  const size_t eq = spec.find('=');
  if (eq != std::string::npos) {
    if (eq == 0 || eq + 1 == spec.size())
      throw UsageError(std::string("s2s serve: ") + option + " takes NAME=PATH, got '" + spec +
                       "'");
    return {spec.substr(0, eq), spec.substr(eq + 1)};
  }
  fs::path path = fs::path(spec).lexically_normal();
  if (path.filename().empty()) path = path.parent_path();
  std::string name = path.filename().string();
  if (name == "model" && path.has_parent_path()) name = path.parent_path().filename().string();
  return {name, spec};
}

}  // namespace

int run_serve(int argc, char** argv) {
  po::options_description options("Options");
  std::vector<std::string> models, responses;
  std::string runs, host = "127.0.0.1", device = "cpu", port_file;
  int port = 8080, threads = kDefaultThreads, connections = 256;
  int64_t max_batch = 64, max_batch_tokens = 0, max_queue = 4096, deadline_ms = 30000;
  double max_wait_ms = 5, max_body_mib = 16;
  size_t max_lines = 256;
  options.add_options()(
      "model,m", po::value(&models)->composing(),
      "NAME=MODEL_DIR (repeatable): a translation, caption or reply model; a reply model is one "
      "with --responses or a responses.tsv in its folder")(
      "responses", po::value(&responses)->composing(),
      "NAME=FILE: the response set of reply model NAME (s2s reply-data responses)")(
      "runs", po::value(&runs), "show the training runs under DIR on the page and /v1/runs")(
      "host", po::value(&host)->default_value("127.0.0.1"), "address to listen on")(
      "port", po::value(&port)->default_value(8080), "port (0: any free one)")(
      "port-file", po::value(&port_file), "write the port to FILE once listening")(
      "threads", po::value(&threads)->default_value(kDefaultThreads),
      "CPU threads of the models' math")("device", po::value(&device)->default_value("cpu"),
                                         "cpu | cuda | cuda:N")(
      "max-batch", po::value(&max_batch)->default_value(64),
      "lines (images, messages) decoded together at most")(
      "max-batch-tokens", po::value(&max_batch_tokens)->default_value(0),
      "also at most this many words together (0: no limit)")(
      "max-wait-ms", po::value(&max_wait_ms)->default_value(5),
      "how long a short batch waits for more requests")(
      "no-batching", po::bool_switch(), "decode every request alone, in arrival order")(
      "max-queue", po::value(&max_queue)->default_value(4096),
      "lines waiting per model; past it requests get 503 with Retry-After")(
      "deadline-ms", po::value(&deadline_ms)->default_value(30000),
      "a request not answered by then gets 504 (a request may ask for less: deadline_ms)")(
      "max-body", po::value(&max_body_mib)->default_value(16), "request body limit in MiB (413)")(
      "max-lines", po::value(&max_lines)->default_value(256),
      "lines, images or messages per request (413)")(
      "connections", po::value(&connections)->default_value(256), "connections served at once");
  po::variables_map values;
  if (!parse_options("serve", "-m NAME=MODEL_DIR [-m ...] [--runs DIR] [OPTIONS]", options, argc,
                     argv, values))
    return 0;
  if (models.empty()) throw UsageError("s2s serve: name at least one model (-m NAME=MODEL_DIR)");
  if (max_batch < 1 || max_queue < 1 || deadline_ms < 1 || max_wait_ms < 0 || max_body_mib <= 0 ||
      max_lines < 1 || connections < 1 || threads < 1)
    throw UsageError(
        "s2s serve: --max-batch, --max-queue, --deadline-ms, --max-body, "
        "--max-lines, --connections and --threads must be positive, --max-wait-ms "
        "not negative");

  // SIGTERM and SIGINT ask for a drain (seq2seq/stop_signal.h: a flag the waiter below polls; a
  // second signal kills, so a stuck drain can still be ended).
  install_stop_handlers();

  server::ServiceOptions service_options;
  for (const std::string& spec : models)
    service_options.models.push_back(named_path(spec, "-m"));
  for (const std::string& spec : responses) {
    auto [name, file] = named_path(spec, "--responses");
    service_options.responses[name] = file;
  }
  service_options.runs_dir = runs;
  if (!runs.empty() && !fs::is_directory(runs))
    throw InputError("--runs: '" + runs + "' is not a folder");
  service_options.model_options = {device, threads, 1};
  service_options.batching.enabled = !values["no-batching"].as<bool>();
  service_options.batching.max_items = max_batch;
  service_options.batching.max_tokens = max_batch_tokens;
  service_options.batching.max_wait =
      std::chrono::microseconds(static_cast<int64_t>(max_wait_ms * 1000));
  service_options.batching.max_queue_items = max_queue;
  service_options.deadline = std::chrono::milliseconds(deadline_ms);
  service_options.max_lines = max_lines;
  service_options.scratch_dir =
      (fs::temp_directory_path() / ("s2s-serve-" + std::to_string(getpid()))).string();
  service_options.say = [](const std::string& line) {
    std::fprintf(stderr, "s2s serve: %s\n", line.c_str());
  };
  server::Service service(service_options);

  server::HttpOptions http;
  http.host = host;
  http.port = port;
  http.max_body_bytes = static_cast<size_t>(max_body_mib * 1024 * 1024);
  http.connections = connections;
  server::HttpServer server(service, http);
  server.bind();
  if (!port_file.empty()) {
    const std::string temp = port_file + ".tmp";
    std::ofstream(temp) << server.port() << "\n";
    fs::rename(temp, port_file);
  }
  std::fprintf(stderr, "s2s serve: listening on http://%s:%d/ (%s; SIGTERM or Ctrl-C drains)\n",
               host.c_str(), server.port(),
               service_options.batching.enabled ? "dynamic batching" : "no batching");

  std::atomic<bool> serving{true};
  std::thread waiter([&] {
    while (serving && !stop_requested())
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (!serving) return;  // run() ended by itself
    std::fprintf(stderr, "s2s serve: stop requested: draining %lld request(s) in flight\n",
                 static_cast<long long>(service.in_flight()));
    service.drain();
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(deadline_ms);
    while (service.in_flight() > 0 && std::chrono::steady_clock::now() < give_up)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    server.stop();
  });
  server.run();
  serving = false;
  waiter.join();
  std::error_code ignored;
  fs::remove_all(service_options.scratch_dir, ignored);
  std::fprintf(stderr, "s2s serve: stopped\n");
  return 0;
}

}  // namespace s2s::cli
