// The host caching allocator: aligned blocks, reuse of a freed block of the same size class or
// a somewhat larger one, oldest-first eviction at the cache limit, release, the tensor byte
// counts, and concurrent use.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include "seq2seq/host_allocator.h"
#include "seq2seq/tensor.h"

namespace s2s {
namespace {

// Restores the process-wide limit whatever a test does to it.
class HostAllocator : public ::testing::Test {
 protected:
  void SetUp() override { limit_ = host_allocator::cache_limit(); }
  void TearDown() override { host_allocator::set_cache_limit(limit_); }
  size_t limit_ = 0;
};

TEST_F(HostAllocator, BlocksAreAlignedAndWritable) {
  for (size_t bytes : {size_t{1}, size_t{100}, size_t{70000}, size_t{3} << 20}) {
    void* block = host_allocator::allocate(bytes);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(block) % 64, 0u) << bytes;
    std::memset(block, 0xab, bytes);
    host_allocator::deallocate(block, bytes);
  }
}

TEST_F(HostAllocator, AFreedLargeBlockServesTheNextRequestOfItsSizeClass) {
  host_allocator::set_cache_limit(size_t{64} << 20);
  host_allocator::release_cached();
  const size_t bytes = 5'000'000;
  void* first = host_allocator::allocate(bytes);
  host_allocator::deallocate(first, bytes);
  EXPECT_GE(host_allocator::stats().cached_bytes, bytes);
  const auto before = host_allocator::stats();
  // A slightly smaller request rounds to the same class (a quarter power of two).
  void* second = host_allocator::allocate(bytes - 1000);
  EXPECT_EQ(second, first);
  EXPECT_EQ(host_allocator::stats().hits, before.hits + 1);
  EXPECT_EQ(host_allocator::stats().cached_bytes, before.cached_bytes - (bytes + 242'880));
  host_allocator::deallocate(second, bytes - 1000);
}

TEST_F(HostAllocator, ASomewhatLargerIdleBlockServesASmallerRequestAndReturnsWhole) {
  host_allocator::set_cache_limit(size_t{64} << 20);
  host_allocator::release_cached();
  const size_t large = 5'000'000, smaller = 4'000'000;  // classes 5,242,880 and 4,194,304
  void* block = host_allocator::allocate(large);
  host_allocator::deallocate(block, large);
  const auto before = host_allocator::stats();
  void* reused = host_allocator::allocate(smaller);
  EXPECT_EQ(reused, block);
  EXPECT_EQ(host_allocator::stats().hits, before.hits + 1);
  EXPECT_EQ(host_allocator::stats().in_use_bytes, before.in_use_bytes + 5'242'880);
  std::memset(reused, 1, large);                // the whole block is the caller's
  host_allocator::deallocate(reused, smaller);  // the block's real size goes back, not 4 MB
  EXPECT_EQ(host_allocator::stats().cached_bytes, before.cached_bytes);
  EXPECT_EQ(host_allocator::stats().in_use_bytes, before.in_use_bytes);
}

TEST_F(HostAllocator, AMuchLargerIdleBlockIsNotSpentOnASmallRequest) {
  host_allocator::set_cache_limit(size_t{64} << 20);
  host_allocator::release_cached();
  void* big = host_allocator::allocate(size_t{16} << 20);
  host_allocator::deallocate(big, size_t{16} << 20);
  const auto before = host_allocator::stats();
  void* small = host_allocator::allocate(size_t{1} << 20);
  EXPECT_EQ(host_allocator::stats().misses, before.misses + 1);
  EXPECT_EQ(host_allocator::stats().cached_bytes, before.cached_bytes);  // the big one stays idle
  host_allocator::deallocate(small, size_t{1} << 20);
}

TEST_F(HostAllocator, AboveTheLimitTheOldestIdleBlocksGoBackFirst) {
  const size_t bytes = 300'000, block_bytes = 327'680;  // one class
  host_allocator::set_cache_limit(2 * block_bytes);
  host_allocator::release_cached();
  void* oldest = host_allocator::allocate(bytes);
  void* middle = host_allocator::allocate(bytes);
  void* newest = host_allocator::allocate(bytes);
  host_allocator::deallocate(oldest, bytes);
  host_allocator::deallocate(middle, bytes);
  host_allocator::deallocate(newest, bytes);  // over the limit: `oldest` is unmapped
  EXPECT_EQ(host_allocator::stats().cached_bytes, 2 * block_bytes);
  const auto before = host_allocator::stats();
  void* first = host_allocator::allocate(bytes);
  void* second = host_allocator::allocate(bytes);
  EXPECT_EQ(host_allocator::stats().hits, before.hits + 2);
  EXPECT_TRUE((first == middle && second == newest) || (first == newest && second == middle));
  host_allocator::deallocate(first, bytes);
  host_allocator::deallocate(second, bytes);
}

TEST_F(HostAllocator, CountsTheBytesLiveTensorsHoldAndTheirPeak) {
  const auto before = host_allocator::stats();
  {
    Tensor a = Tensor::empty({1000, 1000});  // 4,000,000 bytes: class 4,194,304
    Tensor b = Tensor::empty({10});          // 40 bytes: 64
    EXPECT_EQ(host_allocator::stats().in_use_bytes, before.in_use_bytes + 4'194'304 + 64);
    EXPECT_GE(host_allocator::stats().peak_in_use_bytes, before.in_use_bytes + 4'194'304 + 64);
  }
  EXPECT_EQ(host_allocator::stats().in_use_bytes, before.in_use_bytes);
}

TEST_F(HostAllocator, TheLimitBoundsWhatIsKeptIdle) {
  host_allocator::set_cache_limit(size_t{1} << 20);
  host_allocator::release_cached();
  std::vector<void*> blocks;
  for (int i = 0; i < 8; ++i)
    blocks.push_back(host_allocator::allocate(300'000));
  for (void* b : blocks)
    host_allocator::deallocate(b, 300'000);
  EXPECT_LE(host_allocator::stats().cached_bytes, size_t{1} << 20);
  EXPECT_GT(host_allocator::stats().cached_bytes, 0u);
  host_allocator::set_cache_limit(0);  // off: nothing stays idle
  EXPECT_EQ(host_allocator::stats().cached_bytes, 0u);
  void* b = host_allocator::allocate(300'000);
  host_allocator::deallocate(b, 300'000);
  EXPECT_EQ(host_allocator::stats().cached_bytes, 0u);
}

TEST_F(HostAllocator, TensorsOfManyThreadsShareTheCacheSafely) {
  host_allocator::set_cache_limit(size_t{256} << 20);
  std::vector<std::thread> threads;
  std::vector<int> wrong(4, 0);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([t, &wrong] {
      for (int i = 0; i < 200; ++i) {
        Tensor x = Tensor::empty({64 * (1 + (i + t) % 5), 1024});
        x.fill(static_cast<double>(t));
        const float* v = x.data<float>();
        for (int64_t j = 0; j < x.numel(); j += 4099)
          wrong[t] += v[j] != static_cast<float>(t);
      }
    });
  for (std::thread& t : threads)
    t.join();
  for (int t = 0; t < 4; ++t)
    EXPECT_EQ(wrong[t], 0) << "thread " << t;
  EXPECT_GT(host_allocator::stats().hits, 0u);
}

}  // namespace
}  // namespace s2s
