// The host caching allocator: size classes of a quarter power of two, one mutex, a byte limit.
#include "seq2seq/host_allocator.h"

#include <bit>
#include <cstdlib>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "seq2seq/error.h"

namespace s2s::host_allocator {
namespace {

constexpr size_t kAlignment = 64;
// Below this malloc's bins recycle blocks without system calls; caching them would only add a
// lock to every small tensor.
constexpr size_t kSmallestCached = 64 * 1024;

size_t default_limit() {
  if (const char* text = std::getenv("S2S_HOST_CACHE_MB")) {
    char* end = nullptr;
    const unsigned long long mb = std::strtoull(text, &end, 10);
    if (end != text && *end == '\0') return static_cast<size_t>(mb) << 20;
  }
  return size_t{2} << 30;
}

// A block's size class: rounded up to a multiple of a quarter of its power of two, so a step
// whose batch shapes vary a little still finds its blocks, and at most 25% is wasted.
size_t size_class(size_t bytes) {
  if (bytes < kSmallestCached) return (bytes + kAlignment - 1) / kAlignment * kAlignment;
  const size_t quarter = std::bit_floor(bytes) / 4;
  return (bytes + quarter - 1) / quarter * quarter;
}

struct Cache {
  std::mutex mutex;
  std::unordered_map<size_t, std::vector<void*>> idle;  // size class -> idle blocks
  size_t cached_bytes = 0;
  size_t limit = default_limit();
  size_t hits = 0;
  size_t misses = 0;

  // Frees idle blocks until at most `target` bytes stay cached. Called with the mutex held.
  void shrink_to(size_t target) {
    for (auto it = idle.begin(); it != idle.end() && cached_bytes > target;) {
      auto& blocks = it->second;
      while (!blocks.empty() && cached_bytes > target) {
        std::free(blocks.back());
        blocks.pop_back();
        cached_bytes -= it->first;
      }
      it = blocks.empty() ? idle.erase(it) : std::next(it);
    }
  }
};

Cache& cache() {
  // Never destroyed: tensors in static objects may be freed after it would have been.
  static Cache* instance = new Cache;
  return *instance;
}

void* system_allocate(size_t rounded, size_t requested) {
  void* block = std::aligned_alloc(kAlignment, rounded);
  if (!block)
    throw EnvironmentError("out of host memory allocating " + std::to_string(requested) + " bytes");
  return block;
}

}  // namespace

void* allocate(size_t bytes) {
  const size_t rounded = size_class(std::max<size_t>(bytes, 1));
  if (rounded < kSmallestCached) return system_allocate(rounded, bytes);
  Cache& c = cache();
  {
    std::lock_guard lock(c.mutex);
    auto it = c.idle.find(rounded);
    if (it != c.idle.end() && !it->second.empty()) {
      void* block = it->second.back();
      it->second.pop_back();
      c.cached_bytes -= rounded;
      ++c.hits;
      return block;
    }
    ++c.misses;
  }
  return system_allocate(rounded, bytes);
}

void deallocate(void* block, size_t bytes) {
  if (!block) return;
  const size_t rounded = size_class(std::max<size_t>(bytes, 1));
  if (rounded >= kSmallestCached) {
    Cache& c = cache();
    std::lock_guard lock(c.mutex);
    if (c.cached_bytes + rounded <= c.limit) {
      c.idle[rounded].push_back(block);
      c.cached_bytes += rounded;
      return;
    }
  }
  std::free(block);
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
  return {c.cached_bytes, c.hits, c.misses};
}

void release_cached() {
  Cache& c = cache();
  std::lock_guard lock(c.mutex);
  c.shrink_to(0);
}

}  // namespace s2s::host_allocator
