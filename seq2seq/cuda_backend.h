// The seam between the core and the CUDA backend (cuda/). The core calls these functions when a
// tensor lives on a CUDA device; cuda/*.cu defines them in a CUDA build, and
// seq2seq/cuda_absent.cc defines them in a CPU-only build to throw BackendUnavailable naming the
// CMake option (S2S_CUDA=ON). Internal: not part of the public headers.
#pragma once

#include <cstddef>

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

}  // namespace s2s::cuda
