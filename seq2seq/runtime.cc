// Thread count and build facts.
#include "seq2seq/runtime.h"

#include <atomic>

#include "seq2seq/cpu/gemm_int8_cpu.h"
#include "seq2seq/cuda_backend.h"
#include "seq2seq/error.h"

extern "C" {
// From OpenBLAS; declared here so that no OpenBLAS header leaks into the core's public headers.
void openblas_set_num_threads(int num_threads);
char* openblas_get_config(void);
char* openblas_get_corename(void);
}

namespace s2s {
namespace {
std::atomic<int> g_threads{0};

int initialise_threads() {
  int expected = 0;
  if (g_threads.compare_exchange_strong(expected, kDefaultThreads)) openblas_set_num_threads(1);
  return g_threads.load();
}
}  // namespace

void set_num_threads(int n) {
  S2S_CHECK(n >= 1 && n <= 1024, "thread count must be between 1 and 1024, got ", n);
  g_threads = n;
  // OpenBLAS computes on the calling thread; cpu/gemm_cpu.cc cuts a product into one block a
  // math thread (parallel_for), so no BLAS thread spins between GEMMs on a core s2s's own loops
  // need.
  openblas_set_num_threads(1);
}

int num_threads() {
  const int n = g_threads.load();
  return n ? n : initialise_threads();
}

#ifndef S2S_VERSION
#define S2S_VERSION "0.0.0"
#endif

std::string version() {
  return S2S_VERSION;
}

std::string compiler() {
#if defined(__clang__)
  return std::string("Clang ") + __clang_version__;
#elif defined(__GNUC__)
  return "GCC " + std::to_string(__GNUC__) + "." + std::to_string(__GNUC_MINOR__) + "." +
         std::to_string(__GNUC_PATCHLEVEL__);
#else
  return "unknown compiler";
#endif
}

std::string int8_backend() {
  return cpu::int8_backend();
}

std::string blas() {
  std::string config = openblas_get_config();
  while (!config.empty() && config.back() == ' ')
    config.pop_back();
  return config + ", core " + openblas_get_corename();
}

std::string cuda_support() {
  return cuda::describe();
}

std::string mpi_support() {
#ifdef S2S_WITH_MPI
  return "on (" S2S_MPI_DESCRIPTION ")";
#else
  return "off (built with S2S_MPI=OFF or no MPI found)";
#endif
}

}  // namespace s2s
