// Gradient buckets and the launcher's environment; the transports live in their own files.
#include "seq2seq/train/communicator.h"

#include <cstdlib>

#include "seq2seq/error.h"

namespace s2s {

namespace {
[[noreturn]] void no_point_to_point(const Communicator& comm) {
  throw ConfigError("train.parallel.model: " + comm.describe() +
                    " has no point-to-point transfers (pipeline stages need MPI)");
}
}  // namespace

void Communicator::start_send(Tensor, int, int) {
  no_point_to_point(*this);
}
void Communicator::recv(Tensor, int, int, const std::string&) {
  no_point_to_point(*this);
}
void Communicator::wait_sends(const std::string&) {
  no_point_to_point(*this);
}
std::unique_ptr<Communicator> Communicator::split(int) {
  throw ConfigError("train.parallel.model: " + describe() +
                    " has no rank groups (stages with replicas need MPI)");
}

int launcher_world_size() {
  // Open MPI's mpirun, MPICH/Hydra and srun with PMI. Not SLURM_NTASKS: a batch script of a
  // multi-task allocation sees it without having been started as one of the tasks.
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"}) {
    if (const char* value = std::getenv(name)) {
      const int n = std::atoi(value);
      if (n > 0) return n;
    }
  }
  return 0;
}

GradientReducer::GradientReducer(Communicator& comm, int64_t bucket_bytes)
    : comm_(comm), bucket_bytes_(bucket_bytes) {
  S2S_CHECK_AS(ConfigError, bucket_bytes > 0, "train.parallel.bucket_mb must be positive");
}

void GradientReducer::launch(Bucket bucket) {
  if (bucket.params.empty()) return;
  if (bucket.params.size() == 1) {
    bucket.buffer = bucket.params.front()->grad;  // in place: no packing for one tensor
  } else {
    int64_t numel = 0;
    for (const Parameter* p : bucket.params)
      numel += p->grad.numel();
    const Tensor& first = bucket.params.front()->grad;
    bucket.buffer = Tensor::empty({numel}, first.dtype(), first.device());
    int64_t offset = 0;
    for (const Parameter* p : bucket.params) {
      const int64_t n = p->grad.numel();
      bucket.buffer.slice(offset, offset + n).copy_from(p->grad.reshape({n}));
      offset += n;
    }
  }
  bytes_ += static_cast<int64_t>(bucket.buffer.bytes());
  ++buckets_;
  comm_.start_sum(bucket.buffer);
  pending_.push_back(std::move(bucket));
}

void GradientReducer::start(const std::vector<Parameter*>& params) {
  Bucket bucket;
  int64_t bytes = 0;
  for (Parameter* p : params) {
    // Frozen parameters have no gradient worth sending: every rank keeps them as they are.
    if (!p->trainable) continue;
    const int64_t size = static_cast<int64_t>(p->grad.bytes());
    const bool mixed =
        !bucket.params.empty() && (bucket.params.front()->grad.dtype() != p->grad.dtype() ||
                                   bucket.params.front()->grad.device() != p->grad.device());
    if (!bucket.params.empty() && (bytes + size > bucket_bytes_ || mixed)) {
      launch(std::move(bucket));
      bucket = {};
      bytes = 0;
    }
    bucket.params.push_back(p);
    bytes += size;
  }
  launch(std::move(bucket));
}

void GradientReducer::finish() {
  comm_.wait_all();
  for (Bucket& bucket : pending_) {
    if (bucket.params.size() == 1) continue;  // summed in place
    int64_t offset = 0;
    for (Parameter* p : bucket.params) {
      const int64_t n = p->grad.numel();
      p->grad.reshape({n}).copy_from(bucket.buffer.slice(offset, offset + n));
      offset += n;
    }
  }
  pending_.clear();
}

}  // namespace s2s
