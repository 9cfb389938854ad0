// Signal handlers that only set an atomic flag (the only async-signal-safe thing to do).
#include "seq2seq/stop_signal.h"

#include <atomic>
#include <csignal>

namespace s2s {
namespace {
std::atomic<bool> g_stop{false};

extern "C" void on_stop_signal(int signal) {
  if (g_stop.exchange(true)) {  // second signal: the default action (terminate)
    std::signal(signal, SIG_DFL);
    std::raise(signal);
  }
}
}  // namespace

void install_stop_handlers() {
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
}
bool stop_requested() {
  return g_stop.load(std::memory_order_relaxed);
}
void request_stop() {
  g_stop = true;
}
void clear_stop_request() {
  g_stop = false;
}

}  // namespace s2s
