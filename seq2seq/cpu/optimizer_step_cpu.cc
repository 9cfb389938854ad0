// CPU optimizer updates: Eigen array expressions over blocks of kBlock elements, so the several
// passes of one update (decay, m, v, param) reuse a block from L1 instead of streaming every
// tensor from memory four times.
#include "seq2seq/cpu/optimizer_step_cpu.h"

#include "seq2seq/cpu/eigen_maps.h"
#include "seq2seq/parallel_for.h"

#include <algorithm>
#include <cmath>

namespace s2s::cpu {
namespace {
// 2048 elements x 4 arrays x 8 bytes = 64 KiB at most: within L1/L2 on the CPUs we run on.
constexpr int64_t kBlock = 2048;
}  // namespace

template <typename T>
void adam_step(int64_t n, T* param, const T* grad, T* m, T* v, const ops::AdamArgs& args) {
  const double t = static_cast<double>(args.step);
  const T decay = static_cast<T>(1 - args.lr * args.weight_decay);
  const T b1 = static_cast<T>(args.beta1), b2 = static_cast<T>(args.beta2);
  const T step_size = static_cast<T>(args.lr / (1 - std::pow(args.beta1, t)));
  const T inv_sqrt_bc2 = static_cast<T>(1 / std::sqrt(1 - std::pow(args.beta2, t)));
  const T eps = static_cast<T>(args.eps);
  // Elements are independent: slices of blocks on the math threads (each at least 16 blocks).
  parallel_for((n + kBlock - 1) / kBlock, 16, [&](int64_t first, int64_t last) {
    for (int64_t i = first * kBlock; i < std::min(n, last * kBlock); i += kBlock) {
      const int64_t len = std::min(kBlock, n - i);
      Vec<T> p(param + i, len), mv(m + i, len), vv(v + i, len);
      const ConstVec<T> g(grad + i, len);
      if (args.weight_decay != 0) p *= decay;
      mv = b1 * mv + (T(1) - b1) * g;
      vv = b2 * vv + (T(1) - b2) * g.square();
      p -= step_size * mv / (vv.sqrt() * inv_sqrt_bc2 + eps);
    }
  });
}

template <typename T>
void sgd_step(int64_t n, T* param, const T* grad, T* momentum_buffer, const ops::SgdArgs& args) {
  const T decay = static_cast<T>(1 - args.lr * args.weight_decay);
  const T lr = static_cast<T>(args.lr), momentum = static_cast<T>(args.momentum);
  for (int64_t i = 0; i < n; i += kBlock) {
    const int64_t len = std::min(kBlock, n - i);
    Vec<T> p(param + i, len);
    const ConstVec<T> g(grad + i, len);
    if (args.weight_decay != 0) p *= decay;
    if (momentum_buffer) {
      Vec<T> buf(momentum_buffer + i, len);
      buf = momentum * buf + g;
      p -= lr * buf;
    } else {
      p -= lr * g;
    }
  }
}

#define S2S_INSTANTIATE(T)                                                         \
  template void adam_step<T>(int64_t, T*, const T*, T*, T*, const ops::AdamArgs&); \
  template void sgd_step<T>(int64_t, T*, const T*, T*, const ops::SgdArgs&);
S2S_INSTANTIATE(float)
S2S_INSTANTIATE(double)
#undef S2S_INSTANTIATE

}  // namespace s2s::cpu
