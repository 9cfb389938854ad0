// Argument checks shared by the ops' validating front ends. Each throws ShapeError or
// InvalidArgument naming the op and the argument at fault.
#pragma once

#include <string>

#include "seq2seq/tensor.h"

namespace s2s::ops::check {

// t is defined, has the given rank, and (where a dim is >= 0) those dimensions.
void shape(const char* op, const char* name, const Tensor& t, std::initializer_list<int64_t> dims);
// t is f32 or f64.
void floating(const char* op, const char* name, const Tensor& t);
// b has a's dtype and device.
void same_kind(const char* op, const char* a_name, const Tensor& a, const char* b_name,
               const Tensor& b);
void dtype(const char* op, const char* name, const Tensor& t, DType expected);
void same_device(const char* op, const char* a_name, const Tensor& a, const char* b_name,
                 const Tensor& b);

}  // namespace s2s::ops::check

namespace s2s::ops::check {
// The op has no CUDA body yet: a CUDA tensor gets a BackendUnavailable naming the op.
void cpu_only(const char* op, const Tensor& t);
}  // namespace s2s::ops::check

namespace s2s::ops {
// Runs body.template operator()<T>() with T = float or double by dtype, so an op's front end
// writes its CPU call once: dispatch_floating(x.dtype(), [&]<typename T>() { cpu::f<T>(...); });
template <typename Body>
void dispatch_floating(DType dtype, Body&& body) {
  if (dtype == DType::f32)
    body.template operator()<float>();
  else if (dtype == DType::f64)
    body.template operator()<double>();
  else
    throw InvalidArgument(std::string("expected a floating dtype, got ") + dtype_name(dtype));
}
}  // namespace s2s::ops
