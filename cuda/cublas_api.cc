// Lazy loading of cuBLAS with dlopen.
#include "cuda/cublas_api.h"

#include <dlfcn.h>

#include <mutex>
#include <string>

#include "seq2seq/error.h"

namespace s2s::cuda {
namespace {

template <typename Fn>
void resolve(void* library, const char* name, Fn& fn) {
  fn = reinterpret_cast<Fn>(dlsym(library, name));
  if (!fn) throw CudaError(std::string("cuBLAS has no symbol ") + name);
}

CublasApi load() {
  // The major version s2s was compiled against; its ABI is what the declarations describe.
  const std::string name = "libcublas.so." + std::to_string(CUBLAS_VER_MAJOR);
  void* library = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!library)
    throw CudaError("cannot load " + name + " (" + dlerror() +
                    "): install cuBLAS or add its folder to LD_LIBRARY_PATH");
  CublasApi api{};
  resolve(library, "cublasCreate_v2", api.create);
  resolve(library, "cublasDestroy_v2", api.destroy);
  resolve(library, "cublasSetMathMode", api.set_math_mode);
  resolve(library, "cublasSetStream_v2", api.set_stream);
  resolve(library, "cublasSgemm_v2", api.sgemm);
  resolve(library, "cublasDgemm_v2", api.dgemm);
  resolve(library, "cublasGetStatusString", api.status_string);
  decltype(&cublasGetVersion_v2) get_version = nullptr;
  resolve(library, "cublasGetVersion_v2", get_version);
  get_version(nullptr, &api.version);
  return api;  // the library stays loaded for the life of the process
}

}  // namespace

const CublasApi& cublas() {
  static std::once_flag once;
  static CublasApi api;
  std::call_once(once, [] { api = load(); });
  return api;
}

}  // namespace s2s::cuda
