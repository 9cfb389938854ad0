// The host caching allocator: large blocks mapped straight from the kernel, idle ones kept for
// reuse by best fit and given back oldest first above a byte limit.
#include "seq2seq/host_allocator.h"

#include <sys/mman.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <atomic>
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "seq2seq/error.h"

namespace s2s::host_allocator {
namespace {

constexpr size_t kAlignment = 64;
// Below this malloc's bins recycle blocks without system calls; caching them would only add a
// lock to every small tensor.
constexpr size_t kSmallestCached = 64 * 1024;
// An idle block serves a request whose size class is at least this fraction of the block: a
// step whose batch is a little smaller than the last one's reuses its blocks instead of mapping
// new ones, at the price of at most this much slack in a block.
constexpr size_t kLargestFitNumerator = 3, kLargestFitDenominator = 2;

size_t default_limit() {
  if (const char* text = std::getenv("S2S_HOST_CACHE_MB")) {
    char* end = nullptr;
    const unsigned long long mb = std::strtoull(text, &end, 10);
    if (end != text && *end == '\0') return static_cast<size_t>(mb) << 20;
  }
  return size_t{256} << 20;
}

// A block's size class: rounded up to a multiple of a quarter of its power of two, so at most
// 25% is wasted; from 64 KiB on every class is a whole number of 16 KiB, so of pages.
size_t size_class(size_t bytes) {
  if (bytes < kSmallestCached) return (bytes + kAlignment - 1) / kAlignment * kAlignment;
  const size_t quarter = std::bit_floor(bytes) / 4;
  return (bytes + quarter - 1) / quarter * quarter;
}

// Large blocks come from mmap, not malloc: freed they go back to the kernel at once, where
// malloc would keep them in an arena (its mmap threshold grows to 32 MiB after the first large
// free), and the process's memory would be the sum of every shape a run ever saw.
void* map_block(size_t bytes, size_t requested) {
  void* block = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (block == MAP_FAILED)
    throw EnvironmentError("out of host memory allocating " + std::to_string(requested) + " bytes");
  return block;
}

void unmap_block(void* block, size_t bytes) {
  munmap(block, bytes);
}

struct Cache {
  std::mutex mutex;
  // Idle blocks twice: by (size, age) for the best fit, by age for giving back the oldest.
  std::map<std::pair<size_t, uint64_t>, void*> idle_by_size;
  std::map<uint64_t, std::pair<size_t, void*>> idle_by_age;
  // Large blocks handed out, with their real size (a request may get a larger idle block).
  std::unordered_map<void*, size_t> live;
  uint64_t clock = 0;
  size_t cached_bytes = 0;
  size_t limit = default_limit();
  size_t hits = 0;
  size_t misses = 0;

  void take_idle(std::map<std::pair<size_t, uint64_t>, void*>::iterator it) {
    cached_bytes -= it->first.first;
    idle_by_age.erase(it->first.second);
    idle_by_size.erase(it);
  }

  // Gives the oldest idle blocks back until at most `target` bytes stay cached. Called with the
  // mutex held.
  void shrink_to(size_t target) {
    while (cached_bytes > target && !idle_by_age.empty()) {
      const auto oldest = idle_by_age.begin();
      const auto [bytes, block] = oldest->second;
      idle_by_size.erase({bytes, oldest->first});
      idle_by_age.erase(oldest);
      cached_bytes -= bytes;
      unmap_block(block, bytes);
    }
  }
};

Cache& cache() {
  // Never destroyed: tensors in static objects may be freed after it would have been.
  static Cache* instance = new Cache;
  return *instance;
}

// Bytes held by live blocks, small ones included (those never take the cache's lock).
std::atomic<size_t> in_use{0};
std::atomic<size_t> peak_in_use{0};

void count_allocated(size_t bytes) {
  const size_t now = in_use.fetch_add(bytes, std::memory_order_relaxed) + bytes;
  size_t peak = peak_in_use.load(std::memory_order_relaxed);
  while (now > peak && !peak_in_use.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
  }
}

}  // namespace

void* allocate(size_t bytes) {
  const size_t rounded = size_class(std::max<size_t>(bytes, 1));
  if (rounded < kSmallestCached) {
    void* block = std::aligned_alloc(kAlignment, rounded);
    if (!block)
      throw EnvironmentError("out of host memory allocating " + std::to_string(bytes) + " bytes");
    count_allocated(rounded);
    return block;
  }
  Cache& c = cache();
  {
    std::lock_guard lock(c.mutex);
    const auto fit = c.idle_by_size.lower_bound({rounded, 0});
    if (fit != c.idle_by_size.end() &&
        fit->first.first * kLargestFitDenominator <= rounded * kLargestFitNumerator) {
      void* block = fit->second;
      const size_t block_bytes = fit->first.first;
      c.take_idle(fit);
      c.live.emplace(block, block_bytes);
      ++c.hits;
      count_allocated(block_bytes);
      return block;
    }
    ++c.misses;
  }
  void* block = map_block(rounded, bytes);  // outside the lock: the kernel may be slow
  {
    std::lock_guard lock(c.mutex);
    c.live.emplace(block, rounded);
  }
  count_allocated(rounded);
  return block;
}

void deallocate(void* block, size_t bytes) {
  if (!block) return;
  const size_t rounded = size_class(std::max<size_t>(bytes, 1));
  if (rounded < kSmallestCached) {
    in_use.fetch_sub(rounded, std::memory_order_relaxed);
    std::free(block);
    return;
  }
  Cache& c = cache();
  std::lock_guard lock(c.mutex);
  const auto live = c.live.find(block);
  S2S_CHECK(live != c.live.end(), "host_allocator: freeing a block it did not hand out");
  const size_t block_bytes = live->second;
  c.live.erase(live);
  in_use.fetch_sub(block_bytes, std::memory_order_relaxed);
  if (block_bytes > c.limit) {
    unmap_block(block, block_bytes);
    return;
  }
  const uint64_t age = c.clock++;
  c.idle_by_size.emplace(std::pair{block_bytes, age}, block);
  c.idle_by_age.emplace(age, std::pair{block_bytes, block});
  c.cached_bytes += block_bytes;
  c.shrink_to(c.limit);
}

void set_cache_limit(size_t bytes) {
  Cache& c = cache();
  std::lock_guard lock(c.mutex);
  c.limit = bytes;
  c.shrink_to(bytes);
}

size_t cache_limit() {
  Cache& c = cache();
  std::lock_guard lock(c.mutex);
  return c.limit;
}

Stats stats() {
  Cache& c = cache();
  std::lock_guard lock(c.mutex);
  return {c.cached_bytes, c.hits, c.misses, in_use.load(std::memory_order_relaxed),
          peak_in_use.load(std::memory_order_relaxed)};
}

void trim_heap() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

void release_cached() {
  Cache& c = cache();
  std::lock_guard lock(c.mutex);
  c.shrink_to(0);
}

}  // namespace s2s::host_allocator
