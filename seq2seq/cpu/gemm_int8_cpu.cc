// CPU int8 gemm. The activations are quantized per row into a u8 buffer, then the product is cut
// into column (or row) blocks of C on s2s's math threads (parallel_for), as the float gemm is;
// each block is one oneDNN matmul u8·s8 -> s32 into a per-thread scratch, dequantized into C
// while it is in cache. oneDNN is built with OpenMP: every thread that calls it is held to one
// OpenMP thread, so the pool, not OpenMP, spreads the work and no OpenMP team spins on a core
// the element-wise passes need. One primitive with run-time shapes serves every product: the
// decoder's row counts change every step.
#include "seq2seq/cpu/gemm_int8_cpu.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <utility>
#include <vector>

#include "seq2seq/cpu/product_blocks.h"
#include "seq2seq/error.h"
#include "seq2seq/parallel_for.h"

namespace s2s::cpu {
namespace {

using dnnl::memory;
using DataType = dnnl::memory::data_type;

// The engine and the run-time-shape matmul, made once for the process.
struct Backend {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::matmul matmul;
  Backend() {
    const memory::dim any = DNNL_RUNTIME_DIM_VAL;
    const memory::desc src({any, any}, DataType::u8, {any, 1});
    const memory::desc weights({any, any}, DataType::s8, {1, any});  // [K, N] viewed from [N, K]
    const memory::desc dst({any, any}, DataType::s32, {any, 1});
    matmul =
        dnnl::matmul(dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, weights, dst), engine));
  }
};

Backend& backend() {
  static Backend* b = [] {
    try {
      return new Backend();  // never destroyed: threads may still use it at exit
    } catch (const dnnl::error& e) {
      throw EnvironmentError(std::string("oneDNN cannot run int8 products on this CPU: ") +
                             e.what());
    }
  }();
  return *b;
}

// Per calling thread: one OpenMP thread for oneDNN, a stream, and the s32 scratch.
struct ThreadState {
  dnnl::stream stream;
  std::vector<int32_t> scratch;
  explicit ThreadState(const dnnl::engine& engine) : stream(engine) { omp_set_num_threads(1); }
};

ThreadState& thread_state(Backend& b) {
  thread_local std::unique_ptr<ThreadState> state;
  if (!state) state = std::make_unique<ThreadState>(b.engine);
  return *state;
}

// acc[rows, cols] (s32) = a_u8[rows, k] · w[cols, k]ᵀ, both row-major with leading dimension k.
void matmul_block(Backend& b, ThreadState& t, const uint8_t* a, int64_t rows, const int8_t* w,
                  int64_t cols, int64_t k, int32_t* acc) {
  const memory src({{rows, k}, DataType::u8, {k, 1}}, b.engine, const_cast<uint8_t*>(a));
  const memory weights({{k, cols}, DataType::s8, {1, k}}, b.engine, const_cast<int8_t*>(w));
  const memory dst({{rows, cols}, DataType::s32, {cols, 1}}, b.engine, acc);
  b.matmul.execute(t.stream,
                   {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, dst}});
  t.stream.wait();
}

}  // namespace

void gemm_int8(const float* a, int64_t m, int64_t k, const int8_t* w, const float* w_scales,
               const int32_t* row_sums, int64_t n, float* c, float beta) {
  if (m == 0 || n == 0) return;
  Backend& b = backend();
  // Dynamic quantization of the activations, one scale a row.
  thread_local std::vector<uint8_t> a_u8;
  thread_local std::vector<float> a_scale;
  a_u8.resize(static_cast<size_t>(m * k));
  a_scale.resize(static_cast<size_t>(m));
  uint8_t* q = a_u8.data();
  float* scale = a_scale.data();
  parallel_for(
      m, std::max<int64_t>(1, 4096 / std::max<int64_t>(k, 1)), [&](int64_t begin, int64_t end) {
        for (int64_t r = begin; r < end; ++r) {
          const float* x = a + r * k;
          float max_abs = 0;
          for (int64_t j = 0; j < k; ++j)
            max_abs = std::max(max_abs, std::fabs(x[j]));
          S2S_CHECK(std::isfinite(max_abs), "gemm_int8: row ", r, " of the input is not finite");
          const float s = max_abs > 0 ? max_abs / 127.0f : 1.0f;
          const float inverse = 1.0f / s;
          scale[r] = s;
          for (int64_t j = 0; j < k; ++j)
            q[r * k + j] =
                static_cast<uint8_t>(static_cast<int32_t>(std::nearbyint(x[j] * inverse)) + 128);
        }
      });
  // C[r0 .. r0 + rows, c0 .. c0 + cols].
  auto block = [&](int64_t r0, int64_t rows, int64_t c0, int64_t cols) {
    ThreadState& t = thread_state(b);
    t.scratch.resize(static_cast<size_t>(rows * cols));
    int32_t* acc = t.scratch.data();
    try {
      matmul_block(b, t, q + r0 * k, rows, w + c0 * k, cols, k, acc);
    } catch (const dnnl::error& e) {
      throw EnvironmentError(std::string("oneDNN int8 matmul failed: ") + e.what());
    }
    for (int64_t r = 0; r < rows; ++r) {
      const float s = scale[r0 + r];
      float* out = c + (r0 + r) * n + c0;
      const int32_t* in = acc + r * cols;
      if (beta == 0.0f) {
        for (int64_t j = 0; j < cols; ++j)
          out[j] = s * w_scales[c0 + j] * static_cast<float>(in[j] - 128 * row_sums[c0 + j]);
      } else {
        for (int64_t j = 0; j < cols; ++j)
          out[j] = s * w_scales[c0 + j] * static_cast<float>(in[j] - 128 * row_sums[c0 + j]) +
                   beta * out[j];
      }
    }
  };
  for_each_product_block(m, n, k, /*min_cols=*/64, /*min_rows=*/16, block);
}

const char* int8_backend() {
  static const std::string text = [] {
    // The instruction sets oneDNN's int8 kernels may pick here, best last; VNNI multiplies u8 by
    // s8 into int32 in one instruction, what makes int8 fast.
    static const std::pair<dnnl::cpu_isa, const char*> names[] = {
        {dnnl::cpu_isa::avx2, "avx2, no VNNI"},
        {dnnl::cpu_isa::avx2_vnni, "avx2_vnni"},
        {dnnl::cpu_isa::avx512_core, "avx512_core, no VNNI"},
        {dnnl::cpu_isa::avx512_core_vnni, "avx512_core_vnni"},
        {dnnl::cpu_isa::avx512_core_bf16, "avx512_core_bf16, with VNNI"},
        {dnnl::cpu_isa::avx512_core_amx, "avx512_core_amx, with VNNI"}};
    const dnnl::cpu_isa effective = dnnl::get_effective_cpu_isa();
    std::string isa = "another instruction set";
    for (const auto& [value, name] : names)
      if (value == effective) isa = name;
    const dnnl_version_t* v = dnnl_version();
    return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
           std::to_string(v->patch) + " (" + isa + ")";
  }();
  return text.c_str();
}

}  // namespace s2s::cpu
