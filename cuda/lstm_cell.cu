// CUDA bodies of ops/lstm_cell.h. One thread per (batch row, hidden unit): it reads that unit's
// four gate pre-activations, so the gate math, the cell and the hidden state are one pass over
// memory, as on the CPU. Row-major [B, 4H] puts gate k of unit j at k*H + j, so neighbouring
// threads (neighbouring j) read neighbouring addresses in each of the four gate blocks.
#include "cuda/launch.h"
#include "seq2seq/cuda_backend.h"

namespace s2s::cuda {
namespace {

template <typename T>
__device__ T sigmoid(T x) {
  return T(1) / (T(1) + exp(-x));
}

template <typename T>
__global__ void lstm_cell_fwd_kernel(int64_t batch, int64_t hidden, T* gates, const T* bias,
                                     const T* c_prev, const T* h_prev, const T* mask, T* c, T* h) {
  const int64_t n = batch * hidden;
  for (int64_t e = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; e < n;
       e += int64_t{gridDim.x} * blockDim.x) {
    const int64_t b = e / hidden, j = e % hidden;
    if (mask && mask[b] == T(0)) {  // padding: the state passes through, gates stay as given
      c[e] = c_prev[e];
      h[e] = h_prev[e];
      continue;
    }
    T* a = gates + b * 4 * hidden;
    T ai = a[j], af = a[hidden + j], ag = a[2 * hidden + j], ao = a[3 * hidden + j];
    if (bias) {
      ai += bias[j];
      af += bias[hidden + j];
      ag += bias[2 * hidden + j];
      ao += bias[3 * hidden + j];
    }
    const T i = sigmoid(ai), f = sigmoid(af), g = tanh(ag), o = sigmoid(ao);
    a[j] = i;
    a[hidden + j] = f;
    a[2 * hidden + j] = g;
    a[3 * hidden + j] = o;
    const T cn = f * c_prev[e] + i * g;
    c[e] = cn;
    h[e] = o * tanh(cn);
  }
}

// dgates may be gates, dc_prev may be dc, dh_carry may be dh: each thread reads its element of
// every aliased pair before writing it, and no thread touches another's elements.
template <typename T>
__global__ void lstm_cell_bwd_kernel(int64_t batch, int64_t hidden, const T* gates, const T* c_prev,
                                     const T* c, const T* mask, const T* dh, const T* dc, T* dgates,
                                     T* dc_prev, T* dh_carry) {
  const int64_t n = batch * hidden;
  for (int64_t e = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; e < n;
       e += int64_t{gridDim.x} * blockDim.x) {
    const int64_t b = e / hidden, j = e % hidden;
    const T* a = gates + b * 4 * hidden;
    T* da = dgates + b * 4 * hidden;
    const T dh_e = dh[e];
    const T dc_e = dc ? dc[e] : T(0);
    if (mask && mask[b] == T(0)) {
      da[j] = da[hidden + j] = da[2 * hidden + j] = da[3 * hidden + j] = T(0);
      dc_prev[e] = dc_e;
      if (dh_carry) dh_carry[e] = dh_e;
      continue;
    }
    const T i = a[j], f = a[hidden + j], g = a[2 * hidden + j], o = a[3 * hidden + j];
    const T tc = tanh(c[e]);
    const T dc_total = dc_e + dh_e * o * (T(1) - tc * tc);
    da[j] = dc_total * g * i * (T(1) - i);
    da[hidden + j] = dc_total * c_prev[e] * f * (T(1) - f);
    da[2 * hidden + j] = dc_total * i * (T(1) - g * g);
    da[3 * hidden + j] = dh_e * tc * o * (T(1) - o);
    dc_prev[e] = dc_total * f;
    if (dh_carry) dh_carry[e] = T(0);
  }
}

// out[r, column + j] = h[r, j] (0 at padded rows); backward the reverse copy.
template <typename T>
__global__ void lstm_output_kernel(int64_t rows, int64_t hidden, const T* src, int64_t src_width,
                                   int64_t src_column, const T* mask, T* dst, int64_t dst_width,
                                   int64_t dst_column) {
  const int64_t n = rows * hidden;
  for (int64_t e = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; e < n;
       e += int64_t{gridDim.x} * blockDim.x) {
    const int64_t r = e / hidden, j = e % hidden;
    dst[r * dst_width + dst_column + j] =
        mask && mask[r] == T(0) ? T(0) : src[r * src_width + src_column + j];
  }
}

template <typename T>
const T* optional_data(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

}  // namespace

void lstm_cell_fwd(Tensor& gates, const Tensor& bias, const Tensor& c_prev, const Tensor& h_prev,
                   const Tensor& mask, Tensor& c, Tensor& h) {
  use_device(c_prev);
  const int64_t batch = c_prev.dim(0), hidden = c_prev.dim(1);
  if (batch * hidden == 0) return;
  dispatch_floating(c_prev.dtype(), [&]<typename T>() {
    lstm_cell_fwd_kernel<T><<<blocks_for(batch * hidden), kBlockSize>>>(
        batch, hidden, gates.data<T>(), optional_data<T>(bias), c_prev.data<T>(), h_prev.data<T>(),
        optional_data<T>(mask), c.data<T>(), h.data<T>());
  });
  S2S_CUDA_CHECK_LAUNCH();
}

void lstm_cell_bwd(const Tensor& gates, const Tensor& c_prev, const Tensor& c, const Tensor& mask,
                   const Tensor& dh, const Tensor& dc, Tensor& dgates, Tensor& dc_prev,
                   Tensor& dh_carry, Tensor& dbias) {
  use_device(c_prev);
  const int64_t batch = c_prev.dim(0), hidden = c_prev.dim(1);
  if (batch * hidden == 0) return;
  dispatch_floating(c_prev.dtype(), [&]<typename T>() {
    lstm_cell_bwd_kernel<T><<<blocks_for(batch * hidden), kBlockSize>>>(
        batch, hidden, gates.data<T>(), c_prev.data<T>(), c.data<T>(), optional_data<T>(mask),
        dh.data<T>(), optional_data<T>(dc), dgates.data<T>(), dc_prev.data<T>(),
        dh_carry.defined() ? dh_carry.data<T>() : nullptr);
  });
  S2S_CUDA_CHECK_LAUNCH();
  // The column sums, in a second pass that reads each column in row order: deterministic,
  // unlike atomics from the cell kernel.
  if (dbias.defined()) bias_grad(dgates, dbias, /*accumulate=*/true);
}

void lstm_output_fwd(const Tensor& h, const Tensor& mask, Tensor& out, int64_t column) {
  use_device(h);
  const int64_t rows = h.dim(0) * h.dim(1), hidden = h.dim(2);
  if (rows * hidden == 0) return;
  dispatch_floating(h.dtype(), [&]<typename T>() {
    lstm_output_kernel<T><<<blocks_for(rows * hidden), kBlockSize>>>(
        rows, hidden, h.data<T>(), hidden, 0, optional_data<T>(mask), out.data<T>(), out.dim(2),
        column);
  });
  S2S_CUDA_CHECK_LAUNCH();
}

void lstm_output_bwd(const Tensor& d_out, const Tensor& mask, int64_t column, Tensor& dh) {
  use_device(dh);
  const int64_t rows = dh.dim(0) * dh.dim(1), hidden = dh.dim(2);
  if (rows * hidden == 0) return;
  dispatch_floating(dh.dtype(), [&]<typename T>() {
    lstm_output_kernel<T><<<blocks_for(rows * hidden), kBlockSize>>>(
        rows, hidden, d_out.data<T>(), d_out.dim(2), column, optional_data<T>(mask), dh.data<T>(),
        hidden, 0);
  });
  S2S_CUDA_CHECK_LAUNCH();
}

}  // namespace s2s::cuda
