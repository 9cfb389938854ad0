// ops::attention_fwd/bwd and the Attention layer, both kinds: softmax properties under padding,
// exact gradients of every input and parameter (double-precision finite differences) including a
// multi-step teacher-forced sequence, padding invariance, f32 against f64, and bad inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "seq2seq/layers/attention.h"
#include "seq2seq/ops/attention.h"
#include "tests/test_util.h"

namespace s2s {
namespace {

using ops::AttentionKind;
using testing::cast;
using testing::gradient_check;
using testing::random_tensor;
using testing::relative_norm_error;
using testing::values;
using testing::weighted_sum;

constexpr AttentionKind kKinds[] = {AttentionKind::general, AttentionKind::additive};

// A [S, B] mask with column b real for its first lengths[b] positions.
Tensor make_mask(const std::vector<int64_t>& lengths, int64_t s, DType dtype) {
  const int64_t b = static_cast<int64_t>(lengths.size());
  Tensor mask = Tensor::zeros({s, b}, dtype);
  for (int64_t j = 0; j < b; ++j)
    for (int64_t i = 0; i < lengths[j]; ++i)
      mask.dtype() == DType::f64 ? void(mask.data<double>()[i * b + j] = 1)
                                 : void(mask.data<float>()[i * b + j] = 1);
  return mask;
}

// Random lengths in [1, s] with the longest column exactly s, as a batcher pads.
std::vector<int64_t> random_lengths(int64_t s, int64_t b, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<int64_t> lengths(b);
  for (auto& l : lengths)
    l = 1 + static_cast<int64_t>(rng() % s);
  lengths[rng() % b] = s;
  return lengths;
}

// Writes value into every padded row of a [S, B, D] f64 tensor.
void fill_padding(Tensor& t, const std::vector<int64_t>& lengths, double value) {
  const int64_t s = t.dim(0), b = t.dim(1), d = t.dim(2);
  for (int64_t j = 0; j < b; ++j)
    for (int64_t i = lengths[j]; i < s; ++i)
      for (int64_t k = 0; k < d; ++k)
        t.data<double>()[(i * b + j) * d + k] = value;
}

// Column j of a [S, B, ...] tensor, first `length` positions, as [length, 1, ...].
Tensor column(const Tensor& t, int64_t j, int64_t length) {
  std::vector<int64_t> dims = t.shape().dims();
  const int64_t b = dims[1];
  int64_t inner = 1;
  for (size_t k = 2; k < dims.size(); ++k)
    inner *= dims[k];
  dims[0] = length;
  dims[1] = 1;
  Tensor out = Tensor::empty(Shape(dims), t.dtype());
  for (int64_t i = 0; i < length; ++i)
    for (int64_t k = 0; k < inner; ++k)
      out.data<double>()[i * inner + k] = t.data<double>()[(i * b + j) * inner + k];
  return out;
}

// One op-level problem in double precision.
struct Problem {
  AttentionKind kind;
  int64_t s, b, d, dv;
  std::vector<int64_t> lengths;
  Tensor keys, query, v, values, mask;

