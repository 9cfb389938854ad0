// index_select: validation and a row-copying body that works for any dtype and device (it moves
// whole contiguous rows, so the CPU uses memcpy and CUDA tensors use device copies).
#include "seq2seq/ops/index_select.h"

#include <cstring>

#include "seq2seq/cuda_backend.h"
#include "seq2seq/ops/check.h"
#include "seq2seq/profiler.h"

namespace s2s::ops {

Tensor index_select(const Tensor& src, int dim, const std::vector<int32_t>& indices) {
  S2S_CHECK(src.defined(), "index_select: src is undefined");
  const profile::Scope scope("index_select");
  S2S_CHECK(dim == 0 || dim == 1, "index_select: dim must be 0 or 1, got ", dim);
  S2S_CHECK_SHAPE(src.rank() > dim, "index_select: src ", src.str(), " has no dimension ", dim);
  const int64_t n = src.dim(dim);
  for (size_t i = 0; i < indices.size(); ++i)
    S2S_CHECK(indices[i] >= 0 && indices[i] < n, "index_select: index ", indices[i],
              " at position ", i, " is outside [0, ", n, ")");
  std::vector<int64_t> dims = src.shape().dims();
  dims[dim] = static_cast<int64_t>(indices.size());
  Tensor out = Tensor::empty(Shape(dims), src.dtype(), src.device());
  const int64_t outer = dim == 0 ? 1 : src.dim(0);
  int64_t row = dtype_size(src.dtype());
  for (int i = dim + 1; i < src.rank(); ++i)
    row *= src.dim(i);
  const auto* from = static_cast<const char*>(src.raw_data());
  auto* to = static_cast<char*>(out.raw_data());
  const int64_t m = static_cast<int64_t>(indices.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < m; ++i) {
      const char* s = from + (o * n + indices[i]) * row;
      char* d = to + (o * m + i) * row;
      if (src.device().is_cpu())
        std::memcpy(d, s, static_cast<size_t>(row));
      else
        cuda::copy(d, src.device(), s, src.device(), static_cast<size_t>(row));
    }
  return out;
}

}  // namespace s2s::ops
