// MpiCommunicator: MPI_COMM_WORLD behind the Communicator interface; MPI calls only here.
#include "seq2seq/train/mpi_comm.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <set>
#include <thread>

#ifdef S2S_WITH_MPI
#include <mpi.h>
#endif

namespace s2s {

#ifdef S2S_WITH_MPI
namespace {

using Clock = std::chrono::steady_clock;

// Tags of the per-step header (ranks -> rank 0, rank 0 -> ranks) and of the liveness probe rank 0
// sends when a collective stalls (ping: rank 0 -> ranks, pong: back).
constexpr int kTagHeaderUp = 101, kTagHeaderDown = 102, kTagPing = 103, kTagPong = 104;
constexpr int kTagUser = 1000;  // point-to-point tags start here
// Seconds rank 0 waits for the pongs once a collective has stalled.
constexpr double kProbeSeconds = 3.0;

MPI_Datatype mpi_type(const Tensor& t) {
  S2S_CHECK(t.device().is_cpu(), "MPI sums CPU tensors only; tensors on ", t.device().str(),
            " need the NCCL communicator (train.parallel.transport nccl or auto)");
  switch (t.dtype()) {
    case DType::f32:
      return MPI_FLOAT;
    case DType::f64:
      return MPI_DOUBLE;
    default:
      throw InvalidArgument("MPI sums f32 or f64 tensors, got " + t.str());
  }
}

std::string library_version() {
  char version[MPI_MAX_LIBRARY_VERSION_STRING];
  int length = 0;
  MPI_Get_library_version(version, &length);
  std::string v(version, static_cast<size_t>(length));
  const size_t comma = v.find(',');  // "Open MPI v4.1.4, package: ..." -> "Open MPI v4.1.4"
  if (comma != std::string::npos) v.resize(comma);
  while (!v.empty() && (v.back() == '\n' || v.back() == ' '))
    v.pop_back();
  return v;
}

class MpiCommunicator final : public Communicator {
 public:
  explicit MpiCommunicator(double timeout_seconds) : timeout_(timeout_seconds) {
    S2S_CHECK_AS(ConfigError, timeout_seconds > 0, "train.parallel.timeout must be positive, got ",
                 timeout_seconds);
    int initialized = 0, provided = 0;
    comm_ = MPI_COMM_WORLD;
    MPI_Initialized(&initialized);
    if (!initialized) {
      // Two threads call MPI, never at once (mpi_ serialises them): the training thread and the
      // progress thread below.
      MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided);
      owns_mpi_ = true;
    } else {
      MPI_Query_thread(&provided);
    }
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
    world_rank_ = rank_;
    start(provided);
  }
  // A group of the ranks (sub-communicator): MPI is initialised already and stays so.
  MpiCommunicator(double timeout_seconds, MPI_Comm group)
      : timeout_(timeout_seconds), comm_(group) {
    int provided = 0;
    MPI_Query_thread(&provided);
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
    MPI_Comm_rank(MPI_COMM_WORLD, &world_rank_);
    owns_comm_ = true;
    start(provided);
  }
  ~MpiCommunicator() override {
    stop_progress();
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (finalized) return;
    if (ping_ != MPI_REQUEST_NULL) {
      MPI_Cancel(&ping_);
      MPI_Request_free(&ping_);
    }
    for (MPI_Request& r : pongs_)
      if (r != MPI_REQUEST_NULL) MPI_Request_free(&r);
    if (owns_comm_) MPI_Comm_free(&comm_);
    if (owns_mpi_) MPI_Finalize();
  }

