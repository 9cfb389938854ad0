// Embedding: validation (shapes, pad_id, every id against the vocabulary size) and dispatch.
#include "seq2seq/ops/embedding.h"

#include <algorithm>

#include "seq2seq/cpu/embedding_cpu.h"
#include "seq2seq/cuda_backend.h"
#include "seq2seq/ops/check.h"

namespace s2s::ops {
namespace {

// Ids are checked before anything is written, so a bad batch leaves out / dtable untouched.
// Ids on a GPU are checked there (one kernel and a one-word copy back); the bad id itself is
// fetched only to name it in the error.
void check_ids(const char* op, const Tensor& ids, int64_t vocab, int32_t pad_id) {
  S2S_CHECK(pad_id >= -1 && pad_id < vocab, op, ": pad_id ", pad_id, " is neither -1 nor a row of ",
            "the table (V = ", vocab, ")");
  int64_t bad = -1;
  int32_t bad_id = 0;
  if (ids.device().is_cuda()) {
    bad = cuda::first_invalid_id(ids, vocab, cuda::kNoExtraId);
    if (bad >= 0) bad_id = ids.slice(bad, bad + 1).to_vector<int32_t>()[0];
  } else {
    const int32_t* p = ids.data<int32_t>();
    bad = cpu::first_invalid_id(p, ids.numel(), vocab);
    if (bad >= 0) bad_id = p[bad];
  }
  S2S_CHECK(bad < 0, op, ": id ", bad_id, " at position ", bad,
            " is outside the vocabulary [0, V = ", vocab, ")");
}

}  // namespace

void embedding_fwd(const Tensor& table, const Tensor& ids, Tensor& out, int32_t pad_id) {
  constexpr const char* op = "embedding_fwd";
  check::shape(op, "table", table, {-1, -1});
  check::floating(op, "table", table);
  check::shape(op, "ids", ids, {-1});
  check::dtype(op, "ids", ids, DType::i32);
  check::same_device(op, "table", table, "ids", ids);
  check::shape(op, "out", out, {ids.dim(0), table.dim(1)});
  check::same_kind(op, "table", table, "out", out);
  check_ids(op, ids, table.dim(0), pad_id);
  if (table.device().is_cuda()) return cuda::embedding_fwd(table, ids, out, pad_id);
  dispatch_floating(table.dtype(), [&]<typename T>() {
    cpu::embedding_fwd<T>(table.data<T>(), ids.data<int32_t>(), ids.dim(0), table.dim(1), pad_id,
                          out.data<T>());
  });
}

void embedding_fwd(const Int8Weight& table, const Tensor& ids, Tensor& out, int32_t pad_id) {
  constexpr const char* op = "embedding_fwd (int8)";
  S2S_CHECK(table.defined(), op, ": the table is not an int8 weight");
  check::shape(op, "ids", ids, {-1});
  check::dtype(op, "ids", ids, DType::i32);
  check::cpu_only(op, ids);
  check::shape(op, "out", out, {ids.dim(0), table.cols()});
  check::dtype(op, "out", out, DType::f32);
  check::cpu_only(op, out);
  check_ids(op, ids, table.rows(), pad_id);
  const int64_t n = ids.dim(0), e = table.cols();
  const int32_t* id = ids.data<int32_t>();
  const int8_t* values = table.values.data<int8_t>();
  const float* scales = table.scales.data<float>();
  float* o = out.data<float>();
  for (int64_t i = 0; i < n; ++i) {
    float* row = o + i * e;
    if (id[i] == pad_id) {
      std::fill_n(row, e, 0.0f);
      continue;
    }
    const int8_t* q = values + static_cast<int64_t>(id[i]) * e;
    const float s = scales[id[i]];
    for (int64_t j = 0; j < e; ++j)
      row[j] = s * static_cast<float>(q[j]);
  }
}

void embedding_bwd(const Tensor& ids, const Tensor& dout, Tensor& dtable, int32_t pad_id) {
  constexpr const char* op = "embedding_bwd";
  check::shape(op, "ids", ids, {-1});
  check::dtype(op, "ids", ids, DType::i32);
  check::shape(op, "dtable", dtable, {-1, -1});
  check::floating(op, "dtable", dtable);
  check::same_device(op, "dtable", dtable, "ids", ids);
  check::shape(op, "dout", dout, {ids.dim(0), dtable.dim(1)});
  check::same_kind(op, "dtable", dtable, "dout", dout);
  check_ids(op, ids, dtable.dim(0), pad_id);
  if (dtable.device().is_cuda()) return cuda::embedding_bwd(ids, dout, dtable, pad_id);
  dispatch_floating(dtable.dtype(), [&]<typename T>() {
    cpu::embedding_bwd<T>(ids.data<int32_t>(), dout.data<T>(), ids.dim(0), dtable.dim(1), pad_id,
                          dtable.data<T>());
  });
}

}  // namespace s2s::ops
