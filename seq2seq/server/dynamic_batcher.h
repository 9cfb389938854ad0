// DynamicBatcher: the queue between a server's request threads and one model. Requests that
// arrive together and ask for the same options (their key) are decoded together: one worker
// thread takes the oldest request, waits up to max_wait for company while the batch is short,
// joins every queued request of the same key that fits (max_items, max_tokens), runs the model
// once over all their items, and hands each request its own results. The model's batching is
// exact (s2s::api results do not depend on what else is in the batch), so a request gets what it
// would get alone. A request its client gave up on (deadline, disconnect) before its batch
// started costs nothing: it is dropped from the queue unrun.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "seq2seq/error.h"

namespace s2s::server {

using Clock = std::chrono::steady_clock;

struct BatchLimits {
  bool enabled = true;     // false: every request is decoded alone, in arrival order
  int64_t max_items = 64;  // items (lines, images, messages) decoded together
  int64_t max_tokens = 0;  // > 0: also at most this many tokens together
  std::chrono::microseconds max_wait{5000};  // how long a short batch waits for more requests
  int64_t max_queue_items = 4096;  // items waiting; a request past it is refused (QueueFull)
};

// The queue is full: the server answers 503 with Retry-After.
class QueueFull : public EnvironmentError {
 public:
  using EnvironmentError::EnvironmentError;
};

enum class JobState { queued, running, done, failed, abandoned };

// What the batcher reports after each batch (metrics).
struct BatchReport {
  int64_t items = 0;
  int64_t requests = 0;
  double seconds = 0;
};

template <class Options, class Item, class Result>
class DynamicBatcher {
 public:
  // Runs the model over items with options; returns one result per item, in order.
  using Run = std::function<std::vector<Result>(const std::vector<Item>&, const Options&)>;

  struct Job {
    std::string key;  // requests with equal keys have equal options
    Options options;
    std::vector<Item> items;
    int64_t tokens = 0;
    Clock::time_point arrived, deadline;

    std::mutex mutex;
    std::condition_variable done;
    JobState state = JobState::queued;
    std::vector<Result> results;
    std::string error;        // state failed: what the model threw
    int64_t batch_items = 0;  // the size of the batch it ran in
  };

  DynamicBatcher(Run run, BatchLimits limits,
                 std::function<void(const BatchReport&)> on_batch = nullptr)
      : run_(std::move(run)), limits_(limits), on_batch_(std::move(on_batch)) {
    worker_ = std::thread([this] { work(); });
  }
  ~DynamicBatcher() { stop(); }
  DynamicBatcher(const DynamicBatcher&) = delete;
  DynamicBatcher& operator=(const DynamicBatcher&) = delete;

