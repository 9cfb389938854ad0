// parallel_for: s2s's own loops over independent rows (log-softmax, beam candidates) on the
// process's math threads (runtime.h's num_threads), between the GEMMs that OpenBLAS threads.
// One persistent pool; a caller that finds it busy (another thread's loop: a server's models, a
// ReplicaPool's replicas) runs its loop alone instead of waiting.
#pragma once

#include <cstdint>
#include <functional>

namespace s2s {

// Calls body(begin, end) over contiguous slices covering [0, n) exactly once, at most
// num_threads() slices at once, each of at least min_slice items (fewer items: one call on this
// thread). The slices are the same for the same n and thread count, so a body that writes only
// its own slice gives the same bytes with any thread count. An exception of a slice is rethrown
// here after every slice ended.
void parallel_for(int64_t n, int64_t min_slice,
                  const std::function<void(int64_t begin, int64_t end)>& body);

}  // namespace s2s
