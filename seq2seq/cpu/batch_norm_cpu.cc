// CPU batch normalization: per channel, one pass for the statistics (sums in double, so f32
// batches of many pixels keep their precision) and one for the output; backward likewise.
#include "seq2seq/cpu/batch_norm_cpu.h"

#include <cmath>

#include "seq2seq/cpu/eigen_maps.h"

namespace s2s::cpu {

template <typename T>
void batch_norm_fwd(const T* x, const T* gamma, const T* beta, T* running_mean, T* running_var,
                    bool training, double eps, double momentum, int64_t n, int64_t c, int64_t plane,
                    T* y, T* save_mean, T* save_inv_std) {
  const double m = static_cast<double>(n * plane);
  for (int64_t ch = 0; ch < c; ++ch) {
    double mean, var;
    if (training) {
      double sum = 0, sum_sq = 0;
      for (int64_t i = 0; i < n; ++i) {
        const ConstVec<T> xs(x + (i * c + ch) * plane, plane);
        sum += static_cast<double>(xs.sum());
      }
      mean = sum / m;
      // Two passes (mean first, then squared deviations) avoid E[x^2] - E[x]^2's cancellation.
      for (int64_t i = 0; i < n; ++i) {
        const ConstVec<T> xs(x + (i * c + ch) * plane, plane);
        sum_sq += static_cast<double>((xs - static_cast<T>(mean)).square().sum());
      }
      var = sum_sq / m;
      // A batch with inf/NaN activations (whose update the trainer skips) must not poison the
      // running statistics for good.
      if (std::isfinite(mean) && std::isfinite(var)) {
        running_mean[ch] = static_cast<T>((1 - momentum) * running_mean[ch] + momentum * mean);
        running_var[ch] =
            static_cast<T>((1 - momentum) * running_var[ch] + momentum * var * m / (m - 1));
      }
    } else {
      mean = running_mean[ch];
      var = running_var[ch];
    }
    const double inv_std = 1.0 / std::sqrt(var + eps);
    save_mean[ch] = static_cast<T>(mean);
    save_inv_std[ch] = static_cast<T>(inv_std);
    // y = x * scale + shift
    const T scale = static_cast<T>(gamma[ch] * inv_std);
    const T shift = static_cast<T>(beta[ch] - mean * gamma[ch] * inv_std);
    for (int64_t i = 0; i < n; ++i) {
      const int64_t at = (i * c + ch) * plane;
      Vec<T>(y + at, plane) = ConstVec<T>(x + at, plane) * scale + shift;
    }
  }
}

template <typename T>
void batch_norm_bwd(const T* x, const T* dy, const T* gamma, const T* save_mean,
                    const T* save_inv_std, bool batch_stats, int64_t n, int64_t c, int64_t plane,
                    T* dx, T* dgamma, T* dbeta) {
  const double m = static_cast<double>(n * plane);
  for (int64_t ch = 0; ch < c; ++ch) {
    const T mean = save_mean[ch], inv_std = save_inv_std[ch];
    // sum(dy) and sum(dy * x_hat), x_hat = (x - mean) * inv_std.
    double sum_dy = 0, sum_dy_xhat = 0;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t at = (i * c + ch) * plane;
      const ConstVec<T> xs(x + at, plane), g(dy + at, plane);
      sum_dy += static_cast<double>(g.sum());
      sum_dy_xhat += static_cast<double>((g * (xs - mean)).sum()) * inv_std;
    }
    dbeta[ch] += static_cast<T>(sum_dy);
    dgamma[ch] += static_cast<T>(sum_dy_xhat);
    const T k = gamma[ch] * inv_std;
    if (!batch_stats) {
      for (int64_t i = 0; i < n; ++i) {
        const int64_t at = (i * c + ch) * plane;
        Vec<T>(dx + at, plane) = ConstVec<T>(dy + at, plane) * k;
      }
      continue;
    }
    // dx = gamma * inv_std * (dy - mean(dy) - x_hat * mean(dy * x_hat))
    const T mean_dy = static_cast<T>(sum_dy / m), mean_dy_xhat = static_cast<T>(sum_dy_xhat / m);
    for (int64_t i = 0; i < n; ++i) {
      const int64_t at = (i * c + ch) * plane;
      const ConstVec<T> xs(x + at, plane);
      Vec<T>(dx + at, plane) =
          k * (ConstVec<T>(dy + at, plane) - mean_dy - (xs - mean) * (inv_std * mean_dy_xhat));
    }
  }
}

template void batch_norm_fwd<float>(const float*, const float*, const float*, float*, float*, bool,
                                    double, double, int64_t, int64_t, int64_t, float*, float*,
                                    float*);
template void batch_norm_fwd<double>(const double*, const double*, const double*, double*, double*,
                                     bool, double, double, int64_t, int64_t, int64_t, double*,
                                     double*, double*);
template void batch_norm_bwd<float>(const float*, const float*, const float*, const float*,
                                    const float*, bool, int64_t, int64_t, int64_t, float*, float*,
                                    float*);
template void batch_norm_bwd<double>(const double*, const double*, const double*, const double*,
                                     const double*, bool, int64_t, int64_t, int64_t, double*,
                                     double*, double*);

}  // namespace s2s::cpu
