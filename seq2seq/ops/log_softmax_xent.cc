// log_softmax_xent: validates shapes, options and every target (so the body never meets a bad
// index), then dispatches on dtype.
#include "seq2seq/ops/log_softmax_xent.h"

#include <cmath>

#include "seq2seq/cpu/log_softmax_xent_cpu.h"
#include "seq2seq/ops/check.h"

namespace s2s::ops {
namespace {

XentSums xent(const char* op, const Tensor& logits, const Tensor& targets,
              const XentOptions& options, bool gradient, Tensor* target_log_probs) {
  check::shape(op, "logits", logits, {-1, -1});
  check::floating(op, "logits", logits);
  check::shape(op, "targets", targets, {logits.dim(0)});
  check::dtype(op, "targets", targets, DType::i32);
  check::same_device(op, "logits", logits, "targets", targets);
  if (target_log_probs) {
    check::shape(op, "target_log_probs", *target_log_probs, {logits.dim(0)});
    check::same_kind(op, "logits", logits, "target_log_probs", *target_log_probs);
  }
  S2S_CHECK(options.label_smoothing >= 0 && options.label_smoothing < 1, op,
            ": label_smoothing must be in [0, 1), got ", options.label_smoothing);
  S2S_CHECK(std::isfinite(options.grad_scale), op, ": grad_scale must be finite, got ",
            options.grad_scale);
  check::cpu_only(op, logits);

  const int64_t n = logits.dim(0), v = logits.dim(1);
  const int32_t* t = targets.data<int32_t>();
  for (int64_t i = 0; i < n; ++i)
    S2S_CHECK(t[i] == options.pad_id || (t[i] >= 0 && t[i] < v), op, ": targets[", i, "] = ", t[i],
              " is outside the vocabulary [0, ", v, ") and is not pad_id ", options.pad_id);

  XentSums sums;
  dispatch_floating(logits.dtype(), [&]<typename T>() {
    sums = cpu::log_softmax_xent<T>(logits.data<T>(), t, n, v, options, gradient,
                                    target_log_probs ? target_log_probs->data<T>() : nullptr);
  });
  return sums;
}

}  // namespace

XentSums log_softmax_xent(Tensor& logits, const Tensor& targets, const XentOptions& options,
                          Tensor* target_log_probs) {
  return xent("log_softmax_xent", logits, targets, options, true, target_log_probs);
}

XentSums log_softmax_xent_loss(const Tensor& logits, const Tensor& targets,
                               const XentOptions& options, Tensor* target_log_probs) {
  return xent("log_softmax_xent_loss", logits, targets, options, false, target_log_probs);
}

void log_softmax(const Tensor& x, Tensor& y) {
  constexpr const char* op = "log_softmax";
  check::shape(op, "x", x, {-1, -1});
  check::floating(op, "x", x);
  check::same_kind(op, "x", x, "y", y);
  S2S_CHECK_SHAPE(x.shape() == y.shape(), op, ": x ", x.str(), " and y ", y.str(), " differ");
  check::cpu_only(op, x);
  dispatch_floating(x.dtype(), [&]<typename T>() {
    cpu::log_softmax<T>(x.data<T>(), y.data<T>(), x.dim(0), x.dim(1));
  });
}

}  // namespace s2s::ops
