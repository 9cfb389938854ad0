// CPU embedding: row copies and row scatter-adds; rows are contiguous, so each is one vectorised
// copy or add.
#include "seq2seq/cpu/embedding_cpu.h"

#include <Eigen/Core>

namespace s2s::cpu {
namespace {
template <typename T>
using Row = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
template <typename T>
using ConstRow = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;
}  // namespace

int64_t first_invalid_id(const int32_t* ids, int64_t n, int64_t v) {
  for (int64_t i = 0; i < n; ++i)
    if (ids[i] < 0 || ids[i] >= v) return i;
  return -1;
}

template <typename T>
void embedding_fwd(const T* table, const int32_t* ids, int64_t n, int64_t e, int32_t pad_id,
                   T* out) {
  for (int64_t i = 0; i < n; ++i) {
    Row<T> row(out + i * e, e);
    if (ids[i] == pad_id)
      row.setZero();
    else
      row = ConstRow<T>(table + static_cast<int64_t>(ids[i]) * e, e);
  }
}

template <typename T>
void embedding_bwd(const int32_t* ids, const T* dout, int64_t n, int64_t e, int32_t pad_id,
                   T* dtable) {
  // Sequential over positions: two positions with one id add into the same row.
  for (int64_t i = 0; i < n; ++i)
    if (ids[i] != pad_id)
      Row<T>(dtable + static_cast<int64_t>(ids[i]) * e, e) += ConstRow<T>(dout + i * e, e);
}

template void embedding_fwd<float>(const float*, const int32_t*, int64_t, int64_t, int32_t, float*);
template void embedding_fwd<double>(const double*, const int32_t*, int64_t, int64_t, int32_t,
                                    double*);
template void embedding_bwd<float>(const int32_t*, const float*, int64_t, int64_t, int32_t, float*);
template void embedding_bwd<double>(const int32_t*, const double*, int64_t, int64_t, int32_t,
                                    double*);

}  // namespace s2s::cpu
