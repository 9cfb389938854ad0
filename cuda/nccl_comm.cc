// NcclCommunicator (cuda/nccl_comm.h) and the NCCL factory of seq2seq/train/communicator.h.
#include "seq2seq/train/communicator.h"

#ifdef S2S_WITH_NCCL

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <thread>

#include "cuda/check.h"
#include "cuda/nccl_comm.h"
#include "seq2seq/cuda_backend.h"

namespace s2s::cuda {
namespace {

using Clock = std::chrono::steady_clock;

std::string seconds(double s) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g s", s);
  return buffer;
}

ncclDataType_t nccl_type(const Tensor& t) {
  switch (t.dtype()) {
    case DType::f32:
      return ncclFloat32;
    case DType::f64:
      return ncclFloat64;
    default:
      throw InvalidArgument("NCCL sums f32 or f64 tensors, got " + t.str());
  }
}

}  // namespace

int local_rank(Communicator& bootstrap) {
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"})
    if (const char* value = std::getenv(name); value && *value) return std::atoi(value);
  // Every rank publishes a hash of its host name in its own slot; 52 bits, so that the double
  // holds it exactly and the sum of the slots (all zero but one) is the hash itself.
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  const double mine = static_cast<double>(std::hash<std::string>{}(host) & ((1ull << 52) - 1));
  std::vector<double> hashes(bootstrap.size(), 0.0);
  hashes[bootstrap.rank()] = mine;
  hashes = bootstrap.sum_scalars(hashes);
  return static_cast<int>(std::count(hashes.begin(), hashes.begin() + bootstrap.rank(), mine));
}

NcclCommunicator::NcclCommunicator(std::unique_ptr<Communicator> bootstrap, double timeout_seconds,
                                   int device)
    : bootstrap_(std::move(bootstrap)), timeout_(timeout_seconds), device_(device) {
  S2S_CHECK(bootstrap_, "the NCCL communicator needs a bootstrap (MPI) communicator");
  S2S_CHECK_AS(ConfigError, timeout_seconds > 0, "train.parallel.timeout must be positive, got ",
               timeout_seconds);
  nccl();  // loads the library: EnvironmentError naming it when it is absent
  S2S_CUDA_CHECK(cudaSetDevice(device_));
  // Rank 0 makes the id; MPI carries its 128 bytes to the others, bit for bit, as 16 doubles.
  ncclUniqueId id{};
  static_assert(sizeof id % sizeof(double) == 0);
  if (rank() == 0) S2S_NCCL_CHECK(nullptr, ncclGetUniqueId, &id);
  if (size() > 1) {
    Tensor carrier = Tensor::empty({static_cast<int64_t>(sizeof id / sizeof(double))}, DType::f64,
                                   Device::cpu());
    std::memcpy(carrier.raw_data(), &id, sizeof id);
    bootstrap_->broadcast(carrier, 0);
    std::memcpy(&id, carrier.raw_data(), sizeof id);
  }
  S2S_NCCL_CHECK(nullptr, ncclCommInitRank, &comm_, size(), id, rank());
  S2S_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  S2S_CUDA_CHECK(cudaEventCreateWithFlags(&ready_, cudaEventDisableTiming));
}

NcclCommunicator::~NcclCommunicator() {
  if (comm_) {
    // A communicator with work still queued (an exception left a sum unfinished) is aborted:
    // ncclCommDestroy would wait for it.
    const cudaError_t idle = cudaStreamQuery(stream_);
    if (idle == cudaSuccess)
      nccl().ncclCommDestroy(comm_);
    else
      nccl().ncclCommAbort(comm_);
  }
  if (ready_) S2S_CUDA_CHECK_NOTHROW(cudaEventDestroy(ready_));
  if (stream_) S2S_CUDA_CHECK_NOTHROW(cudaStreamDestroy(stream_));
}

std::string NcclCommunicator::describe() const {
  return "NCCL " + nccl().version + " over cuda:" + std::to_string(device_) + ", " +
         std::to_string(size()) + " rank" + (size() == 1 ? "" : "s") +
         " (bootstrap: " + bootstrap_->describe() + ")";
}

void NcclCommunicator::check_buffer(const Tensor& buffer) const {
  S2S_CHECK(buffer.device() == device(), "the NCCL communicator of rank ", rank(), " serves ",
            device().str(), ", got a tensor on ", buffer.device().str());
}

void NcclCommunicator::order_after_default_stream() {
  S2S_CUDA_CHECK(cudaSetDevice(device_));
  S2S_CUDA_CHECK(cudaEventRecord(ready_, cudaStreamLegacy));
  S2S_CUDA_CHECK(cudaStreamWaitEvent(stream_, ready_, 0));
}

