// grad_norm: validates each tensor, then sums per tensor on its device's body.
#include "seq2seq/ops/grad_norm.h"

#include <cmath>
#include <string>

#include "seq2seq/cpu/elementwise_cpu.h"
#include "seq2seq/cpu/grad_norm_cpu.h"
#include "seq2seq/cuda_backend.h"
#include "seq2seq/ops/check.h"

namespace s2s::ops {
namespace {
void check_tensor(const char* op, size_t i, const Tensor& t) {
  const std::string name = "tensors[" + std::to_string(i) + "]";
  check::floating(op, name.c_str(), t);
}
}  // namespace

double global_norm(const std::vector<Tensor>& tensors) {
  double sum = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    if (!t.defined()) continue;
    check_tensor("global_norm", i, t);
    if (t.device().is_cuda()) {
      sum += cuda::sum_squares(t);
      continue;
    }
    dispatch_floating(t.dtype(),
                      [&]<typename T>() { sum += cpu::sum_squares<T>(t.data<T>(), t.numel()); });
  }
  return std::sqrt(sum);
}

double clip_grad_norm(const std::vector<Tensor>& tensors, double max_norm) {
  S2S_CHECK(max_norm > 0 && std::isfinite(max_norm),
            "clip_grad_norm: max_norm must be positive and finite, got ", max_norm);
  for (size_t i = 0; i < tensors.size(); ++i)
    if (tensors[i].defined()) check_tensor("clip_grad_norm", i, tensors[i]);
  const double norm = global_norm(tensors);
  if (!std::isfinite(norm) || norm <= max_norm) return norm;
  const double factor = max_norm / norm;
  for (const Tensor& t : tensors) {
    if (!t.defined()) continue;
    if (t.device().is_cuda()) {
      Tensor view = t;  // shares storage: scaling the view scales the gradient
      cuda::scale(view, factor);
      continue;
    }
    dispatch_floating(t.dtype(), [&]<typename T>() {
      cpu::scale<T>(t.numel(), static_cast<T>(factor), t.data<T>());
    });
  }
  return norm;
}

}  // namespace s2s::ops
