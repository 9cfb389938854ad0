// log_softmax_xent: validates shapes, options and every target (so the body never meets a bad
// index), then dispatches on dtype.
#include "seq2seq/ops/log_softmax_xent.h"

#include <cmath>

#include "seq2seq/cpu/log_softmax_xent_cpu.h"
#include "seq2seq/cuda_backend.h"
#include "seq2seq/ops/check.h"
#include "seq2seq/profiler.h"

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

  const int64_t n = logits.dim(0), v = logits.dim(1);
  const auto bad_target = [&](int64_t i, int32_t target) {
    return InvalidArgument(std::string(op) + ": targets[" + std::to_string(i) +
                           "] = " + std::to_string(target) + " is outside the vocabulary [0, " +
                           std::to_string(v) + ") and is not pad_id " +
                           std::to_string(options.pad_id));
  };
  if (logits.device().is_cuda()) {
    // Checked on the GPU (one kernel, one word copied back) before the logits are touched.
    const int64_t bad = cuda::first_invalid_id(targets, v, options.pad_id);
    if (bad >= 0) throw bad_target(bad, targets.slice(bad, bad + 1).to_vector<int32_t>()[0]);
    Tensor view = logits;  // shares storage; written only when gradient is asked for
    return cuda::log_softmax_xent(view, targets, options, gradient, target_log_probs);
  }
  const int32_t* t = targets.data<int32_t>();
  for (int64_t i = 0; i < n; ++i)
    if (t[i] != options.pad_id && (t[i] < 0 || t[i] >= v)) throw bad_target(i, t[i]);

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
  const profile::Scope scope("log_softmax");
  check::shape(op, "x", x, {-1, -1});
  check::floating(op, "x", x);
  check::same_kind(op, "x", x, "y", y);
  S2S_CHECK_SHAPE(x.shape() == y.shape(), op, ": x ", x.str(), " and y ", y.str(), " differ");
  if (x.device().is_cuda()) return cuda::log_softmax(x, y);
  dispatch_floating(x.dtype(), [&]<typename T>() {
    cpu::log_softmax<T>(x.data<T>(), y.data<T>(), x.dim(0), x.dim(1));
  });
}

}  // namespace s2s::ops
