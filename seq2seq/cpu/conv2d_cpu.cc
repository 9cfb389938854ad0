// CPU conv2d: im2col + GEMM. The images of a batch are processed in groups: one group's patches
// are unfolded side by side into a column matrix cols [C*KH*KW, G*OH*OW], so the forward pass is
// one GEMM weight [O, C*KH*KW] · cols per group (wide enough for OpenBLAS to run at full rate even
// on small feature maps), and backward is one GEMM each for dweight and dcols. The group size
// keeps the workspace near kWorkspaceBytes however large the batch; a group of one image (large
// maps) reads and writes dy and y in place, without the copies between layouts.
#include "seq2seq/cpu/conv2d_cpu.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "seq2seq/cpu/eigen_maps.h"
#include "seq2seq/cpu/gemm_cpu.h"

namespace s2s::cpu {
namespace {

// Workspace per call: cols, plus the output (forward) or dy and dcols (backward) of one group.
// 32 MiB holds e.g. 14 images of 32 channels at 32x32 with a 3x3 kernel.
constexpr size_t kWorkspaceBytes = size_t{32} << 20;

// Images per group: as many as fit the workspace, at least one.
template <typename T>
int64_t group_size(const ConvShape& s) {
  const int64_t ckk = s.c * s.kh * s.kw, p = s.oh * s.ow;
  const int64_t per_image = (2 * ckk + s.o) * p * static_cast<int64_t>(sizeof(T));
  return std::clamp<int64_t>(
      static_cast<int64_t>(kWorkspaceBytes) / std::max<int64_t>(per_image, 1), 1,
      std::max<int64_t>(s.n, 1));
}

// The reused per-thread workspace (grown, never shrunk: one conv net's largest layer).
template <typename T>
T* workspace(size_t elements) {
  static thread_local std::vector<T> buffer;
  if (buffer.size() < elements) buffer.resize(elements);
  return buffer.data();
}

// Columns j0..j1 of an output row read the input row; the rest are padding. For stride 1, the
// input column of output column j is j - padding + v.
struct Span {
  int64_t begin, end;
};
Span stride1_span(const ConvShape& s, int64_t v) {
  const int64_t begin = std::clamp<int64_t>(s.padding - v, 0, s.ow);
  const int64_t end = std::clamp<int64_t>(s.w + s.padding - v, begin, s.ow);
  return {begin, end};
}

// cols[(c*KH + u)*KW + v, g*P + i*OW + j] = x[g, c, i*stride - pad + u, j*stride - pad + v].
template <typename T>
void im2col(const T* x, int64_t groups, const ConvShape& s, T* cols) {
  const int64_t p = s.oh * s.ow, row = groups * p;
  for (int64_t c = 0; c < s.c; ++c)
    for (int64_t u = 0; u < s.kh; ++u)
      for (int64_t v = 0; v < s.kw; ++v) {
        T* dst = cols + ((c * s.kh + u) * s.kw + v) * row;
        const Span span = stride1_span(s, v);
        for (int64_t g = 0; g < groups; ++g) {
          const T* plane = x + (g * s.c + c) * s.h * s.w;
          for (int64_t i = 0; i < s.oh; ++i) {
            T* out = dst + g * p + i * s.ow;
            const int64_t ih = i * s.stride - s.padding + u;
            if (ih < 0 || ih >= s.h) {
              std::fill(out, out + s.ow, T(0));
              continue;
            }
            const T* in = plane + ih * s.w;
            if (s.stride == 1) {
              std::fill(out, out + span.begin, T(0));
              std::copy(in + span.begin - s.padding + v, in + span.end - s.padding + v,
                        out + span.begin);
              std::fill(out + span.end, out + s.ow, T(0));
            } else {
              for (int64_t j = 0; j < s.ow; ++j) {
                const int64_t iw = j * s.stride - s.padding + v;
                out[j] = iw >= 0 && iw < s.w ? in[iw] : T(0);
              }
            }
          }
        }
      }
}

// The adjoint of im2col: dx[g, c, ih, iw] += every column entry that read it. dx is zeroed first.
template <typename T>
void col2im(const T* cols, int64_t groups, const ConvShape& s, T* dx) {
  std::fill(dx, dx + groups * s.c * s.h * s.w, T(0));
  const int64_t p = s.oh * s.ow, row = groups * p;
  for (int64_t c = 0; c < s.c; ++c)
    for (int64_t u = 0; u < s.kh; ++u)
      for (int64_t v = 0; v < s.kw; ++v) {
        const T* src = cols + ((c * s.kh + u) * s.kw + v) * row;
        const Span span = stride1_span(s, v);
        for (int64_t g = 0; g < groups; ++g) {
          T* plane = dx + (g * s.c + c) * s.h * s.w;
          for (int64_t i = 0; i < s.oh; ++i) {
            const int64_t ih = i * s.stride - s.padding + u;
            if (ih < 0 || ih >= s.h) continue;
            const T* in = src + g * p + i * s.ow;
            T* out = plane + ih * s.w;
            if (s.stride == 1) {
              const int64_t n = span.end - span.begin;
              if (n > 0)
                Vec<T>(out + span.begin - s.padding + v, n) += ConstVec<T>(in + span.begin, n);
            } else {
              for (int64_t j = 0; j < s.ow; ++j) {
                const int64_t iw = j * s.stride - s.padding + v;
                if (iw >= 0 && iw < s.w) out[iw] += in[j];
              }
            }
          }
        }
      }
}

}  // namespace

template <typename T>
void conv2d_fwd(const T* x, const T* weight, const T* bias, T* y, const ConvShape& s) {
  const int64_t ckk = s.c * s.kh * s.kw, p = s.oh * s.ow, group = group_size<T>(s);
  T* cols = workspace<T>(static_cast<size_t>((ckk + s.o) * group * p));
  T* out = cols + ckk * group * p;
  for (int64_t n0 = 0; n0 < s.n; n0 += group) {
    const int64_t g_count = std::min(group, s.n - n0), row = g_count * p;
    im2col(x + n0 * s.c * s.h * s.w, g_count, s, cols);
    if (g_count == 1) {  // one image: [O, P] is its output's layout already
      T* y_n = y + n0 * s.o * p;
      gemm<T>(weight, false, cols, false, y_n, s.o, p, ckk, T(1), T(0));
      if (bias)
        for (int64_t o = 0; o < s.o; ++o)
          Vec<T>(y_n + o * p, p) += bias[o];
      continue;
    }
    gemm<T>(weight, false, cols, false, out, s.o, row, ckk, T(1), T(0));  // [O, G*P]
    for (int64_t g = 0; g < g_count; ++g)
      for (int64_t o = 0; o < s.o; ++o) {
        Vec<T> dst(y + ((n0 + g) * s.o + o) * p, p);
        const ConstVec<T> src(out + o * row + g * p, p);
        if (bias)
          dst = src + bias[o];
        else
          dst = src;
      }
  }
}

template <typename T>
void conv2d_bwd(const T* x, const T* weight, const T* dy, T* dx, T* dweight, T* dbias,
                const ConvShape& s) {
  const int64_t ckk = s.c * s.kh * s.kw, p = s.oh * s.ow, group = group_size<T>(s);
  T* cols = workspace<T>(static_cast<size_t>((2 * ckk + s.o) * group * p));
  T* dcols = cols + ckk * group * p;
  T* dyg = dcols + ckk * group * p;
  for (int64_t n0 = 0; n0 < s.n; n0 += group) {
    const int64_t g_count = std::min(group, s.n - n0), row = g_count * p;
    // dy of the group as [O, G*P], the layout of forward's GEMM output (one image's dy is).
    const T* dy_g = dy + n0 * s.o * p;
    if (g_count > 1) {
      for (int64_t g = 0; g < g_count; ++g)
        for (int64_t o = 0; o < s.o; ++o)
          std::memcpy(dyg + o * row + g * p, dy + ((n0 + g) * s.o + o) * p, sizeof(T) * p);
      dy_g = dyg;
    }
    if (dbias)
      for (int64_t o = 0; o < s.o; ++o)
        dbias[o] += ConstVec<T>(dy_g + o * row, row).sum();
    im2col(x + n0 * s.c * s.h * s.w, g_count, s, cols);
    gemm<T>(dy_g, false, cols, true, dweight, s.o, ckk, row, T(1), T(1));  // [O, CKK] +=
    if (dx) {
      gemm<T>(weight, true, dy_g, false, dcols, ckk, row, s.o, T(1), T(0));  // [CKK, G*P]
      col2im(dcols, g_count, s, dx + n0 * s.c * s.h * s.w);
    }
  }
}

template void conv2d_fwd<float>(const float*, const float*, const float*, float*, const ConvShape&);
template void conv2d_fwd<double>(const double*, const double*, const double*, double*,
                                 const ConvShape&);
template void conv2d_bwd<float>(const float*, const float*, const float*, float*, float*, float*,
                                const ConvShape&);
template void conv2d_bwd<double>(const double*, const double*, const double*, double*, double*,
                                 double*, const ConvShape&);

}  // namespace s2s::cpu