  // Queues a request; QueueFull when max_queue_items would be passed (a request larger than the
  // whole queue is still taken when the queue is empty, so it can never be refused forever).
  std::shared_ptr<Job> submit(std::string key, Options options, std::vector<Item> items,
                              int64_t tokens, Clock::time_point deadline) {
    auto job = std::make_shared<Job>();
    job->key = std::move(key);
    job->options = std::move(options);
    job->items = std::move(items);
    job->tokens = tokens;
    job->arrived = Clock::now();
    job->deadline = deadline;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) throw QueueFull("the server is shutting down");
      const int64_t n = static_cast<int64_t>(job->items.size());
      if (queued_items_ > 0 && queued_items_ + n > limits_.max_queue_items)
        throw QueueFull("the queue holds " + std::to_string(queued_items_) + " items (limit " +
                        std::to_string(limits_.max_queue_items) + ")");
      queued_items_ += n;
      queue_.push_back(job);
    }
    wake_.notify_all();
    return job;
  }

  // Waits until the job is done, failed, or its deadline passed or client_gone() says the
  // client left (polled every poll); in the last two cases the job is abandoned: dropped from
  // the queue if its batch has not started, its results thrown away if it has.
  JobState wait(Job& job, const std::function<bool()>& client_gone,
                std::chrono::milliseconds poll = std::chrono::milliseconds(20)) {
    std::unique_lock<std::mutex> lock(job.mutex);
    while (job.state == JobState::queued || job.state == JobState::running) {
      const auto until = std::min(job.deadline, Clock::now() + poll);
      job.done.wait_until(lock, until, [&] {
        return job.state != JobState::queued && job.state != JobState::running;
      });
      if (job.state != JobState::queued && job.state != JobState::running) break;
      if (Clock::now() >= job.deadline || (client_gone && client_gone())) {
        job.state = JobState::abandoned;
        lock.unlock();
        forget(job);
        return JobState::abandoned;
      }
    }
    return job.state;
  }

  int64_t queued_items() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return queued_items_;
  }
  const BatchLimits& limits() const { return limits_; }

  // Finishes the queued requests, then ends the worker. New submissions are refused.
  void stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_ && !worker_.joinable()) return;
      stopping_ = true;
    }
    wake_.notify_all();
    if (worker_.joinable()) worker_.join();
  }

 private:
  using JobPtr = std::shared_ptr<Job>;

  void forget(Job& job) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = queue_.begin(); it != queue_.end(); ++it)
      if (it->get() == &job) {
        queued_items_ -= static_cast<int64_t>(job.items.size());
        queue_.erase(it);
        return;
      }
  }

  // The jobs of the next batch, taken out of the queue (lock held).
  std::vector<JobPtr> take_batch() {
    std::vector<JobPtr> batch;
    const std::string key = queue_.front()->key;
    int64_t items = 0, tokens = 0;
    for (auto it = queue_.begin(); it != queue_.end();) {
      Job& job = **it;
      const int64_t n = static_cast<int64_t>(job.items.size());
      if (job.key != key) {
        ++it;
        continue;
      }
      const bool fits =
          batch.empty() || (limits_.enabled && items + n <= limits_.max_items &&
                            (limits_.max_tokens <= 0 || tokens + job.tokens <= limits_.max_tokens));
      if (!fits) break;  // keep arrival order within a key: no overtaking
      items += n, tokens += job.tokens;
      queued_items_ -= n;
      batch.push_back(*it);
      it = queue_.erase(it);
      if (!limits_.enabled) break;
    }
    return batch;
  }

  // Items queued under key (lock held).
  int64_t queued_for(const std::string& key) const {
    int64_t n = 0;
    for (const JobPtr& job : queue_)
      if (job->key == key) n += static_cast<int64_t>(job->items.size());
    return n;
  }

  void work() {
    for (;;) {
      std::vector<JobPtr> batch;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, and nothing left
        if (limits_.enabled && limits_.max_wait.count() > 0 && !stopping_) {
          // A short batch waits for company, but never past its oldest request's max_wait.
          const auto until = queue_.front()->arrived + limits_.max_wait;
          wake_.wait_until(lock, until, [&] {
            return stopping_ || queue_.empty() ||
                   queued_for(queue_.front()->key) >= limits_.max_items;
          });
          if (queue_.empty()) continue;
        }
        batch = take_batch();
      }
      run_batch(batch);
    }
  }

  void run_batch(std::vector<JobPtr>& batch) {
    std::vector<JobPtr> live;
    for (JobPtr& job : batch) {
      std::lock_guard<std::mutex> lock(job->mutex);
      if (job->state == JobState::abandoned) continue;  // its client left while it queued
      job->state = JobState::running;
      live.push_back(job);
    }
    if (live.empty()) return;
    std::vector<Item> items;
    for (const JobPtr& job : live)
      items.insert(items.end(), job->items.begin(), job->items.end());
    const auto start = Clock::now();
    std::vector<Result> results;
    std::string error;
    try {
      results = run_(items, live.front()->options);
      if (results.size() != items.size()) error = "the model returned a wrong number of results";
    } catch (const std::exception& e) {
      error = e.what();
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    size_t offset = 0;
    for (const JobPtr& job : live) {
      {
        std::lock_guard<std::mutex> lock(job->mutex);
        const size_t n = job->items.size();
        if (job->state == JobState::running) {
          job->batch_items = static_cast<int64_t>(items.size());
          if (error.empty()) {
            job->results.assign(std::make_move_iterator(results.begin() + offset),
                                std::make_move_iterator(results.begin() + offset + n));
            job->state = JobState::done;
          } else {
            job->error = error;
            job->state = JobState::failed;
          }
        }
        offset += n;
      }
      job->done.notify_all();
    }
    if (on_batch_)
      on_batch_({static_cast<int64_t>(items.size()), static_cast<int64_t>(live.size()), seconds});
  }

  Run run_;
  BatchLimits limits_;
  std::function<void(const BatchReport&)> on_batch_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::list<JobPtr> queue_;
  int64_t queued_items_ = 0;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace s2s::server
