// CPU sum of squares, accumulated in double so that float rounding over millions of terms does
// not corrupt the norm. For float, blocks of 256 are squared and summed vectorised in float (Eigen
// cannot vectorise a float-to-double cast) and the block sums added in double; a block whose
// float sum overflows (|x| beyond ~1e18) is redone in double, so only a real inf or NaN gives a
// non-finite norm.
#include "seq2seq/cpu/grad_norm_cpu.h"

#include "seq2seq/cpu/eigen_maps.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

namespace s2s::cpu {

template <typename T>
double sum_squares(const T* x, int64_t n) {
  if constexpr (std::is_same_v<T, double>) {
    return ConstVec<T>(x, n).square().sum();
  } else {
    constexpr int64_t kBlock = 256;
    double total = 0;
    for (int64_t i = 0; i < n; i += kBlock) {
      const ConstVec<T> block(x + i, std::min(kBlock, n - i));
      const double s = block.square().sum();
      total += std::isinf(s) ? block.template cast<double>().square().sum() : s;
    }
    return total;
  }
}

template double sum_squares<float>(const float*, int64_t);
template double sum_squares<double>(const double*, int64_t);

}  // namespace s2s::cpu
