// Attention: validation (shapes, v against the kind, every mask column non-empty) and dispatch.
#include "seq2seq/ops/attention.h"

#include "seq2seq/cpu/attention_cpu.h"
#include "seq2seq/cuda_backend.h"
#include "seq2seq/ops/check.h"
#include "seq2seq/profiler.h"

namespace s2s::ops {

const char* attention_kind_name(AttentionKind kind) {
  return kind == AttentionKind::general ? "general" : "additive";
}

namespace {

struct Dims {
  int64_t s, b, d, dv;
};

void check_mask_columns(const char* op, const Tensor& mask, int64_t s, int64_t empty) {
  S2S_CHECK(empty < 0, op, ": mask column ", empty, " has no real position (all ", s,
            " masked); every sentence needs at least one (", mask.str(), ")");
}

// The checks both directions share.
Dims check_inputs(const char* op, AttentionKind kind, const Tensor& keys, const Tensor& query,
                  const Tensor& v, const Tensor& values, const Tensor& mask) {
  check::shape(op, "keys", keys, {-1, -1, -1});
  check::floating(op, "keys", keys);
  const int64_t s = keys.dim(0), b = keys.dim(1), d = keys.dim(2);
  check::shape(op, "query", query, {b, d});
  check::same_kind(op, "keys", keys, "query", query);
  check::shape(op, "values", values, {s, b, -1});
  check::same_kind(op, "keys", keys, "values", values);
  check::shape(op, "mask", mask, {s, b});
  check::same_kind(op, "keys", keys, "mask", mask);
  const Dims dims{s, b, d, values.dim(2)};
  if (kind == AttentionKind::additive) {
    check::shape(op, "v", v, {dims.d});
    check::same_kind(op, "keys", keys, "v", v);
  } else {
    S2S_CHECK(!v.defined(), op, ": v (", v.str(), ") is given, but the general kind has none");
  }
  return dims;
}

template <typename T>
const T* data_or_null(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}
template <typename T>
T* mutable_data_or_null(Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

}  // namespace

void attention_fwd(AttentionKind kind, const Tensor& keys, const Tensor& query, const Tensor& v,
                   const Tensor& values, const Tensor& mask, Tensor& weights, Tensor& context) {
  constexpr const char* op = "attention_fwd";
  const profile::Scope scope("attention");
  const Dims n = check_inputs(op, kind, keys, query, v, values, mask);
  check::shape(op, "weights", weights, {n.b, n.s});
  check::same_kind(op, "keys", keys, "weights", weights);
  check::shape(op, "context", context, {n.b, n.dv});
  check::same_kind(op, "keys", keys, "context", context);
  const bool additive = kind == AttentionKind::additive;
  if (keys.device().is_cuda()) {
    check_mask_columns(op, mask, n.s, cuda::first_empty_column(mask));
    return cuda::attention_fwd(additive, keys, query, v, values, mask, weights, context);
  }
  dispatch_floating(keys.dtype(), [&]<typename T>() {
    check_mask_columns(op, mask, n.s, cpu::first_empty_column<T>(mask.data<T>(), n.s, n.b));
    cpu::attention_fwd<T>(additive, keys.data<T>(), query.data<T>(), data_or_null<T>(v),
                          values.data<T>(), mask.data<T>(), n.s, n.b, n.d, n.dv, weights.data<T>(),
                          context.data<T>());
  });
}

void attention_bwd(AttentionKind kind, const Tensor& keys, const Tensor& query, const Tensor& v,
                   const Tensor& values, const Tensor& mask, const Tensor& weights,
                   const Tensor& dcontext, const Tensor& dweights, Tensor& dkeys, Tensor& dquery,
                   Tensor& dv, Tensor& dvalues) {
  constexpr const char* op = "attention_bwd";
  const Dims n = check_inputs(op, kind, keys, query, v, values, mask);
  check::shape(op, "weights", weights, {n.b, n.s});
  check::same_kind(op, "keys", keys, "weights", weights);
  check::shape(op, "dcontext", dcontext, {n.b, n.dv});
  check::same_kind(op, "keys", keys, "dcontext", dcontext);
  if (dweights.defined()) {
    check::shape(op, "dweights", dweights, {n.b, n.s});
    check::same_kind(op, "keys", keys, "dweights", dweights);
  }
  check::shape(op, "dkeys", dkeys, {n.s, n.b, n.d});
  check::same_kind(op, "keys", keys, "dkeys", dkeys);
  check::shape(op, "dquery", dquery, {n.b, n.d});
  check::same_kind(op, "keys", keys, "dquery", dquery);
  if (kind == AttentionKind::additive) {
    check::shape(op, "dv", dv, {n.d});
    check::same_kind(op, "keys", keys, "dv", dv);
  } else {
    S2S_CHECK(!dv.defined(), op, ": dv (", dv.str(), ") is given, but the general kind has no v");
  }
  check::shape(op, "dvalues", dvalues, {n.s, n.b, n.dv});
  check::same_kind(op, "keys", keys, "dvalues", dvalues);
  if (keys.device().is_cuda())
    return cuda::attention_bwd(kind == AttentionKind::additive, keys, query, v, values, mask,
                               weights, dcontext, dweights, dkeys, dquery, dv, dvalues);
  dispatch_floating(keys.dtype(), [&]<typename T>() {
    cpu::attention_bwd<T>(kind == AttentionKind::additive, keys.data<T>(), query.data<T>(),
                          data_or_null<T>(v), values.data<T>(), mask.data<T>(), weights.data<T>(),
                          dcontext.data<T>(), data_or_null<T>(dweights), n.s, n.b, n.d, n.dv,
                          dkeys.data<T>(), dquery.data<T>(), mutable_data_or_null<T>(dv),
                          dvalues.data<T>());
  });
}

}  // namespace s2s::ops
