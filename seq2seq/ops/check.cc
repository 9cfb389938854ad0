// Shared argument checks of the ops.
#include "seq2seq/ops/check.h"

namespace s2s::ops::check {

void shape(const char* op, const char* name, const Tensor& t, std::initializer_list<int64_t> dims) {
  S2S_CHECK_SHAPE(t.defined(), op, ": ", name, " is undefined");
  bool ok = t.rank() == static_cast<int>(dims.size());
  int i = 0;
  for (int64_t d : dims) {
    if (ok && d >= 0 && t.dim(i) != d) ok = false;
    ++i;
  }
  if (!ok) {
    std::string want = "[";
    i = 0;
    for (int64_t d : dims)
      want += (i++ ? ", " : "") + (d >= 0 ? std::to_string(d) : std::string("*"));
    throw ShapeError(std::string(op) + ": " + name + " has shape " + t.shape().str() +
                     ", expected " + want + "]");
  }
}

void floating(const char* op, const char* name, const Tensor& t) {
  S2S_CHECK(t.dtype() == DType::f32 || t.dtype() == DType::f64, op, ": ", name, " is ", t.str(),
            ", expected f32 or f64");
}

void dtype(const char* op, const char* name, const Tensor& t, DType expected) {
  S2S_CHECK(t.dtype() == expected, op, ": ", name, " is ", t.str(), ", expected ",
            dtype_name(expected));
}

void same_device(const char* op, const char* a_name, const Tensor& a, const char* b_name,
                 const Tensor& b) {
  S2S_CHECK(a.device() == b.device(), op, ": ", b_name, " (", b.str(), ") is not on the device of ",
            a_name, " (", a.str(), ")");
}

void same_kind(const char* op, const char* a_name, const Tensor& a, const char* b_name,
               const Tensor& b) {
  same_device(op, a_name, a, b_name, b);
  S2S_CHECK(a.dtype() == b.dtype(), op, ": ", b_name, " (", b.str(),
            ") does not have the dtype of ", a_name, " (", a.str(), ")");
}

}  // namespace s2s::ops::check

namespace s2s::ops::check {
void cpu_only(const char* op, const Tensor& t) {
  if (t.device().is_cuda())
    throw BackendUnavailable(std::string(op) + " has no CUDA body yet (" + t.str() +
                             "); run it on the CPU");
}
}  // namespace s2s::ops::check
