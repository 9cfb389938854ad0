// Entry point of s2s_bench: sets the thread count (S2S_THREADS, default 2) before running.
#include <benchmark/benchmark.h>

#include <cstdlib>

#include "seq2seq/runtime.h"

int main(int argc, char** argv) {
  const char* threads = std::getenv("S2S_THREADS");
  s2s::set_num_threads(threads ? std::atoi(threads) : s2s::kDefaultThreads);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
