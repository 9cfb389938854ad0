// CPU elementwise bodies: Eigen array expressions, which vectorise (tanh included) for f32/f64.
#include "seq2seq/cpu/elementwise_cpu.h"

#include "seq2seq/cpu/eigen_maps.h"

namespace s2s::cpu {
namespace {
template <typename T>
using Rows = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;
template <typename T>
using ConstRows =
    Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;
}  // namespace

template <typename T>
void add_bias(T* x, const T* bias, int64_t rows, int64_t d) {
  Rows<T> m(x, rows, d);
  m.rowwise() += ConstVec<T>(bias, d).transpose();
}

template <typename T>
void bias_grad(const T* dy, T* dbias, int64_t rows, int64_t d, bool accumulate) {
  Vec<T> out(dbias, d);
  if (!accumulate) out.setZero();
  out += ConstRows<T>(dy, rows, d).colwise().sum().transpose();
}

template <typename T>
void axpy(int64_t n, T alpha, const T* x, T* y) {
  Vec<T>(y, n) += alpha * ConstVec<T>(x, n);
}

template <typename T>
void scale(int64_t n, T alpha, T* x) {
  Vec<T>(x, n) *= alpha;
}

template <typename T>
void tanh_fwd(int64_t n, const T* x, T* y) {
  Vec<T>(y, n) = ConstVec<T>(x, n).tanh();
}

template <typename T>
void tanh_bwd(int64_t n, const T* y, const T* dy, T* dx, bool accumulate) {
  const ConstVec<T> yv(y, n);
  if (accumulate)
    Vec<T>(dx, n) += ConstVec<T>(dy, n) * (T(1) - yv.square());
  else
    Vec<T>(dx, n) = ConstVec<T>(dy, n) * (T(1) - yv.square());
}

#define S2S_INSTANTIATE(T)                                          \
  template void add_bias<T>(T*, const T*, int64_t, int64_t);        \
  template void bias_grad<T>(const T*, T*, int64_t, int64_t, bool); \
  template void axpy<T>(int64_t, T, const T*, T*);                  \
  template void scale<T>(int64_t, T, T*);                           \
  template void tanh_fwd<T>(int64_t, const T*, T*);                 \
  template void tanh_bwd<T>(int64_t, const T*, const T*, T*, bool);
S2S_INSTANTIATE(float)
S2S_INSTANTIATE(double)
#undef S2S_INSTANTIATE

}  // namespace s2s::cpu
