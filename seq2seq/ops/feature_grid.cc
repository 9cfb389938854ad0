// feature_grid: validation and dispatch.
#include "seq2seq/ops/feature_grid.h"

#include "seq2seq/cpu/feature_grid_cpu.h"
#include "seq2seq/ops/check.h"

namespace s2s::ops {

void feature_grid_fwd(const Tensor& x, const Tensor& row, const Tensor& col, Tensor& out) {
  constexpr const char* op = "feature_grid_fwd";
  check::shape(op, "x", x, {-1, -1, -1, -1});
  check::floating(op, "x", x);
  const int64_t n = x.dim(0), d = x.dim(1), h = x.dim(2), w = x.dim(3);
  check::shape(op, "row", row, {-1, d});
  check::shape(op, "col", col, {-1, d});
  check::shape(op, "out", out, {h * w, n, d});
  check::same_kind(op, "x", x, "row", row);
  check::same_kind(op, "x", x, "col", col);
  check::same_kind(op, "x", x, "out", out);
  S2S_CHECK_SHAPE(row.dim(0) >= h && col.dim(0) >= w, op, ": the ", h, "x", w,
                  " grid is larger than the position tables (", row.dim(0), " rows, ", col.dim(0),
                  " columns)");
  check::cpu_only(op, x);
  dispatch_floating(x.dtype(), [&]<typename T>() {
    cpu::feature_grid_fwd<T>(x.data<T>(), row.data<T>(), col.data<T>(), n, d, h, w, out.data<T>());
  });
}

void feature_grid_bwd(const Tensor& dout, Tensor& dx, Tensor& drow, Tensor& dcol) {
  constexpr const char* op = "feature_grid_bwd";
  check::shape(op, "dx", dx, {-1, -1, -1, -1});
  check::floating(op, "dx", dx);
  const int64_t n = dx.dim(0), d = dx.dim(1), h = dx.dim(2), w = dx.dim(3);
  check::shape(op, "dout", dout, {h * w, n, d});
  check::shape(op, "drow", drow, {-1, d});
  check::shape(op, "dcol", dcol, {-1, d});
  check::same_kind(op, "dx", dx, "dout", dout);
  check::same_kind(op, "dx", dx, "drow", drow);
  check::same_kind(op, "dx", dx, "dcol", dcol);
  S2S_CHECK_SHAPE(drow.dim(0) >= h && dcol.dim(0) >= w, op, ": the ", h, "x", w,
                  " grid is larger than the position tables (", drow.dim(0), " rows, ", dcol.dim(0),
                  " columns)");
  check::cpu_only(op, dx);
  dispatch_floating(dx.dtype(), [&]<typename T>() {
    cpu::feature_grid_bwd<T>(dout.data<T>(), n, d, h, w, dx.data<T>(), drow.data<T>(),
                             dcol.data<T>());
  });
}

}  // namespace s2s::ops
