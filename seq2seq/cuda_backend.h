// The seam between the core and the CUDA backend (cuda/). The core calls these functions when a
// tensor lives on a CUDA device; cuda/*.cu defines them in a CUDA build, and
// seq2seq/cuda_absent.cc defines them in a CPU-only build to throw BackendUnavailable naming the
// CMake option (S2S_CUDA=ON). Internal: not part of the public headers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

#include "seq2seq/ops/log_softmax_xent.h"
#include "seq2seq/ops/optimizer_step.h"
#include "seq2seq/tensor.h"

namespace s2s::cuda {

bool built();        // true when this binary was built with S2S_CUDA on
int device_count();  // usable CUDA devices; 0 in a CPU-only build or when no driver/GPU is found
std::string describe();  // "CUDA 13.0, cuBLAS 13.0, 1 device: NVIDIA H100" or why there is none

void* allocate(size_t bytes, int device);
void deallocate(void* ptr, int device) noexcept;
// Copies between any two of host and device memory; synchronous with respect to the host.
void copy(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes);
void fill_zero(void* ptr, size_t bytes, int device);
void synchronize(int device);

// Op bodies, one per seq2seq/ops/<op>.h; arguments already validated by the op.
void gemm(const Tensor& a, bool transpose_a, const Tensor& b, bool transpose_b, Tensor& c,
          double alpha, double beta);
void add_bias(Tensor& x, const Tensor& bias);
void bias_grad(const Tensor& dy, Tensor& dbias, bool accumulate);
void axpy(double alpha, const Tensor& x, Tensor& y);
void scale(Tensor& x, double alpha);
void tanh_fwd(const Tensor& x, Tensor& y);
void tanh_bwd(const Tensor& y, const Tensor& dy, Tensor& dx, bool accumulate);
void dropout_fwd(const Tensor& x, double p, uint64_t seed, uint64_t first_counter, Tensor& mask,
                 Tensor& y);
void dropout_bwd(const Tensor& dy, const Tensor& mask, Tensor& dx);

// Validation of device-resident indices, for the front ends to call before dispatching so that
// a bad batch throws before anything is written, as on the CPU. Each runs one kernel and copies
// one word back to the host (a synchronisation: the price of an exact error message).
// also_valid: one more accepted id (a pad id outside [0, v)), or kNoExtraId for none.
inline constexpr int64_t kNoExtraId = std::numeric_limits<int64_t>::min();
// The first position n with ids[n] outside [0, v) and != also_valid, or -1.  ids: [N] i32
int64_t first_invalid_id(const Tensor& ids, int64_t v, int64_t also_valid);
// The first column b of mask [S, B] without a non-zero entry, or -1.
int64_t first_empty_column(const Tensor& mask);

void embedding_fwd(const Tensor& table, const Tensor& ids, Tensor& out, int32_t pad_id);
void embedding_bwd(const Tensor& ids, const Tensor& dout, Tensor& dtable, int32_t pad_id);
void attention_fwd(bool additive, const Tensor& keys, const Tensor& query, const Tensor& v,
                   const Tensor& values, const Tensor& mask, Tensor& weights, Tensor& context);
void attention_bwd(bool additive, const Tensor& keys, const Tensor& query, const Tensor& v,
                   const Tensor& values, const Tensor& mask, const Tensor& weights,
                   const Tensor& dcontext, const Tensor& dweights, Tensor& dkeys, Tensor& dquery,
                   Tensor& dv, Tensor& dvalues);
// target_log_probs may be null; with gradient, logits is overwritten as in ops/log_softmax_xent.h.
ops::XentSums log_softmax_xent(Tensor& logits, const Tensor& targets,
                               const ops::XentOptions& options, bool gradient,
                               Tensor* target_log_probs);
void log_softmax(const Tensor& x, Tensor& y);
double sum_squares(const Tensor& t);  // sum of x^2 over every element, in double
void adam_step(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, const ops::AdamArgs& args);
void sgd_step(Tensor& param, const Tensor& grad, Tensor* momentum_buffer, const ops::SgdArgs& args);

void lstm_cell_fwd(Tensor& gates, const Tensor& bias, const Tensor& c_prev, const Tensor& h_prev,
                   const Tensor& mask, Tensor& c, Tensor& h);
void lstm_cell_bwd(const Tensor& gates, const Tensor& c_prev, const Tensor& c, const Tensor& mask,
                   const Tensor& dh, const Tensor& dc, Tensor& dgates, Tensor& dc_prev,
                   Tensor& dh_carry, Tensor& dbias);
void lstm_output_fwd(const Tensor& h, const Tensor& mask, Tensor& out, int64_t column);
void lstm_output_bwd(const Tensor& d_out, const Tensor& mask, int64_t column, Tensor& dh);
void masked_mean_fwd(const Tensor& x, const Tensor& mask, Tensor& out);
void masked_mean_bwd(const Tensor& dout, const Tensor& mask, Tensor& dx);

}  // namespace s2s::cuda
