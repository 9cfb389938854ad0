// CUDA device memory, copies and device discovery for the core (seq2seq/cuda_backend.h).
// Plain cudaMalloc for now; the caching allocator comes with the GPU training path (issue 7).
#include <cublas_v2.h>

#include "cuda/check.h"
#include "seq2seq/cuda_backend.h"

namespace s2s::cuda {

bool built() {
  return true;
}

int device_count() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver" error
    return 0;
  }
  return count;
}

std::string describe() {
  int runtime = 0;
  cudaRuntimeGetVersion(&runtime);
  std::string text = "on (CUDA runtime " + std::to_string(runtime / 1000) + "." +
                     std::to_string(runtime % 1000 / 10) + ", cuBLAS " +
                     std::to_string(CUBLAS_VER_MAJOR) + " loaded on first use";
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    cudaGetLastError();
    return text + "; no device usable: " + cudaGetErrorString(status) + ")";
  }
  text += "; " + std::to_string(count) + " device" + (count == 1 ? "" : "s");
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, i) == cudaSuccess)
      text += std::string(i ? ", " : ": ") + prop.name + " sm_" + std::to_string(prop.major) +
              std::to_string(prop.minor);
  }
  return text + ")";
}

namespace {
class DeviceGuard {  // makes `device` current for the guard's lifetime
 public:
  explicit DeviceGuard(int device) {
    S2S_CUDA_CHECK(cudaGetDevice(&previous_));
    if (device != previous_) S2S_CUDA_CHECK(cudaSetDevice(device));
  }
  ~DeviceGuard() { S2S_CUDA_CHECK_NOTHROW(cudaSetDevice(previous_)); }

 private:
  int previous_ = 0;
};
}  // namespace

void* allocate(size_t bytes, int device) {
  DeviceGuard guard(device);
  void* ptr = nullptr;
  S2S_CUDA_CHECK(cudaMalloc(&ptr, bytes));
  return ptr;
}

void deallocate(void* ptr, int device) noexcept {
  if (!ptr) return;
  int previous = 0;
  if (cudaGetDevice(&previous) != cudaSuccess) return;
  if (previous != device) S2S_CUDA_CHECK_NOTHROW(cudaSetDevice(device));
  S2S_CUDA_CHECK_NOTHROW(cudaFree(ptr));
  if (previous != device) S2S_CUDA_CHECK_NOTHROW(cudaSetDevice(previous));
}

void copy(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes) {
  const int device = dst_device.is_cuda() ? dst_device.index : src_device.index;
  DeviceGuard guard(device);
  S2S_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDefault));
}

void fill_zero(void* ptr, size_t bytes, int device) {
  DeviceGuard guard(device);
  S2S_CUDA_CHECK(cudaMemset(ptr, 0, bytes));
}

void synchronize(int device) {
  DeviceGuard guard(device);
  S2S_CUDA_CHECK(cudaDeviceSynchronize());
}

}  // namespace s2s::cuda
