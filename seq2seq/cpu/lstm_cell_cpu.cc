// CPU LSTM cell: Eigen array expressions over one batch row at a time. Each row's four gate
// segments (4H values) stay in L1 across the few expressions below, and Eigen vectorises every
// one of them, tanh and logistic included (rational approximations for float, a few ulp).
#include "seq2seq/cpu/lstm_cell_cpu.h"

#include "seq2seq/cpu/eigen_maps.h"
#include "seq2seq/parallel_for.h"

#include <algorithm>

namespace s2s::cpu {
template <typename T>
void lstm_cell_fwd(int64_t batch, int64_t hidden, T* gates, const T* bias, const T* c_prev,
                   const T* h_prev, const T* mask, T* c, T* h) {
  const int64_t n = hidden;
  // Rows are independent: slices of them on the math threads (each slice ~32k gate values).
  parallel_for(batch, std::max<int64_t>(1, 8192 / std::max<int64_t>(1, n)),
               [&](int64_t first, int64_t last) {
                 for (int64_t b = first; b < last; ++b) {
                   const int64_t row = b * n;
                   if (mask && mask[b] == T(0)) {
                     std::copy_n(c_prev + row, n, c + row);
                     std::copy_n(h_prev + row, n, h + row);
                     continue;
                   }
                   T* a = gates + b * 4 * n;
                   Vec<T> i(a, n), f(a + n, n), g(a + 2 * n, n), o(a + 3 * n, n);
                   if (bias) {
                     i = (i + ConstVec<T>(bias, n)).logistic();
                     f = (f + ConstVec<T>(bias + n, n)).logistic();
                     g = (g + ConstVec<T>(bias + 2 * n, n)).tanh();
                     o = (o + ConstVec<T>(bias + 3 * n, n)).logistic();
                   } else {
                     i = i.logistic();
                     f = f.logistic();
                     g = g.tanh();
                     o = o.logistic();
                   }
                   Vec<T> c_new(c + row, n);
                   c_new = f * ConstVec<T>(c_prev + row, n) + i * g;
                   Vec<T>(h + row, n) = o * c_new.tanh();
                 }
               });
}

template <typename T>
void lstm_cell_bwd(int64_t batch, int64_t hidden, const T* gates, const T* c_prev, const T* c,
                   const T* mask, const T* dh, const T* dc, T* dgates, T* dc_prev, T* dh_carry,
                   T* dbias) {
  const int64_t n = hidden;
  // Two row-sized scratch vectors: tanh(c), then reused for dg; and the total gradient into c.
  Eigen::Array<T, Eigen::Dynamic, 1> scratch(n), dc_total(n);
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t row = b * n;
    T* da = dgates + b * 4 * n;
    if (mask && mask[b] == T(0)) {
      std::fill_n(da, 4 * n, T(0));
      if (dc_prev != dc) {
        if (dc)
          std::copy_n(dc + row, n, dc_prev + row);
        else
          std::fill_n(dc_prev + row, n, T(0));
      }
      if (dh_carry && dh_carry != dh) std::copy_n(dh + row, n, dh_carry + row);
      continue;
    }
    // dgates may be gates: every statement below reads a gate slot no later than it writes the
    // same element, and the one slot still needed after its gradient is ready (g) goes last.
    const T* a = gates + b * 4 * n;
    const ConstVec<T> i(a, n), f(a + n, n), g(a + 2 * n, n), o(a + 3 * n, n);
    const ConstVec<T> dh_row(dh + row, n);
    scratch = ConstVec<T>(c + row, n).tanh();
    if (dc)
      dc_total = ConstVec<T>(dc + row, n) + dh_row * o * (T(1) - scratch.square());
    else
      dc_total = dh_row * o * (T(1) - scratch.square());
    Vec<T>(da + 3 * n, n) = dh_row * scratch * o * (T(1) - o);
    Vec<T>(dc_prev + row, n) = dc_total * f;
    Vec<T>(da + n, n) = dc_total * ConstVec<T>(c_prev + row, n) * f * (T(1) - f);
    scratch = dc_total * i * (T(1) - g.square());
    Vec<T>(da, n) = dc_total * g * i * (T(1) - i);
    Vec<T>(da + 2 * n, n) = scratch;
    if (dh_carry) std::fill_n(dh_carry + row, n, T(0));
    if (dbias) Vec<T>(dbias, 4 * n) += Vec<T>(da, 4 * n);
  }
}

template <typename T>
void lstm_output_fwd(int64_t rows, int64_t hidden, const T* h, const T* mask, T* out, int64_t width,
                     int64_t column) {
  for (int64_t r = 0; r < rows; ++r) {
    T* dst = out + r * width + column;
    if (mask && mask[r] == T(0))
      std::fill_n(dst, hidden, T(0));
    else
      std::copy_n(h + r * hidden, hidden, dst);
  }
}

template <typename T>
void lstm_output_bwd(int64_t rows, int64_t hidden, const T* d_out, int64_t width, int64_t column,
                     const T* mask, T* dh) {
  for (int64_t r = 0; r < rows; ++r) {
    T* dst = dh + r * hidden;
    if (mask && mask[r] == T(0))
      std::fill_n(dst, hidden, T(0));
    else
      std::copy_n(d_out + r * width + column, hidden, dst);
  }
}

#define S2S_INSTANTIATE(T)                                                                         \
  template void lstm_cell_fwd<T>(int64_t, int64_t, T*, const T*, const T*, const T*, const T*, T*, \
                                 T*);                                                              \
  template void lstm_cell_bwd<T>(int64_t, int64_t, const T*, const T*, const T*, const T*,         \
                                 const T*, const T*, T*, T*, T*, T*);                              \
  template void lstm_output_fwd<T>(int64_t, int64_t, const T*, const T*, T*, int64_t, int64_t);    \
  template void lstm_output_bwd<T>(int64_t, int64_t, const T*, int64_t, int64_t, const T*, T*);
S2S_INSTANTIATE(float)
S2S_INSTANTIATE(double)
#undef S2S_INSTANTIATE

}  // namespace s2s::cpu
