// Communicator: what synchronous data parallelism needs from a transport, and nothing more, so
// that the trainer is written once for every transport. Implementations: MPI over CPU buffers
// (seq2seq/train/mpi_comm.h, built with S2S_MPI) and NCCL over CUDA buffers (cuda/nccl_comm.h, one
// process per GPU, bootstrapped by MPI). A GradientReducer cuts the gradients
// into buckets and drives the communicator; the trainer only starts and finishes reductions.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "seq2seq/layers/parameter.h"
#include "seq2seq/tensor.h"

namespace s2s {

// Thrown when a rank does not answer within the deadline; what() names the rank(s). The MPI
// implementation ends the whole job (MPI_Abort) with this message instead, since a collective
// that one rank never joins cannot be cancelled.
class RankTimeout : public EnvironmentError {
 public:
  using EnvironmentError::EnvironmentError;
};

class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int rank() const = 0;  // 0 .. size() - 1; rank 0 validates, logs and saves
  virtual int size() const = 0;
  virtual std::string describe() const = 0;  // "MPI (Open MPI v4.1.4), 2 ranks"
  // The device whose buffers start_sum() and broadcast() take: the CPU for MPI, this rank's GPU
  // for NCCL (the model of this rank must live there). NCCL also passes CPU buffers on to MPI.
  virtual Device device() const { return Device::cpu(); }

  // Element-wise sum across ranks of a few doubles (the per-step header: target tokens, stop
  // requests, loss sums). Blocking, bounded by the deadline; the result is bitwise identical on
  // every rank (summed in rank order on rank 0), and a rank that does not arrive in time is named.
  // timeout_seconds > 0 replaces the communicator's deadline for this call (the step after a
  // validation, which only rank 0 runs, waits longer).
  virtual std::vector<double> sum_scalars(const std::vector<double>& values,
                                          double timeout_seconds = 0) = 0;

  // Starts an in-place element-wise sum across ranks of buffer (f32 or f64, contiguous, on the
  // device the implementation serves: CPU for MPI, CUDA for NCCL). Returns at once; the buffer
  // must not be touched until wait_all() returns.
  virtual void start_sum(Tensor buffer) = 0;
  // Completes every sum started since the last call, polling until the deadline: past it the
  // job ends with an error instead of hanging.
  virtual void wait_all() = 0;

  // Copies root's buffer to every rank (parameters at start-up, so that every rank starts from
  // exactly the same weights even if initialisation differed).
  virtual void broadcast(Tensor buffer, int root) = 0;

  // Point to point, for model parallelism (pipeline stages pass activations and their
  // gradients): start_send starts sending buffer (CPU, f32 or f64 for MPI) to rank dest with a
  // tag and returns at once; the buffer must stay untouched until wait_sends() returns. recv
  // fills buffer (its shape says how much) from rank source; both wait at most the deadline, past
  // which the job ends with an error naming the peer rank and `what`. Transports without them
  // throw ConfigError.
  virtual void start_send(Tensor buffer, int dest, int tag);
  virtual void recv(Tensor buffer, int source, int tag, const std::string& what);
  virtual void wait_sends(const std::string& what);

  // A communicator of the ranks that pass the same color (ranked as in this one); every rank
  // calls it. For model parallelism's replica groups. Transports without groups: ConfigError.
  virtual std::unique_ptr<Communicator> split(int color);

  // Ends every rank of the job with message on stderr and a non-zero exit. Never returns.
  [[noreturn]] virtual void abort(const std::string& message) = 0;
};

// The MPI communicator over MPI_COMM_WORLD (initialising MPI if needed); timeout_seconds bounds
// every wait. In a build without MPI it throws ConfigError naming the CMake option.
std::unique_ptr<Communicator> make_mpi_communicator(double timeout_seconds);
// Whether this build has MPI (S2S_MPI found it).
bool mpi_available();
// The NCCL communicator: one process per GPU, on device `device` (-1: this process's local rank
// on its machine; more processes on a machine than it has GPUs is a ConfigError, since NCCL
// refuses two ranks on one GPU). bootstrap (MPI) carries the NCCL unique id from rank 0 to the
// others and stays in use for sum_scalars(), CPU buffers and abort().
// timeout_seconds bounds every wait. Throws ConfigError in a build without CUDA or nccl.h, and
// EnvironmentError naming libnccl.so.2 when the library cannot be loaded.
std::unique_ptr<Communicator> make_nccl_communicator(std::unique_ptr<Communicator> bootstrap,
                                                     double timeout_seconds, int device = -1);
// Loads the NCCL library (empty: the default, libnccl.so.2, which stays loaded) and returns its
// version, "2.28.9"; throws EnvironmentError naming the library when it cannot be loaded, and
// ConfigError in a build without CUDA.
std::string nccl_version(const std::string& library = "");
// The process count of the launcher that started this process (Open MPI's mpirun, or a PMI
// launcher: MPICH's mpiexec, srun), 0 when not started by one.
int launcher_world_size();

// Sums gradients across ranks in buckets of about bucket_bytes: small tensors are packed into a
// bucket buffer, a tensor at least bucket_bytes long is summed in place. start() starts the sums
// of a group of parameters (call it for the decoder as soon as its backward is done, so that its
// buckets travel while the encoder's backward runs); finish() waits for all and unpacks.
class GradientReducer {
 public:
  GradientReducer(Communicator& comm, int64_t bucket_bytes);
  void start(const std::vector<Parameter*>& params);
  void finish();
  int64_t bytes_sent() const { return bytes_; }      // gradient bytes summed so far, all steps
  int64_t buckets_sent() const { return buckets_; }  // sums started so far

 private:
  struct Bucket {
    Tensor buffer;                   // packed gradients (undefined when in place)
    std::vector<Parameter*> params;  // whose gradients it holds
  };
  void launch(Bucket bucket);
  Communicator& comm_;
  int64_t bucket_bytes_;
  std::vector<Bucket> pending_;
  int64_t bytes_ = 0, buckets_ = 0;
};

}  // namespace s2s
