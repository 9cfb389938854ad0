// CPU bodies of ops/conv2d.h over raw NCHW buffers.
#pragma once

#include <cstdint>

namespace s2s::cpu {

// The sizes of one convolution: x [n, c, h, w], weight [o, c, kh, kw], y [n, o, oh, ow].
struct ConvShape {
  int64_t n, c, h, w;
  int64_t o, kh, kw;
  int64_t stride, padding;
  int64_t oh, ow;
};

// bias may be null.
template <typename T>
void conv2d_fwd(const T* x, const T* weight, const T* bias, T* y, const ConvShape& s);
// dx and dbias may be null; dweight and dbias accumulate, dx is overwritten.
template <typename T>
void conv2d_bwd(const T* x, const T* weight, const T* dy, T* dx, T* dweight, T* dbias,
                const ConvShape& s);

}  // namespace s2s::cpu
