// lstm_cell: validation and dispatch.
#include "seq2seq/ops/lstm_cell.h"

#include "seq2seq/cpu/lstm_cell_cpu.h"
#include "seq2seq/cuda_backend.h"
#include "seq2seq/ops/check.h"
#include "seq2seq/profiler.h"

namespace s2s::ops {
namespace {

template <typename T>
const T* optional_data(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

// An optional argument, when given, matches ref's dtype and device and has the given dims.
void optional(const char* op, const char* name, const Tensor& t, const char* ref_name,
              const Tensor& ref, std::initializer_list<int64_t> dims) {
  if (!t.defined()) return;
  check::same_kind(op, ref_name, ref, name, t);
  check::shape(op, name, t, dims);
}

}  // namespace

void lstm_cell_fwd(Tensor& gates, const Tensor& bias, const Tensor& c_prev, const Tensor& h_prev,
                   const Tensor& mask, Tensor& c, Tensor& h) {
  constexpr const char* op = "lstm_cell_fwd";
  const profile::Scope scope("lstm_cell");
  check::shape(op, "c_prev", c_prev, {-1, -1});
  const int64_t batch = c_prev.dim(0), hidden = c_prev.dim(1);
  check::floating(op, "c_prev", c_prev);
  check::shape(op, "gates", gates, {batch, 4 * hidden});
  check::shape(op, "h_prev", h_prev, {batch, hidden});
  check::shape(op, "c", c, {batch, hidden});
  check::shape(op, "h", h, {batch, hidden});
  check::same_kind(op, "c_prev", c_prev, "gates", gates);
  check::same_kind(op, "c_prev", c_prev, "h_prev", h_prev);
  check::same_kind(op, "c_prev", c_prev, "c", c);
  check::same_kind(op, "c_prev", c_prev, "h", h);
  optional(op, "bias", bias, "c_prev", c_prev, {4 * hidden});
  optional(op, "mask", mask, "c_prev", c_prev, {batch});
  if (c_prev.device().is_cuda())
    return cuda::lstm_cell_fwd(gates, bias, c_prev, h_prev, mask, c, h);
  dispatch_floating(c_prev.dtype(), [&]<typename T>() {
    cpu::lstm_cell_fwd<T>(batch, hidden, gates.data<T>(), optional_data<T>(bias), c_prev.data<T>(),
                          h_prev.data<T>(), optional_data<T>(mask), c.data<T>(), h.data<T>());
  });
}

void lstm_cell_bwd(const Tensor& gates, const Tensor& c_prev, const Tensor& c, const Tensor& mask,
                   const Tensor& dh, const Tensor& dc, Tensor& dgates, Tensor& dc_prev,
                   Tensor& dh_carry, Tensor& dbias) {
  constexpr const char* op = "lstm_cell_bwd";
  check::shape(op, "c_prev", c_prev, {-1, -1});
  const int64_t batch = c_prev.dim(0), hidden = c_prev.dim(1);
  check::floating(op, "c_prev", c_prev);
  check::shape(op, "gates", gates, {batch, 4 * hidden});
  check::shape(op, "c", c, {batch, hidden});
  check::shape(op, "dh", dh, {batch, hidden});
  check::shape(op, "dgates", dgates, {batch, 4 * hidden});
  check::shape(op, "dc_prev", dc_prev, {batch, hidden});
  for (auto [name, t] : {std::pair<const char*, const Tensor*>{"gates", &gates},
                         {"c", &c},
                         {"dh", &dh},
                         {"dgates", &dgates},
                         {"dc_prev", &dc_prev}})
    check::same_kind(op, "c_prev", c_prev, name, *t);
  optional(op, "mask", mask, "c_prev", c_prev, {batch});
  optional(op, "dc", dc, "c_prev", c_prev, {batch, hidden});
  optional(op, "dh_carry", dh_carry, "c_prev", c_prev, {batch, hidden});
  optional(op, "dbias", dbias, "c_prev", c_prev, {4 * hidden});
  S2S_CHECK(dh_carry.defined() || !mask.defined(), op,
            ": dh_carry is undefined, but a mask is given (padded rows carry dh through it)");
  if (c_prev.device().is_cuda())
    return cuda::lstm_cell_bwd(gates, c_prev, c, mask, dh, dc, dgates, dc_prev, dh_carry, dbias);
  dispatch_floating(c_prev.dtype(), [&]<typename T>() {
    cpu::lstm_cell_bwd<T>(batch, hidden, gates.data<T>(), c_prev.data<T>(), c.data<T>(),
                          optional_data<T>(mask), dh.data<T>(), optional_data<T>(dc),
                          dgates.data<T>(), dc_prev.data<T>(),
                          dh_carry.defined() ? dh_carry.data<T>() : nullptr,
                          dbias.defined() ? dbias.data<T>() : nullptr);
  });
}

void lstm_output_fwd(const Tensor& h, const Tensor& mask, Tensor& out, int64_t column) {
  constexpr const char* op = "lstm_output_fwd";
  check::shape(op, "h", h, {-1, -1, -1});
  check::floating(op, "h", h);
  const int64_t steps = h.dim(0), batch = h.dim(1), hidden = h.dim(2);
  check::shape(op, "out", out, {steps, batch, -1});
  check::same_kind(op, "h", h, "out", out);
  optional(op, "mask", mask, "h", h, {steps, batch});
  S2S_CHECK_SHAPE(column >= 0 && column + hidden <= out.dim(2), op, ": columns [", column, ", ",
                  column + hidden, ") do not fit out ", out.str());
  if (h.device().is_cuda()) return cuda::lstm_output_fwd(h, mask, out, column);
  dispatch_floating(h.dtype(), [&]<typename T>() {
    cpu::lstm_output_fwd<T>(steps * batch, hidden, h.data<T>(), optional_data<T>(mask),
                            out.data<T>(), out.dim(2), column);
  });
}

void lstm_output_bwd(const Tensor& d_out, const Tensor& mask, int64_t column, Tensor& dh) {
  constexpr const char* op = "lstm_output_bwd";
  check::shape(op, "dh", dh, {-1, -1, -1});
  check::floating(op, "dh", dh);
  const int64_t steps = dh.dim(0), batch = dh.dim(1), hidden = dh.dim(2);
  check::shape(op, "d_out", d_out, {steps, batch, -1});
  check::same_kind(op, "dh", dh, "d_out", d_out);
  optional(op, "mask", mask, "dh", dh, {steps, batch});
  S2S_CHECK_SHAPE(column >= 0 && column + hidden <= d_out.dim(2), op, ": columns [", column, ", ",
                  column + hidden, ") do not fit d_out ", d_out.str());
  if (dh.device().is_cuda()) return cuda::lstm_output_bwd(d_out, mask, column, dh);
  dispatch_floating(dh.dtype(), [&]<typename T>() {
    cpu::lstm_output_bwd<T>(steps * batch, hidden, d_out.data<T>(), d_out.dim(2), column,
                            optional_data<T>(mask), dh.data<T>());
  });
}

}  // namespace s2s::ops
