// The CUDA backend of a CPU-only build: every entry point says which CMake option enables it.
#include "seq2seq/cuda_backend.h"

namespace s2s::cuda {
namespace {
[[noreturn]] void unavailable() {
  throw BackendUnavailable(
      "this s2s was built without CUDA: reconfigure with -DS2S_CUDA=ON (needs nvcc and cuBLAS)");
}
}  // namespace

bool built() {
  return false;
}
int device_count() {
  return 0;
}
std::string describe() {
  return "off (built with S2S_CUDA=OFF)";
}
void* allocate(size_t, int) {
  unavailable();
}
void deallocate(void*, int) noexcept {}
void copy(void*, Device, const void*, Device, size_t) {
  unavailable();
}
void fill_zero(void*, size_t, int) {
  unavailable();
}
void synchronize(int) {
  unavailable();
}
void gemm(const Tensor&, bool, const Tensor&, bool, Tensor&, double, double) {
  unavailable();
}
void add_bias(Tensor&, const Tensor&) {
  unavailable();
}
void bias_grad(const Tensor&, Tensor&, bool) {
  unavailable();
}
void axpy(double, const Tensor&, Tensor&) {
  unavailable();
}
void scale(Tensor&, double) {
  unavailable();
}
void tanh_fwd(const Tensor&, Tensor&) {
  unavailable();
}
void tanh_bwd(const Tensor&, const Tensor&, Tensor&, bool) {
  unavailable();
}
void dropout_fwd(const Tensor&, double, uint64_t, uint64_t, Tensor&, Tensor&) {
  unavailable();
}
void dropout_bwd(const Tensor&, const Tensor&, Tensor&) {
  unavailable();
}

}  // namespace s2s::cuda
