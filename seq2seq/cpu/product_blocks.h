// How a matrix product C[M, N] is shared among the math threads, for every CPU gemm (float and
// int8): small products run whole on the calling thread; larger ones are cut into column blocks
// of C (row blocks when C is tall), one per thread of s2s's pool (parallel_for).
#pragma once

#include <cstdint>

#include "seq2seq/parallel_for.h"

namespace s2s::cpu {

// Products under this many multiply-adds run on the calling thread: waking the pool would cost
// more than the second core saves.
inline constexpr double kParallelMacs = 1 << 18;

// Calls block(r0, rows, c0, cols) over blocks that cover C[m, n] exactly once; min_cols and
// min_rows are the narrowest column and row blocks worth a thread.
template <typename Block>
void for_each_product_block(int64_t m, int64_t n, int64_t k, int64_t min_cols, int64_t min_rows,
                            const Block& block) {
  const double macs = static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  if (macs < kParallelMacs)
    block(int64_t{0}, m, int64_t{0}, n);
  else if (n >= m)
    parallel_for(n, min_cols, [&](int64_t begin, int64_t end) { block(0, m, begin, end - begin); });
  else
    parallel_for(m, min_rows, [&](int64_t begin, int64_t end) { block(begin, end - begin, 0, n); });
}

}  // namespace s2s::cpu