void NcclCommunicator::start_sum(Tensor buffer) {
  if (buffer.device().is_cpu()) return bootstrap_->start_sum(std::move(buffer));
  check_buffer(buffer);
  const ncclDataType_t type = nccl_type(buffer);
  order_after_default_stream();
  void* data = buffer.raw_data();
  S2S_NCCL_CHECK(comm_, ncclAllReduce, data, data, static_cast<size_t>(buffer.numel()), type,
                 ncclSum, comm_, stream_);
  buffers_.push_back(std::move(buffer));
}

void NcclCommunicator::wait_stream(const char* what) {
  const auto deadline = Clock::now() + std::chrono::duration<double>(timeout_);
  int pause_us = 0;
  for (;;) {
    const cudaError_t status = cudaStreamQuery(stream_);
    if (status == cudaSuccess) return;
    if (status != cudaErrorNotReady) S2S_CUDA_CHECK(status);  // throws, naming the error
    ncclResult_t async = ncclSuccess;
    S2S_NCCL_CHECK(comm_, ncclCommGetAsyncError, comm_, &async);
    if (async != ncclSuccess && async != ncclInProgress)
      abort(std::string(what) + " failed on rank " + std::to_string(rank()) + ": NCCL reports " +
            nccl().ncclGetErrorString(async) + " (" + nccl().ncclGetLastError(comm_) +
            "); ending the job");
    if (Clock::now() > deadline)
      abort(std::string(what) + " did not complete within " + seconds(timeout_) + " on rank " +
            std::to_string(rank()) +
            ": another rank is dead, hung or far behind, or the network stalled; ending the job");
    // A waiting rank sleeps, backing off to 200 us, instead of spinning on a core.
    if (pause_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(pause_us));
    pause_us = std::min(200, pause_us * 2 + 1);
  }
}

void NcclCommunicator::wait_all() {
  // MPI's sums first: when a rank is dead, the MPI communicator names it.
  bootstrap_->wait_all();
  wait_stream("gradient all-reduce (NCCL)");
  buffers_.clear();
}

void NcclCommunicator::broadcast(Tensor buffer, int root) {
  if (buffer.device().is_cpu()) return bootstrap_->broadcast(std::move(buffer), root);
  check_buffer(buffer);
  S2S_CHECK(root >= 0 && root < size(), "broadcast root ", root, " is not a rank of ", size());
  const ncclDataType_t type = nccl_type(buffer);
  order_after_default_stream();
  void* data = buffer.raw_data();
  S2S_NCCL_CHECK(comm_, ncclBroadcast, data, data, static_cast<size_t>(buffer.numel()), type, root,
                 comm_, stream_);
  wait_stream(("broadcast (NCCL) from rank " + std::to_string(root)).c_str());
}

void NcclCommunicator::abort(const std::string& message) {
  // Ends the NCCL kernels that wait for a missing rank, then the job through MPI.
  if (comm_) {
    nccl().ncclCommAbort(comm_);
    comm_ = nullptr;
  }
  bootstrap_->abort(message);
  std::_Exit(1);  // the bootstrap's abort does not return; if it ever did, do not linger
}

}  // namespace s2s::cuda

namespace s2s {

std::unique_ptr<Communicator> make_nccl_communicator(std::unique_ptr<Communicator> bootstrap,
                                                     double timeout_seconds, int device) {
  S2S_CHECK(bootstrap, "make_nccl_communicator: no bootstrap communicator");
  const int count = cuda::device_count();
  if (count == 0)
    throw EnvironmentError("the NCCL communicator needs a CUDA device, found none: " +
                           cuda::describe());
  if (device < 0) {
    const int local = cuda::local_rank(*bootstrap);
    // Two ranks on one GPU: NCCL refuses them ("duplicate GPU"); say what to change instead.
    if (local >= count)
      throw ConfigError("rank " + std::to_string(bootstrap->rank()) + " is process " +
                        std::to_string(local + 1) + " on its machine, which has " +
                        std::to_string(count) + " CUDA device" + (count == 1 ? "" : "s") +
                        ": NCCL needs one process per GPU (mpirun -np <GPUs per machine>)");
    device = local;
  }
  S2S_CHECK_AS(ConfigError, device < count, "cuda:", device, " does not exist (", count,
               " CUDA device", count == 1 ? "" : "s", ")");
  return std::make_unique<cuda::NcclCommunicator>(std::move(bootstrap), timeout_seconds, device);
}

std::string nccl_version(const std::string& library) {
  return library.empty() ? cuda::nccl().version : cuda::load_nccl(library).version;
}

}  // namespace s2s

#else  // CUDA without nccl.h

namespace s2s {

std::unique_ptr<Communicator> make_nccl_communicator(std::unique_ptr<Communicator>, double, int) {
  throw ConfigError(
      "train.parallel.transport nccl needs NCCL, but this s2s was built without nccl.h: install "
      "NCCL's headers (libnccl-dev or the CUDA toolkit's) and reconfigure, or use "
      "--train.parallel.transport mpi");
}

std::string nccl_version(const std::string&) {
  throw ConfigError("this s2s was built without nccl.h: install NCCL's headers and reconfigure");
}

}  // namespace s2s

#endif
