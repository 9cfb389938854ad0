// Eigen views over raw buffers, shared by the CPU op bodies (included by seq2seq/cpu/*.cc only:
// Eigen stays out of every header the rest of s2s includes).
#pragma once

#include <Eigen/Core>

namespace s2s::cpu {

// A contiguous run of n elements as a 1-D array expression (vectorised arithmetic, tanh, ...).
template <typename T>
using Vec = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
template <typename T>
using ConstVec = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;

}  // namespace s2s::cpu
