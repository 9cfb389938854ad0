// The host (CPU) memory allocator behind every CPU Storage: large blocks freed by one training or
// decoding step are kept and handed to the next step instead of going back to the kernel, up to
// a limit above which the oldest idle ones do go back.
//
// Why keep them: fresh memory is zero-filled by the kernel page by page on first touch. A
// training step allocates and frees the same buffers every step; with the first fashion-scenes
// CNN (32 channels at 48x48, batch norm) perf put 9% of a step's cycles in page faults, and the
// cache makes that run 1.12x faster (scripts/bench-allocator.sh).
// Why a limit, best fit and mmap: batch shapes vary, so a cache of exact sizes fills with blocks
// of shapes never seen again; and blocks given back through free() stay in malloc's arenas. With
// 2 GiB of exact-size cache over malloc the de-en hour recipe held 465 MiB idle after 3 minutes
// and peaked at 1.07 GiB in an hour; with best fit, oldest-first eviction at 256 MiB and mmap the
// same 3 minutes hold under 256 MiB idle at 99.3% hits and the same speed.
// Small blocks go straight to aligned_alloc: malloc's own bins already recycle them.
#pragma once

#include <cstddef>

namespace s2s::host_allocator {

// 64-byte aligned memory of at least `bytes`; throws EnvironmentError when the host is out of it.
void* allocate(size_t bytes);
// Returns a block from allocate(bytes) (the same `bytes`) to the cache; the oldest idle blocks
// go back to the system while the cache holds more than its limit.
void deallocate(void* block, size_t bytes);

// The most bytes the cache keeps idle (default 256 MiB, or S2S_HOST_CACHE_MB from the
// environment; 0 turns the cache off). Lowering it frees the oldest idle blocks above the new
// limit.
void set_cache_limit(size_t bytes);
size_t cache_limit();

struct Stats {
  size_t cached_bytes = 0;       // idle, kept for reuse
  size_t hits = 0;               // allocations served from the cache
  size_t misses = 0;             // cacheable allocations that went to the system
  size_t in_use_bytes = 0;       // held by live tensors now (size classes, small blocks included)
  size_t peak_in_use_bytes = 0;  // the most ever held by live tensors at once
};
Stats stats();

// Gives every idle block back to the system.
void release_cached();

// Hands the free memory inside malloc's heaps back to the kernel (glibc's malloc_trim; nothing
// elsewhere). For after a big transient job of many small allocations, such as training a
// SentencePiece model, whose freed pages malloc would otherwise keep for the whole run.
void trim_heap();

}  // namespace s2s::host_allocator
