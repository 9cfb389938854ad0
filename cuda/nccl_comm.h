// NcclCommunicator: sync data parallelism over NCCL, one process per GPU (mpirun -np <GPUs>).
// It composes with the MPI communicator instead of replacing it: MPI starts the processes, carries
// NCCL's unique id from rank 0 to the others, sums the per-step header and any CPU buffer, and
// ends the job (MPI_Abort) when something fails; NCCL sums and broadcasts the CUDA buffers.
//
// Streams: the ops run on the legacy default stream; the sums run on a stream of their own
// (non-blocking, so that the encoder's backward keeps computing while the decoder's buckets
// travel), ordered after the gradients' producers by an event recorded on the default stream.
//
// Faults: waits poll cudaStreamQuery and ncclCommGetAsyncError against the deadline instead of
// blocking; past it, or on an asynchronous NCCL error, the communicator is aborted
// (ncclCommAbort, so that the stuck kernels end) and the job ends through MPI with a message
// naming the situation. ncclCommInitRank itself blocks until every rank has joined; the MPI
// broadcast of the id just before it is bounded by the deadline, so a rank that is already
// dead is named there.
#pragma once

#include <cuda_runtime.h>

#include <memory>
#include <vector>

#include "cuda/nccl_api.h"
#include "seq2seq/train/communicator.h"

namespace s2s::cuda {

class NcclCommunicator final : public Communicator {
 public:
  // device: the CUDA ordinal this rank uses (see make_nccl_communicator for -1).
  NcclCommunicator(std::unique_ptr<Communicator> bootstrap, double timeout_seconds, int device);
  ~NcclCommunicator() override;
  NcclCommunicator(const NcclCommunicator&) = delete;
  NcclCommunicator& operator=(const NcclCommunicator&) = delete;

  int rank() const override { return bootstrap_->rank(); }
  int size() const override { return bootstrap_->size(); }
  std::string describe() const override;
  Device device() const override { return Device::cuda(device_); }

  std::vector<double> sum_scalars(const std::vector<double>& values,
                                  double timeout_seconds) override {
    return bootstrap_->sum_scalars(values, timeout_seconds);
  }
  void start_sum(Tensor buffer) override;  // CUDA: ncclAllReduce; CPU: passed on to MPI
  void wait_all() override;
  void broadcast(Tensor buffer, int root) override;  // CUDA: ncclBroadcast; CPU: MPI
  [[noreturn]] void abort(const std::string& message) override;

 private:
  void check_buffer(const Tensor& buffer) const;
  void order_after_default_stream();   // the sum stream waits for the ops issued so far
  void wait_stream(const char* what);  // polls the sum stream until done or the deadline

  std::unique_ptr<Communicator> bootstrap_;  // MPI; declared first, so it is destroyed last
  double timeout_;
  int device_;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  cudaEvent_t ready_ = nullptr;
  std::vector<Tensor> buffers_;  // kept alive until their sums are done
};

// This process's rank among the ranks on its machine: from the launcher's environment (Open MPI,
// MPICH/Hydra, Slurm), else found by comparing host names over bootstrap (a collective: every
// rank must call it).
int local_rank(Communicator& bootstrap);

}  // namespace s2s::cuda
