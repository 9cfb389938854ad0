// The pool behind parallel_for: num_threads() - 1 threads. Between loops a thread spins for a
// short while (back-to-back GEMMs of a decoder step are microseconds apart, and waking a sleeping
// thread costs tens of them), then sleeps on a condition variable.
#include "seq2seq/parallel_for.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "seq2seq/runtime.h"

namespace s2s {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kSpin = std::chrono::microseconds(200);

inline void pause() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

class Pool {
 public:
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (std::thread& t : threads_)
      t.join();
  }

  // Runs slices 1..count-1 on pool threads and slice 0 here; false if the pool is busy.
  bool run(int count, const std::function<void(int)>& slice) {
    std::unique_lock<std::mutex> busy(busy_, std::try_to_lock);
    if (!busy.owns_lock()) return false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      while (static_cast<int>(threads_.size()) < count - 1)
        threads_.emplace_back(
            [this, index = static_cast<int>(threads_.size()) + 1] { loop(index); });
      slice_ = &slice;
      count_ = count;
      errors_.assign(static_cast<size_t>(count), nullptr);
      pending_.store(count - 1, std::memory_order_relaxed);
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    try {
      slice(0);
    } catch (...) {
      errors_[0] = std::current_exception();
    }
    const auto spin_until = Clock::now() + kSpin;
    while (pending_.load(std::memory_order_acquire) != 0 && Clock::now() < spin_until)
      pause();
    if (pending_.load(std::memory_order_acquire) != 0) {
      std::unique_lock<std::mutex> lock(mutex_);
      done_.wait(lock, [&] { return pending_.load(std::memory_order_acquire) == 0; });
    }
    for (const std::exception_ptr& e : errors_)
      if (e) std::rethrow_exception(e);
    return true;
  }

 private:
  void loop(int index) {
    uint64_t seen = 0;
    for (;;) {
      const auto spin_until = Clock::now() + kSpin;
      while (generation_.load(std::memory_order_acquire) == seen && Clock::now() < spin_until)
        pause();
      if (generation_.load(std::memory_order_acquire) == seen) {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(
            lock, [&] { return stopping_ || generation_.load(std::memory_order_acquire) != seen; });
        if (stopping_) return;
      }
      seen = generation_.load(std::memory_order_acquire);
      if (index >= count_) continue;  // this loop needs fewer threads
      try {
        (*slice_)(index);
      } catch (...) {
        errors_[static_cast<size_t>(index)] = std::current_exception();
      }
      if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lock(mutex_);  // the caller may be about to sleep
        done_.notify_one();
      }
    }
  }

  std::mutex busy_;  // one loop at a time
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> threads_;
  const std::function<void(int)>* slice_ = nullptr;
  int count_ = 0;
  std::atomic<int> pending_{0};
  std::atomic<uint64_t> generation_{0};
  bool stopping_ = false;
  std::vector<std::exception_ptr> errors_;
};

Pool& pool() {
  static Pool instance;
  return instance;
}

}  // namespace

void parallel_for(int64_t n, int64_t min_slice,
                  const std::function<void(int64_t begin, int64_t end)>& body) {
  if (n <= 0) return;
  const int64_t slices =
      std::min<int64_t>(num_threads(), std::max<int64_t>(1, n / std::max<int64_t>(1, min_slice)));
  if (slices <= 1) {
    body(0, n);
    return;
  }
  // Slice k is [n * k / slices, n * (k + 1) / slices).
  const std::function<void(int)> slice = [&](int k) {
    const int64_t begin = n * k / slices, end = n * (k + 1) / slices;
    if (begin < end) body(begin, end);
  };
  if (!pool().run(static_cast<int>(slices), slice))
    for (int k = 0; k < slices; ++k)
      slice(k);
}

}  // namespace s2s
