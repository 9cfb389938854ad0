// The CUDA backend of a CPU-only build: every entry point says which CMake option enables it.
#include "seq2seq/cuda_backend.h"
#include "seq2seq/train/communicator.h"

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
int64_t first_invalid_id(const Tensor&, int64_t, int64_t) {
  unavailable();
}
int64_t first_empty_column(const Tensor&) {
  unavailable();
}
void embedding_fwd(const Tensor&, const Tensor&, Tensor&, int32_t) {
  unavailable();
}
void embedding_bwd(const Tensor&, const Tensor&, Tensor&, int32_t) {
  unavailable();
}
void attention_fwd(bool, const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                   Tensor&, Tensor&) {
  unavailable();
}
void attention_bwd(bool, const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                   const Tensor&, const Tensor&, const Tensor&, Tensor&, Tensor&, Tensor&,
                   Tensor&) {
  unavailable();
}
ops::XentSums log_softmax_xent(Tensor&, const Tensor&, const ops::XentOptions&, bool, Tensor*) {
  unavailable();
}
void log_softmax(const Tensor&, Tensor&) {
  unavailable();
}
double sum_squares(const Tensor&) {
  unavailable();
}
void adam_step(Tensor&, const Tensor&, Tensor&, Tensor&, const ops::AdamArgs&) {
  unavailable();
}
void sgd_step(Tensor&, const Tensor&, Tensor*, const ops::SgdArgs&) {
  unavailable();
}

void lstm_cell_fwd(Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, Tensor&,
                   Tensor&) {
  unavailable();
}
void lstm_cell_bwd(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                   const Tensor&, Tensor&, Tensor&, Tensor&, Tensor&) {
  unavailable();
}
void lstm_output_fwd(const Tensor&, const Tensor&, Tensor&, int64_t) {
  unavailable();
}
void lstm_output_bwd(const Tensor&, const Tensor&, int64_t, Tensor&) {
  unavailable();
}
void masked_mean_fwd(const Tensor&, const Tensor&, Tensor&) {
  unavailable();
}
void masked_mean_bwd(const Tensor&, const Tensor&, Tensor&) {
  unavailable();
}

}  // namespace s2s::cuda

namespace s2s {

// The NCCL communicator (cuda/nccl_comm.h) of a CPU-only build.
std::unique_ptr<Communicator> make_nccl_communicator(std::unique_ptr<Communicator>, double, int) {
  throw ConfigError(
      "train.parallel.transport nccl needs CUDA and NCCL, but this s2s was built without CUDA: "
      "reconfigure with -DS2S_CUDA=ON (needs nvcc and NCCL), or use --train.parallel.transport "
      "mpi on the CPU");
}

std::string nccl_version(const std::string&) {
  throw ConfigError("NCCL: this s2s was built without CUDA: reconfigure with -DS2S_CUDA=ON");
}

}  // namespace s2s