  std::unique_ptr<Communicator> split(int color) override {
    MPI_Comm group;
    {
      std::lock_guard lock(mpi_);
      MPI_Comm_split(comm_, color, rank_, &group);
    }
    return std::make_unique<MpiCommunicator>(timeout_, group);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string describe() const override {
    return "MPI (" + library_version() + "), " + std::to_string(size_) + " rank" +
           (size_ == 1 ? "" : "s");
  }

  std::vector<double> sum_scalars(const std::vector<double>& values,
                                  double timeout_seconds) override {
    const double timeout = timeout_seconds > 0 ? timeout_seconds : timeout_;
    const int n = static_cast<int>(values.size());
    std::vector<double> sum = values;
    if (size_ == 1) return sum;
    if (rank_ == 0) {
      std::vector<std::vector<double>> parts(size_, std::vector<double>(values.size()));
      std::vector<MPI_Request> requests(size_ - 1);
      {
        std::lock_guard lock(mpi_);
        for (int r = 1; r < size_; ++r)
          MPI_Irecv(parts[r].data(), n, MPI_DOUBLE, r, kTagHeaderUp, comm_, &requests[r - 1]);
      }
      if (!wait_for(requests, timeout)) {
        std::string missing;
        for (int r = 1; r < size_; ++r)
          if (requests[r - 1] != MPI_REQUEST_NULL)
            missing += (missing.empty() ? "" : ", ") + std::to_string(r);
        abort("rank " + missing + " of " + std::to_string(size_) +
              " did not reach the step within " + seconds(timeout) +
              " (dead, hung or far behind); ending the job");
      }
      for (int r = 1; r < size_; ++r)  // in rank order: the same sum on every rank
        for (int i = 0; i < n; ++i)
          sum[i] += parts[r][i];
      std::vector<MPI_Request> sends(size_ - 1);
      {
        std::lock_guard lock(mpi_);
        for (int r = 1; r < size_; ++r)
          MPI_Isend(sum.data(), n, MPI_DOUBLE, r, kTagHeaderDown, comm_, &sends[r - 1]);
      }
      if (!wait_for(sends, timeout))
        abort("the step header could not be sent to every rank within " + seconds(timeout));
    } else {
      std::vector<MPI_Request> requests(2);
      {
        std::lock_guard lock(mpi_);
        MPI_Isend(values.data(), n, MPI_DOUBLE, 0, kTagHeaderUp, comm_, &requests[0]);
        MPI_Irecv(sum.data(), n, MPI_DOUBLE, 0, kTagHeaderDown, comm_, &requests[1]);
      }
      if (!wait_for(requests, timeout + kMpiGraceSeconds))
        abort("rank 0 did not answer within " + seconds(timeout + kMpiGraceSeconds) +
              " (rank 0 or another rank is dead or hung); ending the job");
    }
    return sum;
  }

  void start_sum(Tensor buffer) override {
    const MPI_Datatype type = mpi_type(buffer);
    std::lock_guard lock(mpi_);
    MPI_Request request;
    MPI_Iallreduce(MPI_IN_PLACE, buffer.raw_data(), static_cast<int>(buffer.numel()), type, MPI_SUM,
                   comm_, &request);
    pending_.push_back(request);
    buffers_.push_back(std::move(buffer));  // kept alive until the sum is done
  }

  void wait_all() override {
    // Rank 0 reports (naming the rank that does not answer the probe); the others wait longer.
    const double timeout = rank_ == 0 ? timeout_ : timeout_ + kMpiGraceSeconds + kProbeSeconds;
    if (!wait_for(pending_, timeout))
      abort("gradient all-reduce did not complete within " + seconds(timeout) + ": " +
            (rank_ == 0 ? probe() : "rank 0 did not report the cause") + "; ending the job");
    std::lock_guard lock(mpi_);
    pending_.clear();
    buffers_.clear();
  }

  void broadcast(Tensor buffer, int root) override {
    std::vector<MPI_Request> request(1);
    const MPI_Datatype type = mpi_type(buffer);
    {
      std::lock_guard lock(mpi_);
      MPI_Ibcast(buffer.raw_data(), static_cast<int>(buffer.numel()), type, root, comm_,
                 &request[0]);
    }
    if (!wait_for(request, timeout_))
      abort("broadcast from rank " + std::to_string(root) + " did not complete within " +
            seconds(timeout_));
  }

  void start_send(Tensor buffer, int dest, int tag) override {
    std::lock_guard lock(mpi_);
    sends_.emplace_back();
    MPI_Isend(buffer.raw_data(), static_cast<int>(buffer.numel()), mpi_type(buffer), dest,
              kTagUser + tag, comm_, &sends_.back());
    send_buffers_.push_back(std::move(buffer));  // kept alive until the send completes
    send_peers_.push_back(dest);
  }

  void recv(Tensor buffer, int source, int tag, const std::string& what) override {
    std::vector<MPI_Request> request(1);
    {
      std::lock_guard lock(mpi_);
      MPI_Irecv(buffer.raw_data(), static_cast<int>(buffer.numel()), mpi_type(buffer), source,
                kTagUser + tag, comm_, &request[0]);
    }
    if (!wait_for(request, timeout_))
      abort("rank " + std::to_string(source) + " sent no " + what + " within " + seconds(timeout_) +
            " (dead, hung or far behind); ending the job");
  }

  void wait_sends(const std::string& what) override {
    if (!wait_for(sends_, timeout_)) {
      std::set<int> waiting;  // the peers of the sends still open
      for (size_t i = 0; i < sends_.size(); ++i)
        if (sends_[i] != MPI_REQUEST_NULL) waiting.insert(send_peers_[i]);
      std::string peers;
      for (const int peer : waiting)
        peers += (peers.empty() ? "" : ", ") + std::to_string(peer);
      abort("rank " + peers + " did not take its " + what + " within " + seconds(timeout_) +
            " (dead, hung or far behind); ending the job");
    }
    std::lock_guard lock(mpi_);
    sends_.clear();
    send_buffers_.clear();
    send_peers_.clear();
  }

  [[noreturn]] void abort(const std::string& message) override {
    std::fprintf(stderr, "s2s train: error: rank %d: %s\n", world_rank_, message.c_str());
    std::fflush(stderr);
    stop_progress();
    MPI_Abort(MPI_COMM_WORLD, 1);
    std::_Exit(1);  // MPI_Abort does not return; if it ever did, do not linger
  }

 private:
  // Posts the ping receive and starts the progress thread.
  void start(int provided) {
    if (rank_ != 0) post_ping();
    // Open MPI advances a non-blocking collective only inside MPI calls. This thread makes those
    // calls while the training thread computes, so the decoder's gradient sums really travel
    // during the encoder's backward instead of at the next wait.
    // S2S_MPI_PROGRESS_THREAD=0 turns it off (for measuring what it brings).
    const char* wanted = std::getenv("S2S_MPI_PROGRESS_THREAD");
    if (provided >= MPI_THREAD_SERIALIZED && size_ > 1 && !(wanted && std::string(wanted) == "0"))
      progress_ = std::thread([this] { progress_loop(); });
  }
  static std::string seconds(double s) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%g s", s);
    return buffer;
  }

