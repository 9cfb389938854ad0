// The host (CPU) memory allocator behind every CPU Storage: large blocks freed by one training or
// decoding step are kept in size classes and handed to the next step instead of going back to
// the kernel.
//
// Why: glibc serves blocks above its mmap threshold (at most 32 MiB) with fresh mmap()s and
// trims the top of its heap, and the kernel zero-fills every page of such memory on first touch.
// A training step allocates and frees the same buffers every step; with the first fashion-scenes
// CNN (32 channels at 48x48, batch norm) perf put 9% of a step's cycles in page faults, and the
// cache makes that run 1.12x faster (scripts/bench-allocator.sh). Small blocks go straight to
// aligned_alloc: malloc's own bins already recycle them.
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
