// The host (CPU) memory allocator behind every CPU Storage: large blocks freed by one training or
// decoding step are kept in size classes and handed to the next step instead of going back to
// the kernel.
//
// Why: glibc serves blocks above its mmap threshold (at most 32 MiB) with fresh mmap()s, and
// the kernel zero-fills every page of them on first touch. A training step of the caption model
// allocates and frees the same few dozen im2col, activation and gradient buffers every step;
// without a cache a third of its time went to page faults (perf, fashion-scenes recipe). Small
// blocks go straight to aligned_alloc: malloc's own bins already recycle them.
#pragma once

#include <cstddef>

namespace s2s::host_allocator {

// 64-byte aligned memory of at least `bytes`; throws EnvironmentError when the host is out of it.
void* allocate(size_t bytes);
// Returns a block from allocate(bytes) (the same `bytes`) to the cache, or to the system when
// the cache is full.
void deallocate(void* block, size_t bytes);

// The most bytes the cache keeps idle (default 2 GiB, or S2S_HOST_CACHE_MB from the environment;
// 0 turns the cache off). Lowering it frees idle blocks above the new limit.
void set_cache_limit(size_t bytes);
size_t cache_limit();

struct Stats {
  size_t cached_bytes = 0;  // idle, kept for reuse
  size_t hits = 0;          // allocations served from the cache
  size_t misses = 0;        // cacheable allocations that went to the system
};
Stats stats();

// Gives every idle block back to the system.
void release_cached();

}  // namespace s2s::host_allocator
