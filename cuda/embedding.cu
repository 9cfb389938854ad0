// CUDA bodies of ops/embedding.h and the device-side id validation the front ends use
// (first_invalid_id, shared with log_softmax_xent's targets).
// Backward scatter-adds with atomicAdd: positions sharing an id add into one row in whatever
// order the hardware serialises them, so with repeated ids the float result may differ from
// run to run (and from the CPU's sequential order) in the last bits. A sort-by-id segmented sum
// would be deterministic but costs a sort per batch; not worth it for a gradient.
#include <climits>

#include "cuda/launch.h"
#include "cuda/reduce.h"
#include "seq2seq/cuda_backend.h"

namespace s2s::cuda {
namespace {

// Writes the smallest bad position into *first (initialised to ULLONG_MAX by the host).
__global__ void first_invalid_id_kernel(const int32_t* ids, int64_t n, int64_t v,
                                        int64_t also_valid, unsigned long long* first) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t id = ids[i];
    if ((id < 0 || id >= v) && id != also_valid)
      atomicMin(first, static_cast<unsigned long long>(i));
  }
}

// Flat over the n * e outputs, so consecutive threads write consecutive addresses.
template <typename T>
__global__ void embedding_fwd_kernel(const T* table, const int32_t* ids, int64_t n, int64_t e,
                                     int32_t pad_id, T* out) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n * e;
       i += int64_t{gridDim.x} * blockDim.x) {
    const int32_t id = ids[i / e];
    out[i] = id == pad_id ? T(0) : table[static_cast<int64_t>(id) * e + i % e];
  }
}

template <typename T>
__global__ void embedding_bwd_kernel(const int32_t* ids, const T* dout, int64_t n, int64_t e,
                                     int32_t pad_id, T* dtable) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n * e;
       i += int64_t{gridDim.x} * blockDim.x) {
    const int32_t id = ids[i / e];
    if (id != pad_id) atomicAdd(dtable + static_cast<int64_t>(id) * e + i % e, dout[i]);
  }
}

}  // namespace

int64_t first_invalid_id(const Tensor& ids, int64_t v, int64_t also_valid) {
  use_device(ids);
  const int64_t n = ids.numel();
  if (n == 0) return -1;
  DeviceArray<unsigned long long> first(1);
  first.fill_bytes(0xff);  // ULLONG_MAX: no bad position yet
  first_invalid_id_kernel<<<blocks_for(n), kBlockSize>>>(ids.data<int32_t>(), n, v, also_valid,
                                                         first.get());
  S2S_CUDA_CHECK_LAUNCH();
  const unsigned long long pos = first.to_host()[0];
  return pos == ULLONG_MAX ? -1 : static_cast<int64_t>(pos);
}

void embedding_fwd(const Tensor& table, const Tensor& ids, Tensor& out, int32_t pad_id) {
  use_device(table);
  const int64_t n = ids.numel(), e = table.dim(1);
  if (n * e == 0) return;
  dispatch_floating(table.dtype(), [&]<typename T>() {
    embedding_fwd_kernel<T><<<blocks_for(n * e), kBlockSize>>>(table.data<T>(), ids.data<int32_t>(),
                                                               n, e, pad_id, out.data<T>());
  });
  S2S_CUDA_CHECK_LAUNCH();
}

void embedding_bwd(const Tensor& ids, const Tensor& dout, Tensor& dtable, int32_t pad_id) {
  use_device(dtable);
  const int64_t n = ids.numel(), e = dtable.dim(1);
  if (n * e == 0) return;
  dispatch_floating(dtable.dtype(), [&]<typename T>() {
    embedding_bwd_kernel<T><<<blocks_for(n * e), kBlockSize>>>(ids.data<int32_t>(), dout.data<T>(),
                                                               n, e, pad_id, dtable.data<T>());
  });
  S2S_CUDA_CHECK_LAUNCH();
}

}  // namespace s2s::cuda
