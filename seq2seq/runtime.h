// Process-wide runtime settings and build facts: the CPU thread count (OpenBLAS and s2s's own
// parallel loops) and a description of the build for `s2s version`.
#pragma once

#include <string>

namespace s2s {

inline constexpr int kDefaultThreads = 2;

// Sets the threads used by CPU math; n < 1 is an InvalidArgument.
void set_num_threads(int n);
int num_threads();

std::string version();       // "0.1.0"
std::string compiler();      // "GCC 12.2.0"
std::string blas();          // "OpenBLAS 0.3.21 (pthread, Haswell)"
std::string int8_backend();  // int8 models' products: "oneDNN 2.6.3 (avx512_core_vnni)"
std::string cuda_support();  // "off (built with S2S_CUDA=OFF)" or CUDA runtime/devices
std::string mpi_support();   // "on (Open MPI ...)" or "off"

}  // namespace s2s
