// NCCL, loaded on first use like cuBLAS (cuda/cublas_api.h). s2s does not link libnccl: it is a
// 200 MB library that only sync data parallelism on GPUs needs, it comes with the CUDA toolkit or
// NVIDIA's packages rather than with the distribution, and a CUDA build of s2s must start and
// run everywhere else without it. The first NCCL communicator dlopens it; a missing library is
// an EnvironmentError naming it.
// Compiled only where CMake found nccl.h (S2S_WITH_NCCL).
#pragma once

#include <nccl.h>

#include <string>

namespace s2s::cuda {

// The NCCL entry points s2s calls, resolved from the loaded library. The members carry the
// functions' own names, so that S2S_NCCL_CHECK's message names the NCCL call.
struct NcclApi {
  decltype(&::ncclGetVersion) ncclGetVersion;
  decltype(&::ncclGetUniqueId) ncclGetUniqueId;
  decltype(&::ncclCommInitRank) ncclCommInitRank;
  decltype(&::ncclCommDestroy) ncclCommDestroy;
  decltype(&::ncclCommAbort) ncclCommAbort;
  decltype(&::ncclCommGetAsyncError) ncclCommGetAsyncError;
  decltype(&::ncclGetErrorString) ncclGetErrorString;
  decltype(&::ncclGetLastError) ncclGetLastError;
  decltype(&::ncclAllReduce) ncclAllReduce;
  decltype(&::ncclBroadcast) ncclBroadcast;
  std::string library;  // what was loaded: "libnccl.so.2"
  std::string version;  // the loaded library's own, "2.28.9"
};

// Loads NCCL from library (a file name dlopen searches for, or a path); throws EnvironmentError
// naming it when it cannot be loaded, lacks a symbol, or has another major version than the
// nccl.h s2s was compiled against. Not cached: for the default library call nccl().
NcclApi load_nccl(const std::string& library);
// The default library, libnccl.so.<NCCL_MAJOR>, loaded once (thread-safe); throws as load_nccl.
const NcclApi& nccl();

// Throws CudaError naming the call when status is not ncclSuccess (ncclInProgress included:
// s2s makes blocking communicators only).
void check_nccl(ncclResult_t status, ncclComm_t comm, const char* call, const char* file, int line);

}  // namespace s2s::cuda

// S2S_NCCL_CHECK(comm, ncclAllReduce, args...): calls the loaded function; comm (may be null)
// adds NCCL's last error text to the message.
#define S2S_NCCL_CHECK(comm, fn, ...) \
  ::s2s::cuda::check_nccl(::s2s::cuda::nccl().fn(__VA_ARGS__), (comm), #fn, __FILE__, __LINE__)