  // Tests the pending sums every 100 us while there are any (a millisecond's sleep otherwise).
  void progress_loop() {
    while (!stopping_) {
      bool busy = false;
      {
        std::lock_guard lock(mpi_);
        for (MPI_Request& r : pending_) {
          if (r == MPI_REQUEST_NULL) continue;
          int flag = 0;
          MPI_Test(&r, &flag, MPI_STATUS_IGNORE);
          busy |= !flag;
        }
      }
      std::this_thread::sleep_for(std::chrono::microseconds(busy ? 100 : 1000));
    }
  }
  void stop_progress() {
    stopping_ = true;
    if (progress_.joinable() && progress_.get_id() != std::this_thread::get_id()) progress_.join();
  }

  // Ranks other than 0 keep a receive for rank 0's ping posted and answer it while they wait.
  void post_ping() { MPI_Irecv(&ping_payload_, 1, MPI_INT, 0, kTagPing, comm_, &ping_); }
  void answer_ping() {
    if (rank_ == 0 || ping_ == MPI_REQUEST_NULL) return;
    int flag = 0;
    MPI_Test(&ping_, &flag, MPI_STATUS_IGNORE);
    if (!flag) return;
    pongs_.emplace_back();
    MPI_Isend(&rank_, 1, MPI_INT, 0, kTagPong, comm_, &pongs_.back());
    post_ping();
  }

