// s2s_serve_load: a bounded load generator for `s2s serve` on loopback. N client threads each
// send M one-line translation requests over one keep-alive connection (request k of the run
// carries line k mod L of the input), then it prints throughput and latency percentiles and,
// with --output, each request's translation in request order (to compare with `s2s translate`
// on the same lines). It stops by itself: after N x M requests, or at --time-limit seconds.
//
//   s2s_serve_load --port 8080 --input test.de --clients 64 --requests 20 [--beam 5]
//                  [--model NAME] [--output out.txt] [--json]
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Args {
  std::string host = "127.0.0.1", input, output, model;
  int port = 8080, clients = 1, requests = 20, beam = 0;
  double time_limit = 300;
  bool json = false;
};

[[noreturn]] void usage(const std::string& message) {
  std::cerr << "s2s_serve_load: " << message
            << "\nusage: s2s_serve_load --port P --input FILE [--clients N] [--requests M] "
               "[--beam B] [--model NAME] [--output FILE] [--time-limit S] [--host H] [--json]\n";
  std::exit(2);
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string key = argv[i];
    if (key == "--json") {
      a.json = true;
      continue;
    }
    if (i + 1 >= argc) usage("missing value after " + key);
    const std::string value = argv[++i];
    if (key == "--host")
      a.host = value;
    else if (key == "--port")
      a.port = std::atoi(value.c_str());
    else if (key == "--input")
      a.input = value;
    else if (key == "--output")
      a.output = value;
    else if (key == "--model")
      a.model = value;
    else if (key == "--clients")
      a.clients = std::atoi(value.c_str());
    else if (key == "--requests")
      a.requests = std::atoi(value.c_str());
    else if (key == "--beam")
      a.beam = std::atoi(value.c_str());
    else if (key == "--time-limit")
      a.time_limit = std::atof(value.c_str());
    else
      usage("unknown option " + key);
  }
  if (a.input.empty()) usage("--input is required");
  if (a.port <= 0 || a.clients < 1 || a.requests < 1 || a.time_limit <= 0)
    usage("--port, --clients, --requests and --time-limit must be positive");
  return a;
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t i = std::min(values.size() - 1, static_cast<size_t>(p * values.size()));
  return values[i];
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse(argc, argv);
  std::vector<std::string> lines;
  {
    std::ifstream in(args.input);
    if (!in) usage("cannot read " + args.input);
    for (std::string line; std::getline(in, line);)
      lines.push_back(line);
  }
  if (lines.empty()) usage(args.input + " is empty");

  const size_t total = static_cast<size_t>(args.clients) * static_cast<size_t>(args.requests);
  std::vector<std::string> outputs(total);
  std::vector<double> latency(total, -1);
  std::vector<int> status(total, 0);
  std::atomic<bool> out_of_time{false};
  const auto start = Clock::now();
  const auto stop_at = start + std::chrono::duration<double>(args.time_limit);

  std::vector<std::thread> clients;
  for (int c = 0; c < args.clients; ++c) {
    clients.emplace_back([&, c] {
      httplib::Client client(args.host, args.port);
      client.set_keep_alive(true);
      client.set_tcp_nodelay(true);
      const auto left = std::chrono::duration<double>(args.time_limit);
      client.set_read_timeout(std::chrono::duration_cast<std::chrono::seconds>(left).count() + 1);
      for (int r = 0; r < args.requests; ++r) {
        if (Clock::now() >= stop_at) {
          out_of_time = true;
          return;
        }
        const size_t k = static_cast<size_t>(c) * args.requests + r;
        nlohmann::json body = {{"text", {lines[k % lines.size()]}}};
        if (args.beam > 0) body["beam"] = args.beam;
        if (!args.model.empty()) body["model"] = args.model;
        const auto sent = Clock::now();
        auto result = client.Post("/v1/translate", body.dump(), "application/json");
        latency[k] = std::chrono::duration<double>(Clock::now() - sent).count();
        if (!result) {
          status[k] = -1;
          continue;
        }
        status[k] = result->status;
        if (result->status == 200) {
          const auto reply = nlohmann::json::parse(result->body, nullptr, false);
          if (reply.is_object() && reply.contains("translations"))
            outputs[k] = reply["translations"][0].value("text", "");
        }
      }
    });
  }
  for (std::thread& t : clients)
    t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();

  size_t sent = 0, errors = 0;
  std::vector<double> answered;
  for (size_t k = 0; k < total; ++k) {
    if (latency[k] < 0) continue;
    ++sent;
    if (status[k] != 200) ++errors;
    answered.push_back(latency[k]);
  }
  if (!args.output.empty()) {
    std::ofstream out(args.output + ".tmp");
    for (size_t k = 0; k < sent; ++k)
      out << outputs[k] << "\n";
    out.close();
    std::rename((args.output + ".tmp").c_str(), args.output.c_str());
  }
  const double p50 = percentile(answered, 0.50) * 1000, p90 = percentile(answered, 0.90) * 1000,
               p99 = percentile(answered, 0.99) * 1000;
  if (args.json) {
    std::cout << nlohmann::json{{"clients", args.clients},
                                {"requests", sent},
                                {"errors", errors},
                                {"seconds", seconds},
                                {"requests_per_second", sent / seconds},
                                {"p50_ms", p50},
                                {"p90_ms", p90},
                                {"p99_ms", p99},
                                {"out_of_time", out_of_time.load()}}
                     .dump()
              << "\n";
  } else {
    std::printf(
        "%d clients x %d requests: %zu sent, %zu errors, %.2f s, %.1f requests/s, "
        "latency p50 %.1f ms, p90 %.1f ms, p99 %.1f ms%s\n",
        args.clients, args.requests, sent, errors, seconds, sent / seconds, p50, p90, p99,
        out_of_time ? " (stopped at the time limit)" : "");
  }
  return errors == 0 && !out_of_time ? 0 : 1;
}
