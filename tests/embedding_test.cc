// ops::embedding_fwd/bwd and the Embedding layer: lookups, padding, exact gradients (double
// precision finite differences), f32 against f64, and the errors bad ids and shapes raise.
#include <gtest/gtest.h>

#include "seq2seq/layers/embedding.h"
#include "seq2seq/ops/embedding.h"
#include "tests/test_util.h"

namespace s2s {
namespace {

using testing::cast;
using testing::gradient_check;
using testing::random_tensor;
using testing::relative_norm_error;
using testing::values;
using testing::weighted_sum;

Tensor ids_tensor(const std::vector<int32_t>& ids) {
  return Tensor::from_vector<int32_t>(ids, {static_cast<int64_t>(ids.size())});
}

TEST(EmbeddingOp, CopiesRowsAndZeroesPadding) {
  const int64_t v = 5, e = 3;
  Tensor table = random_tensor({v, e}, DType::f64, 1);
  const std::vector<int32_t> ids = {4, 0, 2, 2, 1};
  Tensor out = Tensor::empty({5, e}, DType::f64);
  out.fill(std::nan(""));
  ops::embedding_fwd(table, ids_tensor(ids), out, /*pad_id=*/2);
  const auto t = values(table), o = values(out);
  for (size_t n = 0; n < ids.size(); ++n)
    for (int64_t j = 0; j < e; ++j)
      EXPECT_EQ(o[n * e + j], ids[n] == 2 ? 0.0 : t[ids[n] * e + j]) << n << "," << j;
}

TEST(EmbeddingOp, GradientIsExactAndSkipsPadding) {
  const int64_t v = 6, e = 4;
  const std::vector<int32_t> id_list = {3, 1, 3, 0, 5, 1, 3, 0};  // repeats accumulate
  const Tensor ids = ids_tensor(id_list);
  const int32_t pad_id = 0;
  Tensor table = random_tensor({v, e}, DType::f64, 2);
  const Tensor dout = random_tensor({8, e}, DType::f64, 3);
  Tensor dtable = Tensor::zeros({v, e}, DType::f64);
  ops::embedding_bwd(ids, dout, dtable, pad_id);
  Tensor out = Tensor::empty({8, e}, DType::f64);
  auto loss = [&] {
    ops::embedding_fwd(table, ids, out, pad_id);
    return weighted_sum(out, dout);
  };
  EXPECT_LT(gradient_check(loss, table, dtable), 1e-6);
  for (double g : values(dtable.select(pad_id)))
    EXPECT_EQ(g, 0.0);
  for (double g : values(dtable.select(2)))  // an unused id
    EXPECT_EQ(g, 0.0);
  // Accumulates: a second call doubles the gradient.
  const std::vector<double> once = values(dtable);
  ops::embedding_bwd(ids, dout, dtable, pad_id);
  const std::vector<double> twice = values(dtable);
  for (size_t i = 0; i < once.size(); ++i)
    EXPECT_DOUBLE_EQ(twice[i], 2 * once[i]);
}

TEST(EmbeddingOp, FloatMatchesDouble) {
  Tensor table = random_tensor({7, 5}, DType::f64, 4);
  const Tensor ids = ids_tensor({6, 0, 3, 3, 1});
  Tensor out64 = Tensor::empty({5, 5}, DType::f64), out32 = Tensor::empty({5, 5}, DType::f32);
  ops::embedding_fwd(table, ids, out64, 1);
  ops::embedding_fwd(cast(table, DType::f32), ids, out32, 1);
  EXPECT_LT(relative_norm_error(values(out32), values(out64)), 1e-7);  // a copy: f32 rounding only
}

TEST(EmbeddingOp, RejectsBadIdsAndShapes) {
  Tensor table = Tensor::zeros({5, 3}, DType::f32);
  Tensor out = Tensor::zeros({2, 3}, DType::f32);
  try {
    ops::embedding_fwd(table, ids_tensor({1, 7}), out);
    FAIL() << "an id outside the vocabulary was accepted";
  } catch (const InvalidArgument& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("id 7"), std::string::npos) << what;
    EXPECT_NE(what.find("V = 5"), std::string::npos) << what;
  }
  EXPECT_THROW(ops::embedding_fwd(table, ids_tensor({1, -1}), out), InvalidArgument);    // no pad
  EXPECT_THROW(ops::embedding_fwd(table, ids_tensor({1, 2}), out, 5), InvalidArgument);  // pad_id
  EXPECT_THROW(ops::embedding_fwd(table, ids_tensor({1, 2, 3}), out), ShapeError);
  Tensor float_ids = Tensor::zeros({2}, DType::f32);
  EXPECT_THROW(ops::embedding_fwd(table, float_ids, out), InvalidArgument);
  Tensor dtable = Tensor::zeros({5, 3}, DType::f32);
  EXPECT_THROW(ops::embedding_bwd(ids_tensor({0, 5}), out, dtable), InvalidArgument);
  Tensor dout_wide = Tensor::zeros({2, 4}, DType::f32);
  EXPECT_THROW(ops::embedding_bwd(ids_tensor({0, 1}), dout_wide, dtable), ShapeError);
}

TEST(EmbeddingLayer, ForwardShapeParametersAndGradient) {
  EmbeddingOptions options;
  options.vocab_size = 9;
  options.embed_size = 4;
  options.pad_id = 0;
  options.dtype = DType::f64;
  options.name = "encoder.embedding";
  options.seed = 11;
  Embedding layer(options);
  ASSERT_EQ(layer.parameters().size(), 1u);
  EXPECT_EQ(layer.parameters()[0]->name, "encoder.embedding.weight");
  for (double w : values(layer.weight().value.select(0)))
    EXPECT_EQ(w, 0.0);

  // [T, B] ids with padding at the ends of shorter columns.
  const Tensor ids = Tensor::from_vector<int32_t>({1, 5, 8, 2, 5, 0, 3, 0, 0}, {3, 3});
  const Tensor dout = random_tensor({3, 3, 4}, DType::f64, 12);
  Tensor out = layer.forward(ids);
  EXPECT_EQ(out.shape(), (Shape{3, 3, 4}));
  layer.zero_grad();
  layer.backward(dout);
  const Tensor grad = layer.weight().grad.clone();
  auto loss = [&] { return weighted_sum(layer.forward(ids), dout); };
  EXPECT_LT(gradient_check(loss, layer.weight().value, grad), 1e-6);
  for (double g : values(grad.select(0)))
    EXPECT_EQ(g, 0.0);

  EXPECT_THROW(layer.forward(Tensor::from_vector<int32_t>({9}, {1})), InvalidArgument);
  EXPECT_THROW(layer.backward(Tensor::zeros({3, 3, 5}, DType::f64)), ShapeError);
  options.pad_id = 9;
  EXPECT_THROW(Embedding{options}, ConfigError);
}

}  // namespace
}  // namespace s2s
