// CPU attention: per batch column, one pass over its real memory positions. Every inner loop
// runs over a contiguous feature row of D or Dv elements (an Eigen array expression, vectorised,
// tanh included); masked positions are skipped outright rather than multiplied by zero, so
// padding costs nothing and garbage (even NaN) in padded rows cannot leak into results.
#include "seq2seq/cpu/attention_cpu.h"

#include "seq2seq/cpu/eigen_maps.h"
#include "seq2seq/parallel_for.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace s2s::cpu {
template <typename T>
int64_t first_empty_column(const T* mask, int64_t s, int64_t b) {
  for (int64_t j = 0; j < b; ++j) {
    bool any = false;
    for (int64_t i = 0; i < s && !any; ++i)
      any = mask[i * b + j] != T(0);
    if (!any) return j;
  }
  return -1;
}

template <typename T>
void attention_fwd(bool additive, const T* keys, const T* query, const T* v, const T* values,
                   const T* mask, int64_t s, int64_t b, int64_t d, int64_t dv, T* weights,
                   T* context) {
  // Columns are independent: slices of them on the math threads (each slice ~32k values read).
  const int64_t per_column = std::max<int64_t>(1, s * (d + dv));
  parallel_for(b, std::max<int64_t>(1, 32768 / per_column), [&](int64_t first, int64_t last) {
    for (int64_t j = first; j < last; ++j) {
      const ConstVec<T> q(query + j * d, d);
      T* w = weights + j * s;
      T max_score = -std::numeric_limits<T>::infinity();
      for (int64_t i = 0; i < s; ++i) {
        if (mask[i * b + j] == T(0)) continue;
        const ConstVec<T> k(keys + (i * b + j) * d, d);
        w[i] = additive ? (ConstVec<T>(v, d) * (k + q).tanh()).sum() : (k * q).sum();
        max_score = std::max(max_score, w[i]);
      }
      // Shifting by the maximum keeps exp() in range; the sum is >= 1 (the maximum's term).
      T sum = 0;
      for (int64_t i = 0; i < s; ++i) {
        w[i] = mask[i * b + j] == T(0) ? T(0) : std::exp(w[i] - max_score);
        sum += w[i];
      }
      Vec<T> c(context + j * dv, dv);
      c.setZero();
      const T inv_sum = T(1) / sum;
      for (int64_t i = 0; i < s; ++i) {
        if (mask[i * b + j] == T(0)) continue;
        w[i] *= inv_sum;
        c += w[i] * ConstVec<T>(values + (i * b + j) * dv, dv);
      }
    }
  });
}

template <typename T>
void attention_bwd(bool additive, const T* keys, const T* query, const T* v, const T* values,
                   const T* mask, const T* weights, const T* dcontext, const T* dweights, int64_t s,
                   int64_t b, int64_t d, int64_t dv, T* dkeys, T* dquery, T* dv_param, T* dvalues) {
  std::vector<T> dw(s);
  Eigen::Array<T, Eigen::Dynamic, 1> t(additive ? d : 0), dpre(additive ? d : 0);
  for (int64_t j = 0; j < b; ++j) {
    const T* w = weights + j * s;
    const ConstVec<T> dc(dcontext + j * dv, dv);
    // Softmax backward: dscore = w * (dw - <w, dw>), with dw the gradient reaching the weights.
    T w_dot_dw = 0;
    for (int64_t i = 0; i < s; ++i) {
      if (mask[i * b + j] == T(0)) continue;
      const int64_t row = i * b + j;
      dw[i] =
          (dc * ConstVec<T>(values + row * dv, dv)).sum() + (dweights ? dweights[j * s + i] : T(0));
      w_dot_dw += w[i] * dw[i];
      Vec<T>(dvalues + row * dv, dv) += w[i] * dc;
    }
    const ConstVec<T> q(query + j * d, d);
    Vec<T> dq(dquery + j * d, d);
    for (int64_t i = 0; i < s; ++i) {
      if (mask[i * b + j] == T(0)) continue;
      const int64_t row = i * b + j;
      const T ds = w[i] * (dw[i] - w_dot_dw);
      const ConstVec<T> k(keys + row * d, d);
      Vec<T> dk(dkeys + row * d, d);
      if (additive) {
        t = (k + q).tanh();
        Vec<T>(dv_param, d) += ds * t;
        dpre = ds * ConstVec<T>(v, d) * (T(1) - t.square());
        dk += dpre;
        dq += dpre;
      } else {
        dq += ds * k;
        dk += ds * q;
      }
    }
  }
}

#define S2S_INSTANTIATE(T)                                                                         \
  template int64_t first_empty_column<T>(const T*, int64_t, int64_t);                              \
  template void attention_fwd<T>(bool, const T*, const T*, const T*, const T*, const T*, int64_t,  \
                                 int64_t, int64_t, int64_t, T*, T*);                               \
  template void attention_bwd<T>(bool, const T*, const T*, const T*, const T*, const T*, const T*, \
                                 const T*, const T*, int64_t, int64_t, int64_t, int64_t, T*, T*,   \
                                 T*, T*);
S2S_INSTANTIATE(float)
S2S_INSTANTIATE(double)
#undef S2S_INSTANTIATE

}  // namespace s2s::cpu
