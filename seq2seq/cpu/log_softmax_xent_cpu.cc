// CPU log-softmax cross-entropy: one row at a time, so a row of V logits stays in cache between
// its passes (max, sum of exp, gradient); rows in parallel slices (parallel_for). exp runs
// vectorised in the logits' precision; row sums are accumulated in double (blocked_sum), because a
// 32k-term float sum loses digits perplexity needs.
#include "seq2seq/cpu/log_softmax_xent_cpu.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "seq2seq/parallel_for.h"

namespace s2s::cpu {
namespace {
template <typename T>
using Row = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
template <typename T>
using ConstRow = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;

// The sum of a vector expression in double. For float, Eigen cannot vectorise a float-to-double
// cast (it made exp-and-sum 10x slower, measured with -march=native), so blocks of 256 are summed
// vectorised in float (error ~1e-7 relative each) and the block sums in double.
constexpr Eigen::Index kSumBlock = 256;
template <typename Expr>
double blocked_sum(const Expr& e) {
  if constexpr (std::is_same_v<typename Expr::Scalar, double>) {
    return e.sum();
  } else {
    const Eigen::Index n = e.size();
    double total = 0;
    for (Eigen::Index i = 0; i < n; i += kSumBlock)
      total += static_cast<double>(e.segment(i, std::min(kSumBlock, n - i)).sum());
    return total;
  }
}

// Rows per parallel slice: about 32k values each, so waking a thread pays for itself.
int64_t min_rows(int64_t v) {
  return std::max<int64_t>(1, 32768 / std::max<int64_t>(1, v));
}

}  // namespace

template <typename T>
ops::XentSums log_softmax_xent(T* logits, const int32_t* targets, int64_t n, int64_t v,
                               const ops::XentOptions& options, bool gradient,
                               T* target_log_probs) {
  const double eps = options.label_smoothing;
  const double scale = options.grad_scale;
  // Per row, then summed in row order: the same sums with any thread count.
  std::vector<double> row_nll(static_cast<size_t>(n), 0.0), row_loss(static_cast<size_t>(n), 0.0);
  std::vector<char> counted(static_cast<size_t>(n), 0);
  parallel_for(n, min_rows(v), [&](int64_t first, int64_t last) {
    for (int64_t i = first; i < last; ++i) {
      Row<T> x(logits + i * v, v);
      const int32_t target = targets[i];
      if (target == options.pad_id) {
        if (gradient) x.setZero();
        if (target_log_probs) target_log_probs[i] = T(0);
        continue;
      }
      const T max = x.maxCoeff();
      // Everything below is relative to max, so large logits lose no precision to the shift.
      const double shifted_target = static_cast<double>(x[target]) - max;
      const double shifted_mean = eps > 0 ? blocked_sum(x) / static_cast<double>(v) - max : 0.0;
      double sum_exp;
      if (gradient) {
        x = (x - max).exp();
        sum_exp = blocked_sum(x);
      } else {
        sum_exp = blocked_sum((x - max).exp());
      }
      const double log_sum = std::log(sum_exp);
      const double nll = log_sum - shifted_target;
      row_nll[static_cast<size_t>(i)] = nll;
      row_loss[static_cast<size_t>(i)] = (1 - eps) * nll + eps * (log_sum - shifted_mean);
      counted[static_cast<size_t>(i)] = 1;
      if (target_log_probs) target_log_probs[i] = static_cast<T>(-nll);
      if (gradient) {
        // d loss_row / d x_v = p_v - eps / V - (1 - eps) [v == target]
        x = x * static_cast<T>(scale / sum_exp) -
            static_cast<T>(scale * eps / static_cast<double>(v));
        x[target] -= static_cast<T>(scale * (1 - eps));
      }
    }
  });
  ops::XentSums sums;
  for (int64_t i = 0; i < n; ++i) {
    if (!counted[static_cast<size_t>(i)]) continue;
    sums.nll += row_nll[static_cast<size_t>(i)];
    sums.loss += row_loss[static_cast<size_t>(i)];
    ++sums.tokens;
  }
  return sums;
}

template <typename T>
void log_softmax(const T* x, T* y, int64_t n, int64_t v) {
  if (v == 0) return;
  parallel_for(n, min_rows(v), [&](int64_t first, int64_t last) {
    for (int64_t i = first; i < last; ++i) {
      const ConstRow<T> in(x + i * v, v);
      const T max = in.maxCoeff();
      const double sum_exp = blocked_sum((in - max).exp());
      Row<T>(y + i * v, v) = (in - max) - static_cast<T>(std::log(sum_exp));
    }
  });
}

#define S2S_INSTANTIATE(T)                                                         \
  template ops::XentSums log_softmax_xent<T>(T*, const int32_t*, int64_t, int64_t, \
                                             const ops::XentOptions&, bool, T*);   \
  template void log_softmax<T>(const T*, T*, int64_t, int64_t);
S2S_INSTANTIATE(float)
S2S_INSTANTIATE(double)
#undef S2S_INSTANTIATE

}  // namespace s2s::cpu