  // Rank 0, after a collective stalled: which ranks still answer? Names those that do not.
  std::string probe() {
    std::vector<MPI_Request> sends(size_ - 1), replies(size_ - 1);
    std::vector<int> payload(size_, 0);
    {
      std::lock_guard lock(mpi_);
      for (int r = 1; r < size_; ++r) {
        MPI_Isend(&payload[0], 1, MPI_INT, r, kTagPing, comm_, &sends[r - 1]);
        MPI_Irecv(&payload[r], 1, MPI_INT, r, kTagPong, comm_, &replies[r - 1]);
      }
    }
    wait_for(replies, kProbeSeconds);
    std::string silent;
    for (int r = 1; r < size_; ++r)
      if (replies[r - 1] != MPI_REQUEST_NULL)
        silent += (silent.empty() ? "" : ", ") + std::to_string(r);
    if (silent.empty()) return "every rank answers, so the network or MPI itself stalled";
    return "rank " + silent + " of " + std::to_string(size_) + " does not answer (dead or hung)";
  }

  // Polls until every request completes (true) or the deadline passes (false; the completed
  // ones are MPI_REQUEST_NULL). Sleeps between polls, backing off to 200 us: a spinning waiter
  // would take a core from the rank it is waiting for when ranks share a machine.
  bool wait_for(std::vector<MPI_Request>& requests, double timeout) {
    const auto deadline = Clock::now() + std::chrono::duration<double>(timeout);
    int pause_us = 0;
    for (;;) {
      bool done = true;
      {
        std::lock_guard lock(mpi_);
        for (MPI_Request& r : requests) {
          if (r == MPI_REQUEST_NULL) continue;
          int flag = 0;
          MPI_Test(&r, &flag, MPI_STATUS_IGNORE);  // sets r to MPI_REQUEST_NULL when complete
          if (!flag) done = false;
        }
        if (done) return true;
        answer_ping();
      }
      if (Clock::now() > deadline) return false;
      if (pause_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(pause_us));
      pause_us = std::min(200, pause_us * 2 + 1);
    }
  }

  double timeout_;
  MPI_Comm comm_ = MPI_COMM_NULL;
  bool owns_mpi_ = false, owns_comm_ = false;
  int rank_ = 0, size_ = 1, world_rank_ = 0;
  std::vector<MPI_Request> pending_;
  std::vector<Tensor> buffers_;
  std::vector<MPI_Request> sends_;  // point-to-point sends, their buffers and peers
  std::vector<Tensor> send_buffers_;
  std::vector<int> send_peers_;
  // MPI_THREAD_SERIALIZED: one MPI call at a time in the process, from any thread of any
  // communicator (the world's and its groups').
  static std::mutex& shared_mutex() {
    static std::mutex mutex;
    return mutex;
  }
  std::mutex& mpi_ = shared_mutex();
  std::thread progress_;
  std::atomic<bool> stopping_{false};
  MPI_Request ping_ = MPI_REQUEST_NULL;
  int ping_payload_ = 0;
  std::vector<MPI_Request> pongs_;
};

}  // namespace

bool mpi_available() {
  return true;
}

std::unique_ptr<Communicator> make_mpi_communicator(double timeout_seconds) {
  return std::make_unique<MpiCommunicator>(timeout_seconds);
}

#else  // no MPI in this build

bool mpi_available() {
  return false;
}

std::unique_ptr<Communicator> make_mpi_communicator(double) {
  throw ConfigError(
      "train.parallel.mode sync needs MPI, but this s2s was built without it: install "
      "libopenmpi-dev (scripts/install-deps.sh) and configure with -DS2S_MPI=ON");
}

#endif

}  // namespace s2s
