// ReplicaPool: one model replica per worker, the way every job of the API uses several cores on
// independent inputs (what `s2s reply` did by hand before). A call takes the replicas that are
// free — at least one, waiting for it — and splits its items into contiguous slices, one per
// replica held, each on its own thread (the first on the caller's). Concurrent callers (two
// Python threads, a server's requests) each get their own replicas and never wait for each
// other's whole job; with one replica they take turns. Results land in input order because each
// slice writes only its own range.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace s2s::api {

template <class Replica>
class ReplicaPool {
 public:
  ReplicaPool() = default;
  ReplicaPool(const ReplicaPool&) = delete;
  ReplicaPool& operator=(const ReplicaPool&) = delete;

  void add(std::unique_ptr<Replica> replica) {
    std::lock_guard lock(mutex_);
    replicas_.push_back(std::move(replica));
    busy_.push_back(false);
  }
  size_t size() const { return replicas_.size(); }
  Replica& first() { return *replicas_.front(); }

  // Runs work(replica, begin, end) over [0, n) in slices of at least min_slice items (the last
  // may be shorter). Rethrows the first exception of any slice once every slice has ended.
  void run(size_t n, size_t min_slice,
           const std::function<void(Replica&, size_t begin, size_t end)>& work) {
    if (n == 0) return;
    const size_t wanted = std::max<size_t>(
        1, (n + std::max<size_t>(min_slice, 1) - 1) / std::max<size_t>(min_slice, 1));
    std::vector<size_t> held = acquire(wanted);
    const size_t per = (n + held.size() - 1) / held.size();
    std::vector<std::exception_ptr> errors(held.size());
    std::vector<std::thread> threads;
    auto slice = [&](size_t k) {
      const size_t begin = std::min(n, k * per), end = std::min(n, begin + per);
      if (begin >= end) return;
      try {
        work(*replicas_[held[k]], begin, end);
      } catch (...) {
        errors[k] = std::current_exception();
      }
    };
    for (size_t k = 1; k < held.size(); ++k)
      threads.emplace_back(slice, k);
    slice(0);
    for (std::thread& t : threads)
      t.join();
    release(held);
    for (const std::exception_ptr& e : errors)
      if (e) std::rethrow_exception(e);
  }

 private:
  // One free replica (waiting for it), plus every other free one up to wanted.
  std::vector<size_t> acquire(size_t wanted) {
    std::unique_lock lock(mutex_);
    free_.wait(lock, [&] { return std::find(busy_.begin(), busy_.end(), false) != busy_.end(); });
    std::vector<size_t> held;
    for (size_t i = 0; i < replicas_.size() && held.size() < wanted; ++i)
      if (!busy_[i]) busy_[i] = true, held.push_back(i);
    return held;
  }
  void release(const std::vector<size_t>& held) {
    {
      std::lock_guard lock(mutex_);
      for (size_t i : held)
        busy_[i] = false;
    }
    free_.notify_all();
  }

  std::mutex mutex_;
  std::condition_variable free_;
  std::vector<std::unique_ptr<Replica>> replicas_;
  std::vector<bool> busy_;
};

}  // namespace s2s::api