  Problem(AttentionKind kind_, int64_t s_, int64_t b_, int64_t d_, int64_t dv_, uint64_t seed)
      : kind(kind_), s(s_), b(b_), d(d_), dv(dv_), lengths(random_lengths(s_, b_, seed)) {
    keys = random_tensor({s, b, d}, DType::f64, seed + 1, -1.5, 1.5);
    query = random_tensor({b, d}, DType::f64, seed + 2, -1.5, 1.5);
    if (kind == AttentionKind::additive) v = random_tensor({d}, DType::f64, seed + 3);
    values = random_tensor({s, b, dv}, DType::f64, seed + 4);
    mask = make_mask(lengths, s, DType::f64);
  }
  Tensor weights() const { return Tensor::empty({b, s}, keys.dtype()); }
  Tensor context() const { return Tensor::empty({b, dv}, keys.dtype()); }
};

TEST(AttentionOp, WeightsSumToOneAndPaddingIsExactlyZero) {
  for (AttentionKind kind : kKinds) {
    Problem p(kind, 6, 4, 5, 3, 10);
    Tensor w = p.weights(), c = p.context();
    ops::attention_fwd(kind, p.keys, p.query, p.v, p.values, p.mask, w, c);
    const auto wv = values(w);
    for (int64_t j = 0; j < p.b; ++j) {
      double sum = 0;
      for (int64_t i = 0; i < p.s; ++i) {
        if (i >= p.lengths[j])
          EXPECT_EQ(wv[j * p.s + i], 0.0) << "padded weight " << i << "," << j;
        else
          EXPECT_GT(wv[j * p.s + i], 0.0);
        sum += wv[j * p.s + i];
      }
      EXPECT_NEAR(sum, 1.0, 1e-14) << ops::attention_kind_name(kind) << " column " << j;
    }
  }
}

TEST(AttentionOp, GradientsOfEveryInputAreExact) {
  uint64_t seed = 20;
  for (AttentionKind kind : kKinds)
    for (bool with_dweights : {false, true}) {
      // A random small shape per case.
      std::mt19937_64 rng(seed);
      Problem p(kind, 2 + rng() % 4, 1 + rng() % 3, 1 + rng() % 4, 1 + rng() % 3, seed);
      seed += 10;
      const Tensor dcontext = random_tensor({p.b, p.dv}, DType::f64, seed + 5);
      const Tensor dweights =
          with_dweights ? random_tensor({p.b, p.s}, DType::f64, seed + 6) : Tensor();
      Tensor w = p.weights(), c = p.context();
      ops::attention_fwd(kind, p.keys, p.query, p.v, p.values, p.mask, w, c);
      Tensor dkeys = Tensor::zeros(p.keys.shape(), DType::f64);
      Tensor dquery = Tensor::zeros(p.query.shape(), DType::f64);
      Tensor dv = p.v.defined() ? Tensor::zeros(p.v.shape(), DType::f64) : Tensor();
      Tensor dvalues = Tensor::zeros(p.values.shape(), DType::f64);
      ops::attention_bwd(kind, p.keys, p.query, p.v, p.values, p.mask, w, dcontext, dweights, dkeys,
                         dquery, dv, dvalues);
      auto loss = [&] {
        Tensor lw = p.weights(), lc = p.context();
        ops::attention_fwd(kind, p.keys, p.query, p.v, p.values, p.mask, lw, lc);
        return weighted_sum(lc, dcontext) + (with_dweights ? weighted_sum(lw, dweights) : 0.0);
      };
      const std::string label = std::string(ops::attention_kind_name(kind)) +
                                (with_dweights ? " with dweights" : "") +
                                " S=" + std::to_string(p.s) + " B=" + std::to_string(p.b);
      EXPECT_LT(gradient_check(loss, p.keys, dkeys), 1e-6) << "keys, " << label;
      EXPECT_LT(gradient_check(loss, p.query, dquery), 1e-6) << "query, " << label;
      EXPECT_LT(gradient_check(loss, p.values, dvalues), 1e-6) << "values, " << label;
      if (p.v.defined()) {
        EXPECT_LT(gradient_check(loss, p.v, dv), 1e-6) << "v, " << label;
      }

      // Accumulation: a second backward adds the same gradients again.
      const std::vector<double> once = values(dkeys);
      ops::attention_bwd(kind, p.keys, p.query, p.v, p.values, p.mask, w, dcontext, dweights, dkeys,
                         dquery, dv, dvalues);
      const std::vector<double> twice = values(dkeys);
      for (size_t i = 0; i < once.size(); ++i)
        EXPECT_DOUBLE_EQ(twice[i], 2 * once[i]);
    }
}

TEST(AttentionOp, PaddedMemoryGivesTheUnpaddedResult) {
  for (AttentionKind kind : kKinds) {
    Problem p(kind, 5, 4, 3, 2, 40);
    // Padding is never read: NaN there must not reach any result.
    fill_padding(p.keys, p.lengths, std::nan(""));
    fill_padding(p.values, p.lengths, std::nan(""));
    Tensor w = p.weights(), c = p.context();
    ops::attention_fwd(kind, p.keys, p.query, p.v, p.values, p.mask, w, c);
    const Tensor dcontext = random_tensor({p.b, p.dv}, DType::f64, 41);
    Tensor dkeys = Tensor::zeros(p.keys.shape(), DType::f64);
    Tensor dquery = Tensor::zeros(p.query.shape(), DType::f64);
    Tensor dv = p.v.defined() ? Tensor::zeros(p.v.shape(), DType::f64) : Tensor();
    Tensor dvalues = Tensor::zeros(p.values.shape(), DType::f64);
    ops::attention_bwd(kind, p.keys, p.query, p.v, p.values, p.mask, w, dcontext, Tensor(), dkeys,
                       dquery, dv, dvalues);
    Tensor dv_sum = p.v.defined() ? Tensor::zeros(p.v.shape(), DType::f64) : Tensor();
    for (int64_t j = 0; j < p.b; ++j) {
      const int64_t len = p.lengths[j];
      const Tensor keys = column(p.keys, j, len), values_j = column(p.values, j, len);
      const Tensor query = p.query.slice(j, j + 1).clone();
      const Tensor mask = Tensor::from_vector<double>(std::vector<double>(len, 1.0), {len, 1});
      Tensor wj = Tensor::empty({1, len}, DType::f64), cj = Tensor::empty({1, p.dv}, DType::f64);
      ops::attention_fwd(kind, keys, query, p.v, values_j, mask, wj, cj);
      const auto wv = values(w), cv = values(c), wjv = values(wj), cjv = values(cj);
      for (int64_t i = 0; i < len; ++i)
        EXPECT_NEAR(wv[j * p.s + i], wjv[i], 1e-15);
      for (int64_t k = 0; k < p.dv; ++k)
        EXPECT_NEAR(cv[j * p.dv + k], cjv[k], 1e-15);

      Tensor dkj = Tensor::zeros(keys.shape(), DType::f64);
      Tensor dqj = Tensor::zeros(query.shape(), DType::f64);
      Tensor dvalj = Tensor::zeros(values_j.shape(), DType::f64);
      ops::attention_bwd(kind, keys, query, p.v, values_j, mask, wj,
                         dcontext.slice(j, j + 1).clone(), Tensor(), dkj, dqj, dv_sum, dvalj);
      EXPECT_LT(testing::max_relative_error(values(dkj), values(column(dkeys, j, len))), 1e-12);
      EXPECT_LT(testing::max_relative_error(values(dqj), values(dquery.slice(j, j + 1))), 1e-12);
      EXPECT_LT(testing::max_relative_error(values(dvalj), values(column(dvalues, j, len))), 1e-12);
      // Padded positions get exactly zero gradient.
      const Tensor dk_full = column(dkeys, j, p.s), dval_full = column(dvalues, j, p.s);
      for (int64_t i = len; i < p.s; ++i) {
        for (int64_t k = 0; k < p.d; ++k)
          EXPECT_EQ(dk_full.data<double>()[i * p.d + k], 0.0);
        for (int64_t k = 0; k < p.dv; ++k)
          EXPECT_EQ(dval_full.data<double>()[i * p.dv + k], 0.0);
      }
    }
    if (p.v.defined()) {
      EXPECT_LT(testing::max_relative_error(values(dv_sum), values(dv)), 1e-12);
    }
  }
}

TEST(AttentionOp, FloatMatchesDouble) {
  for (AttentionKind kind : kKinds) {
    Problem p(kind, 9, 5, 16, 12, 50);
    Tensor w64 = p.weights(), c64 = p.context();
    ops::attention_fwd(kind, p.keys, p.query, p.v, p.values, p.mask, w64, c64);
    const DType f = DType::f32;
    Tensor w32 = Tensor::empty({p.b, p.s}, f), c32 = Tensor::empty({p.b, p.dv}, f);
    ops::attention_fwd(kind, cast(p.keys, f), cast(p.query, f),
                       p.v.defined() ? cast(p.v, f) : Tensor(), cast(p.values, f), cast(p.mask, f),
                       w32, c32);
    EXPECT_LT(relative_norm_error(values(w32), values(w64)), 1e-5);
    EXPECT_LT(relative_norm_error(values(c32), values(c64)), 1e-5);
  }
}

TEST(AttentionOp, RejectsBadInputs) {
  Problem p(AttentionKind::additive, 4, 3, 2, 2, 60);
  Tensor w = p.weights(), c = p.context();
  const auto fwd = [&](AttentionKind kind, const Tensor& keys, const Tensor& query, const Tensor& v,
                       const Tensor& mask) {
    ops::attention_fwd(kind, keys, query, v, p.values, mask, w, c);
  };
  Tensor empty_column = p.mask.clone();
  for (int64_t i = 0; i < p.s; ++i)
    empty_column.data<double>()[i * p.b + 1] = 0;
  try {
    fwd(p.kind, p.keys, p.query, p.v, empty_column);
    FAIL() << "an all-masked column was accepted";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("mask column 1"), std::string::npos) << e.what();
  }
  EXPECT_THROW(fwd(p.kind, p.keys, p.query, Tensor(), p.mask), ShapeError);  // additive needs v
  EXPECT_THROW(fwd(AttentionKind::general, p.keys, p.query, p.v, p.mask), InvalidArgument);
  EXPECT_THROW(fwd(p.kind, p.keys, Tensor::zeros({p.b, p.d + 1}, DType::f64), p.v, p.mask),
               ShapeError);
  EXPECT_THROW(fwd(p.kind, p.keys, p.query, p.v, Tensor::zeros({p.s, p.b + 1}, DType::f64)),
               ShapeError);
  EXPECT_THROW(fwd(p.kind, p.keys, cast(p.query, DType::f32), p.v, p.mask), InvalidArgument);
  Tensor wide_weights = Tensor::empty({p.b, p.s + 1}, DType::f64);
  EXPECT_THROW(ops::attention_fwd(p.kind, p.keys, p.query, p.v, p.values, p.mask, wide_weights, c),
               ShapeError);
}

// ---- the layer -------------------------------------------------------------------------------

AttentionOptions layer_options(AttentionKind kind, DType dtype) {
  AttentionOptions options;
  options.kind = kind;
  options.query_size = 3;
  options.memory_size = 4;
  options.attention_size = 5;
  options.dtype = dtype;
  options.name = "decoder.attention";
  options.seed = 7;
  return options;
}

TEST(AttentionLayer, ParametersAreNamedPerKind) {
  Attention general(layer_options(AttentionKind::general, DType::f32));
  ASSERT_EQ(general.parameters().size(), 1u);
  EXPECT_EQ(general.parameters()[0]->name, "decoder.attention.w_key");
  EXPECT_EQ(general.w_key().value.shape(), (Shape{3, 4}));
  Attention additive(layer_options(AttentionKind::additive, DType::f32));
  ASSERT_EQ(additive.parameters().size(), 3u);
  EXPECT_EQ(additive.parameters()[1]->name, "decoder.attention.w_query");
  EXPECT_EQ(additive.parameters()[2]->name, "decoder.attention.v");
  EXPECT_EQ(additive.w_key().value.shape(), (Shape{5, 4}));
  EXPECT_EQ(additive.w_query().value.shape(), (Shape{5, 3}));
}

// Teacher forcing over U steps: the loss sums every step's context and weights against fixed
// random directions; every query, the memory and every parameter are checked.
TEST(AttentionLayer, MultiStepGradientsAreExact) {
  const int64_t s = 5, b = 3, steps = 3;
  for (AttentionKind kind : kKinds) {
    const std::string label = ops::attention_kind_name(kind);
    Attention layer(layer_options(kind, DType::f64));
    const auto lengths = random_lengths(s, b, 70);
    Tensor memory = random_tensor({s, b, 4}, DType::f64, 71);
    const Tensor mask = make_mask(lengths, s, DType::f64);
    std::vector<Tensor> queries, dcontexts, dweights;
    for (int64_t u = 0; u < steps; ++u) {
      queries.push_back(random_tensor({b, 3}, DType::f64, 80 + u, -2, 2));
      dcontexts.push_back(random_tensor({b, 4}, DType::f64, 90 + u));
      // The middle step has no weight gradient, as in a decoder without coverage.
      dweights.push_back(u == 1 ? Tensor() : random_tensor({b, s}, DType::f64, 100 + u));
    }
    auto loss = [&] {
      layer.precompute(memory, mask);
      double total = 0;
      for (int64_t u = 0; u < steps; ++u) {
        const AttentionOutput out = layer.infer_step(queries[u]);
        total += weighted_sum(out.context, dcontexts[u]);
        if (dweights[u].defined()) total += weighted_sum(out.weights, dweights[u]);
      }
      return total;
    };

    layer.zero_grad();
    layer.precompute(memory, mask);
    for (int64_t u = 0; u < steps; ++u)
      layer.forward_step(queries[u]);
    EXPECT_EQ(layer.recorded_steps(), steps);
    std::vector<Tensor> dqueries(steps);
    for (int64_t u = steps - 1; u >= 0; --u)
      dqueries[u] = layer.backward_step(dcontexts[u], dweights[u]);
    const Tensor dmemory = layer.finish_backward();
    EXPECT_EQ(layer.recorded_steps(), 0);

    EXPECT_LT(gradient_check(loss, memory, dmemory), 1e-6) << "memory, " << label;
    for (int64_t u = 0; u < steps; ++u)
      EXPECT_LT(gradient_check(loss, queries[u], dqueries[u]), 1e-6) << "query " << u << label;
    for (Parameter* param : layer.parameters())
      EXPECT_LT(gradient_check(loss, param->value, param->grad), 1e-6) << param->name;
  }
}

TEST(AttentionLayer, InferStepMatchesForwardStepAndRecordsNothing) {
  for (AttentionKind kind : kKinds) {
    Attention layer(layer_options(kind, DType::f64));
    const auto lengths = random_lengths(6, 4, 110);
    const Tensor memory = random_tensor({6, 4, 4}, DType::f64, 111);
    layer.precompute(memory, make_mask(lengths, 6, DType::f64));
    const Tensor query = random_tensor({4, 3}, DType::f64, 112);
    const AttentionOutput inferred = layer.infer_step(query);
    EXPECT_EQ(layer.recorded_steps(), 0);
    const AttentionOutput trained = layer.forward_step(query);
    EXPECT_EQ(layer.recorded_steps(), 1);
    EXPECT_EQ(values(inferred.context), values(trained.context));
    EXPECT_EQ(values(inferred.weights), values(trained.weights));
    layer.precompute(memory, make_mask(lengths, 6, DType::f64));  // a new batch drops the record
    EXPECT_EQ(layer.recorded_steps(), 0);
  }
}

TEST(AttentionLayer, PaddedMemoryGivesTheUnpaddedResult) {
  for (AttentionKind kind : kKinds) {
    Attention layer(layer_options(kind, DType::f64));
    const int64_t s = 6, b = 4;
    const auto lengths = random_lengths(s, b, 120);
    Tensor memory = random_tensor({s, b, 4}, DType::f64, 121);
    fill_padding(memory, lengths, 1e3);  // garbage an encoder might leave past the end
    const Tensor query = random_tensor({b, 3}, DType::f64, 122);
    layer.precompute(memory, make_mask(lengths, s, DType::f64));
    const AttentionOutput padded = layer.infer_step(query);
    for (int64_t j = 0; j < b; ++j) {
      const int64_t len = lengths[j];
      layer.precompute(column(memory, j, len),
                       Tensor::from_vector<double>(std::vector<double>(len, 1.0), {len, 1}));
      const AttentionOutput alone = layer.infer_step(query.slice(j, j + 1).clone());
      EXPECT_LT(testing::max_relative_error(values(alone.context),
                                            values(padded.context.slice(j, j + 1))),
                1e-12);
      const auto pw = values(padded.weights.slice(j, j + 1)), aw = values(alone.weights);
      for (int64_t i = 0; i < s; ++i)
        EXPECT_NEAR(pw[i], i < len ? aw[i] : 0.0, 1e-14) << i;
    }
  }
}

TEST(AttentionLayer, FloatMatchesDouble) {
  for (AttentionKind kind : kKinds) {
    Attention l64(layer_options(kind, DType::f64)), l32(layer_options(kind, DType::f32));
    const auto lengths = random_lengths(7, 5, 130);
    const Tensor memory = random_tensor({7, 5, 4}, DType::f64, 131);
    const Tensor mask = make_mask(lengths, 7, DType::f64);
    const Tensor query = random_tensor({5, 3}, DType::f64, 132);
    l64.precompute(memory, mask);
    l32.precompute(cast(memory, DType::f32), cast(mask, DType::f32));
    const AttentionOutput o64 = l64.infer_step(query);
    const AttentionOutput o32 = l32.infer_step(cast(query, DType::f32));
    EXPECT_LT(relative_norm_error(values(o32.context), values(o64.context)), 1e-5);
    EXPECT_LT(relative_norm_error(values(o32.weights), values(o64.weights)), 1e-5);
  }
}

TEST(AttentionLayer, RejectsMisuse) {
  Attention layer(layer_options(AttentionKind::additive, DType::f64));
  const Tensor query = Tensor::zeros({2, 3}, DType::f64);
  EXPECT_THROW(layer.forward_step(query), InvalidArgument);  // before precompute
  const Tensor memory = random_tensor({3, 2, 4}, DType::f64, 140);
  const Tensor mask = make_mask({3, 1}, 3, DType::f64);
  EXPECT_THROW(layer.precompute(random_tensor({3, 2, 5}, DType::f64, 141), mask), ShapeError);
  EXPECT_THROW(layer.precompute(memory, Tensor::zeros({3, 3}, DType::f64)), ShapeError);
  EXPECT_THROW(layer.precompute(cast(memory, DType::f32), cast(mask, DType::f32)), InvalidArgument);
  layer.precompute(memory, mask);
  EXPECT_THROW(layer.forward_step(Tensor::zeros({3, 3}, DType::f64)), ShapeError);
  EXPECT_THROW(layer.backward_step(Tensor::zeros({2, 4}, DType::f64)), InvalidArgument);
  layer.forward_step(query);
  EXPECT_THROW(layer.backward_step(Tensor::zeros({2, 5}, DType::f64)), ShapeError);
  EXPECT_EQ(layer.recorded_steps(), 1);  // a rejected backward_step keeps the record
  EXPECT_THROW(layer.finish_backward(), InvalidArgument);
  layer.precompute(memory, make_mask({3, 0}, 3, DType::f64));
  EXPECT_THROW(layer.infer_step(query), InvalidArgument);  // column 1 is all padding

  AttentionOptions options = layer_options(AttentionKind::additive, DType::f64);
  options.attention_size = 0;
  EXPECT_THROW(Attention{options}, ConfigError);
}

}  // namespace
}  // namespace s2s
