// parallel_for: every index exactly once in contiguous slices, the same slices for the same
// thread count, exceptions rethrown after all slices ended, and a loop inside a loop (or two
// callers at once) run on the caller's thread instead of waiting for the busy pool.
#include "seq2seq/parallel_for.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "seq2seq/runtime.h"

namespace s2s {
namespace {

class ParallelForTest : public ::testing::Test {
 protected:
  void SetUp() override { previous_ = num_threads(); }
  void TearDown() override { set_num_threads(previous_); }
  int previous_ = 1;
};

TEST_F(ParallelForTest, EveryIndexOnceInContiguousSlices) {
  for (int threads : {1, 2, 4}) {
    set_num_threads(threads);
    for (int64_t n : {1, 7, 1000}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      std::mutex mutex;
      std::vector<std::pair<int64_t, int64_t>> slices;
      parallel_for(n, 2, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i)
          ++hits[static_cast<size_t>(i)];
        std::lock_guard<std::mutex> lock(mutex);
        slices.emplace_back(begin, end);
      });
      for (int64_t i = 0; i < n; ++i)
        EXPECT_EQ(hits[static_cast<size_t>(i)], 1) << i;
      EXPECT_LE(static_cast<int>(slices.size()), threads);
      EXPECT_LE(static_cast<int64_t>(slices.size()), std::max<int64_t>(1, n / 2));
    }
  }
  int calls = 0;
  parallel_for(0, 1, [&](int64_t, int64_t) { ++calls; });
  EXPECT_EQ(calls, 0);
}

TEST_F(ParallelForTest, AnExceptionOfASliceIsRethrownAfterAllSlicesEnded) {
  set_num_threads(2);
  std::atomic<int> ended{0};
  EXPECT_THROW(parallel_for(100, 1,
                            [&](int64_t begin, int64_t) {
                              if (begin == 0) throw std::runtime_error("slice 0");
                              ++ended;
                            }),
               std::runtime_error);
  EXPECT_EQ(ended, 1);
  // The pool works on after it.
  std::atomic<int64_t> sum{0};
  parallel_for(100, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      sum += i;
  });
  EXPECT_EQ(sum, 4950);
}

TEST_F(ParallelForTest, NestedLoopsAndConcurrentCallersRunOnTheirOwnThread) {
  set_num_threads(2);
  std::atomic<int64_t> inner{0};
  parallel_for(4, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      parallel_for(10, 1, [&](int64_t b, int64_t e) { inner += e - b; });
  });
  EXPECT_EQ(inner, 40);
  std::atomic<int64_t> total{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t)
    callers.emplace_back([&] {
      for (int r = 0; r < 200; ++r)
        parallel_for(64, 1, [&](int64_t b, int64_t e) { total += e - b; });
    });
  for (std::thread& t : callers)
    t.join();
  EXPECT_EQ(total, 4 * 200 * 64);
}

}  // namespace
}  // namespace s2s
