// Lazy loading of NCCL with dlopen (only where CMake found nccl.h).
#ifdef S2S_WITH_NCCL
#include "cuda/nccl_api.h"

#include <dlfcn.h>

#include <mutex>

#include "seq2seq/error.h"

namespace s2s::cuda {
namespace {

template <typename Fn>
void resolve(void* library, const std::string& name, const char* symbol, Fn& fn) {
  fn = reinterpret_cast<Fn>(dlsym(library, symbol));
  if (!fn) throw EnvironmentError("NCCL library " + name + " has no symbol " + symbol);
}

}  // namespace

NcclApi load_nccl(const std::string& library) {
  void* handle = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = dlerror();
    throw EnvironmentError("cannot load the NCCL library " + library + " (" +
                           (why ? why : "unknown reason") +
                           "): install NCCL (it comes with the CUDA toolkit or NVIDIA's "
                           "libnccl2 package) or add its folder to LD_LIBRARY_PATH");
  }
  NcclApi api{};
  api.library = library;
  resolve(handle, library, "ncclGetVersion", api.ncclGetVersion);
  resolve(handle, library, "ncclGetUniqueId", api.ncclGetUniqueId);
  resolve(handle, library, "ncclCommInitRank", api.ncclCommInitRank);
  resolve(handle, library, "ncclCommDestroy", api.ncclCommDestroy);
  resolve(handle, library, "ncclCommAbort", api.ncclCommAbort);
  resolve(handle, library, "ncclCommGetAsyncError", api.ncclCommGetAsyncError);
  resolve(handle, library, "ncclGetErrorString", api.ncclGetErrorString);
  resolve(handle, library, "ncclGetLastError", api.ncclGetLastError);
  resolve(handle, library, "ncclAllReduce", api.ncclAllReduce);
  resolve(handle, library, "ncclBroadcast", api.ncclBroadcast);
  int code = 0;
  if (api.ncclGetVersion(&code) != ncclSuccess)
    throw EnvironmentError("NCCL library " + library + ": ncclGetVersion failed");
  // Since NCCL 2.9 the code is major * 10000 + minor * 100 + patch (2.28.9 -> 22809).
  const int major = code / 10000, minor = code / 100 % 100, patch = code % 100;
  api.version = std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
  if (major != NCCL_MAJOR)
    throw EnvironmentError("NCCL library " + library + " is version " + api.version +
                           " but s2s was compiled against NCCL " + std::to_string(NCCL_MAJOR) +
                           ".x");
  return api;  // the library stays loaded for the life of the process
}

const NcclApi& nccl() {
  static std::once_flag once;
  static NcclApi api;
  // A failed load throws out of call_once, which leaves it uncalled: the next use tries again.
  std::call_once(once, [] { api = load_nccl("libnccl.so." + std::to_string(NCCL_MAJOR)); });
  return api;
}

void check_nccl(ncclResult_t status, ncclComm_t comm, const char* call, const char* file,
                int line) {
  if (status == ncclSuccess) return;
  const NcclApi& api = nccl();
  std::string message = std::string(call) + " failed: " + api.ncclGetErrorString(status);
  const char* last = api.ncclGetLastError(comm);
  if (last && *last) message += std::string(" (") + last + ")";
  throw CudaError(message + " [" + file + ":" + std::to_string(line) + "]");
}

}  // namespace s2s::cuda

#endif  // S2S_WITH_NCCL
