// Output layer: chunked loss/gradients equal the unchunked ones and central differences (hidden,
// weight, bias, tied weight), log_probs and loss_only agree with each other, float matches
// double, and bad inputs are rejected.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "seq2seq/error.h"
#include "seq2seq/layers/output.h"
#include "tests/test_util.h"

namespace s2s {
namespace {

using testing::cast;
using testing::gradient_check;
using testing::max_relative_error;
using testing::random_tensor;
using testing::relative_norm_error;
using testing::values;

constexpr int64_t kN = 7, kD = 5, kV = 11;
constexpr int32_t kPad = 0;
const ops::XentOptions kXent{.label_smoothing = 0.1, .pad_id = kPad, .grad_scale = 0.5};

Tensor targets() {
  return Tensor::from_vector<int32_t>({3, 10, kPad, 1, 7, kPad, 4}, {kN});
}

// An untied f64 layer with a non-zero bias (zeros would hide a missing bias term).
Output make_layer(int64_t chunk_rows, DType dtype = DType::f64) {
  Rng rng(42);
  Output out("decoder.output", kV, kD, rng, dtype, Device::cpu(), {.chunk_rows = chunk_rows});
  Rng bias_rng(43);
  init_uniform(out.bias().value, bias_rng, 0.5);
  return out;
}

TEST(Output, NamesShapesAndParameters) {
  Output out = make_layer(0);
  EXPECT_EQ(out.weight().name, "decoder.output.weight");
  EXPECT_EQ(out.weight().value.shape(), (Shape{kV, kD}));
  EXPECT_EQ(out.bias().name, "decoder.output.bias");
  EXPECT_EQ(out.parameters().size(), 2u);
  EXPECT_FALSE(out.tied());
  // Default chunk: 32 MiB of logits.
  Rng rng(1);
  Output big("out", 32000, 4, rng);
  EXPECT_EQ(big.chunk_rows(), (int64_t{32} << 20) / (32000 * 4));
}

TEST(Output, ChunkedEqualsUnchunked) {
  const Tensor h = random_tensor({kN, kD}, DType::f64, 1, -2, 2);
  Output chunked = make_layer(3);  // chunks of 3, 3, 1 rows
  Output whole = make_layer(100);
  Tensor dh_chunked, dh_whole;
  const ops::XentSums a = chunked.forward_backward_loss(h, targets(), kXent, dh_chunked);
  const ops::XentSums b = whole.forward_backward_loss(h, targets(), kXent, dh_whole);
  EXPECT_EQ(a.tokens, 5);
  EXPECT_EQ(b.tokens, 5);
  EXPECT_NEAR(a.loss, b.loss, 1e-12 * b.loss);
  EXPECT_NEAR(a.nll, b.nll, 1e-12 * b.nll);
  EXPECT_LT(max_relative_error(dh_chunked, dh_whole, 1e-12), 1e-12);
  EXPECT_LT(max_relative_error(chunked.weight().grad, whole.weight().grad, 1e-12), 1e-12);
  EXPECT_LT(max_relative_error(chunked.bias().grad, whole.bias().grad, 1e-12), 1e-12);
  // loss_only gives the same sums.
  const ops::XentSums c = chunked.loss_only(h, targets(), kXent);
  EXPECT_NEAR(c.loss, b.loss, 1e-12 * b.loss);
}

TEST(Output, GradientsMatchCentralDifferences) {
  Tensor h = random_tensor({kN, kD}, DType::f64, 2, -2, 2);
  Output out = make_layer(3);
  Tensor dh;
  out.forward_backward_loss(h, targets(), kXent, dh);
  const auto loss = [&] { return out.loss_only(h, targets(), kXent).loss * kXent.grad_scale; };
  EXPECT_LT(gradient_check(loss, h, dh), 1e-6) << "hidden";
  EXPECT_LT(gradient_check(loss, out.weight().value, out.weight().grad), 1e-6) << "weight";
  EXPECT_LT(gradient_check(loss, out.bias().value, out.bias().grad), 1e-6) << "bias";
}

TEST(Output, GradientsAccumulateAndDHiddenIsOverwritten) {
  const Tensor h = random_tensor({kN, kD}, DType::f64, 3);
  Output out = make_layer(4);
  Tensor dh1, dh2 = Tensor::empty({kN, kD}, DType::f64);
  dh2.fill(123.0);
  out.forward_backward_loss(h, targets(), kXent, dh1);
  const std::vector<double> w1 = values(out.weight().grad), b1 = values(out.bias().grad);
  out.forward_backward_loss(h, targets(), kXent, dh2);
  EXPECT_LT(max_relative_error(dh2, dh1), 1e-14);
  const std::vector<double> w2 = values(out.weight().grad), b2 = values(out.bias().grad);
  for (size_t i = 0; i < w1.size(); ++i)
    EXPECT_NEAR(w2[i], 2 * w1[i], 1e-14);
  for (size_t i = 0; i < b1.size(); ++i)
    EXPECT_NEAR(b2[i], 2 * b1[i], 1e-14);
}

TEST(Output, TiedWeightSharesValueAndGradient) {
  Parameter emb = Parameter::make("decoder.embedding.weight", {kV, kD}, DType::f64, Device::cpu());
  Rng rng(5);
  init_uniform(emb.value, rng, 0.5);
  const Tensor own_grad = random_tensor({kV, kD}, DType::f64, 6);  // the embedding's own part
  emb.grad.copy_from(own_grad);
  Output out("decoder.output", emb, {.chunk_rows = 2});
  EXPECT_TRUE(out.tied());
  ASSERT_EQ(out.parameters().size(), 1u);  // only the bias: the embedding lists the weight
  EXPECT_EQ(out.parameters()[0]->name, "decoder.output.bias");
  EXPECT_EQ(out.weight().value.raw_data(), emb.value.raw_data());

  Tensor h = random_tensor({kN, kD}, DType::f64, 7, -2, 2);
  Tensor dh;
  out.forward_backward_loss(h, targets(), kXent, dh);
  Tensor output_part = emb.grad.clone();
  for (int64_t i = 0; i < output_part.numel(); ++i)
    output_part.data<double>()[i] -= own_grad.data<double>()[i];
  const auto loss = [&] { return out.loss_only(h, targets(), kXent).loss * kXent.grad_scale; };
  EXPECT_LT(gradient_check(loss, emb.value, output_part), 1e-6) << "tied weight";
  EXPECT_LT(gradient_check(loss, h, dh), 1e-6) << "hidden";

  // The same numbers as an untied layer holding a copy of the weight.
  Rng unused(0);
  Output untied("u", kV, kD, unused, DType::f64, Device::cpu(), {.chunk_rows = 2});
  untied.weight().value.copy_from(emb.value);
  Tensor dh_untied;
  untied.forward_backward_loss(h, targets(), kXent, dh_untied);
  EXPECT_LT(max_relative_error(dh_untied, dh, 1e-12), 1e-12);
  EXPECT_LT(max_relative_error(untied.weight().grad, output_part, 1e-12), 1e-10);
}

TEST(Output, LogProbsAgreeWithLossOnly) {
  const Tensor h = random_tensor({kN, kD}, DType::f64, 8, -2, 2);
  Output out = make_layer(3);
  const Tensor lp = out.log_probs(h);
  ASSERT_EQ(lp.shape(), (Shape{kN, kV}));
  Tensor target_lp = Tensor::empty({kN}, DType::f64);
  const ops::XentSums s = out.loss_only(h, targets(), {.pad_id = -1}, &target_lp);
  EXPECT_EQ(s.tokens, kN);
  const std::vector<int32_t> t = targets().to_vector<int32_t>();
  double nll = 0;
  for (int64_t i = 0; i < kN; ++i) {
    double prob = 0;
    for (int64_t j = 0; j < kV; ++j)
      prob += std::exp(lp.data<double>()[i * kV + j]);
    EXPECT_NEAR(prob, 1.0, 1e-13);
    EXPECT_NEAR(target_lp.data<double>()[i], lp.data<double>()[i * kV + t[i]], 1e-13);
    nll -= lp.data<double>()[i * kV + t[i]];
  }
  EXPECT_NEAR(s.nll, nll, 1e-12 * nll);
}

TEST(Output, ShortlistRenormalizesOverTheAllowedIdsAndBlocksTheRest) {
  const Tensor h = random_tensor({kN, kD}, DType::f64, 9, -2, 2);
  Output out = make_layer(0);
  const std::vector<double> full = values(out.log_probs(h));
  const std::vector<int32_t> allowed = {0, 3, 4, 9, 10};
  out.restrict_vocabulary(allowed);
  EXPECT_EQ(out.allowed_vocabulary(), 5);
  const std::vector<double> lp = values(out.log_probs(h));
  for (int64_t i = 0; i < kN; ++i) {
    double mass = 0;  // the full model's probability of the allowed ids
    for (int32_t j : allowed)
      mass += std::exp(full[i * kV + j]);
    for (int64_t j = 0; j < kV; ++j) {
      const bool in = std::find(allowed.begin(), allowed.end(), j) != allowed.end();
      if (in)
        EXPECT_NEAR(lp[i * kV + j], full[i * kV + j] - std::log(mass), 1e-12);
      else
        EXPECT_EQ(lp[i * kV + j], -std::numeric_limits<double>::infinity());
    }
  }
  // Lifting the restriction gives the unrestricted bytes back; so does allowing every id.
  out.restrict_vocabulary({});
  EXPECT_EQ(values(out.log_probs(h)), full);
  std::vector<int32_t> every(kV);
  for (int32_t j = 0; j < kV; ++j)
    every[j] = j;
  out.restrict_vocabulary(every);
  EXPECT_EQ(values(out.log_probs(h)), full);
  EXPECT_THROW(out.restrict_vocabulary({3, 3}), InvalidArgument);
  EXPECT_THROW(out.restrict_vocabulary({4, 3}), InvalidArgument);
  EXPECT_THROW(out.restrict_vocabulary({0, kV}), InvalidArgument);
  EXPECT_THROW(out.restrict_vocabulary({-1, 2}), InvalidArgument);
}

TEST(Output, ShortlistOfAnInt8WeightEqualsTheSameRowsOfTheFullInt8Product) {
  const Tensor h = random_tensor({kN, kD}, DType::f32, 10, -2, 2);
  Output out = make_layer(0, DType::f32);
  out.weight().int8 = ops::quantize_rows(out.weight().value);
  out.weight().value = Tensor();
  const std::vector<float> full = out.log_probs(h).to_vector<float>();
  const std::vector<int32_t> allowed = {1, 2, 7};
  out.restrict_vocabulary(allowed);
  const std::vector<float> lp = out.log_probs(h).to_vector<float>();
  for (int64_t i = 0; i < kN; ++i) {
    double mass = 0;
    for (int32_t j : allowed)
      mass += std::exp(static_cast<double>(full[i * kV + j]));
    for (int32_t j : allowed)
      EXPECT_NEAR(lp[i * kV + j], full[i * kV + j] - std::log(mass), 1e-5);
    EXPECT_EQ(lp[i * kV + 5], -std::numeric_limits<float>::infinity());
  }
}

TEST(Output, FloatMatchesDouble) {
  const Tensor h64 = random_tensor({kN, kD}, DType::f64, 9, -2, 2);
  Output o64 = make_layer(3, DType::f64);
  Output o32 = make_layer(3, DType::f32);
  o32.weight().value.copy_from(cast(o64.weight().value, DType::f32));
  o32.bias().value.copy_from(cast(o64.bias().value, DType::f32));
  Tensor dh64, dh32;
  const ops::XentSums s64 = o64.forward_backward_loss(h64, targets(), kXent, dh64);
  const ops::XentSums s32 =
      o32.forward_backward_loss(cast(h64, DType::f32), targets(), kXent, dh32);
  EXPECT_LT(std::abs(s32.loss - s64.loss) / s64.loss, 1e-5);
  EXPECT_LT(relative_norm_error(dh32, dh64), 1e-5);
  EXPECT_LT(relative_norm_error(o32.weight().grad, o64.weight().grad), 1e-5);
  EXPECT_LT(relative_norm_error(o32.log_probs(cast(h64, DType::f32)), o64.log_probs(h64)), 1e-5);
}

TEST(Output, RejectsBadInputs) {
  Output out = make_layer(3);
  Tensor dh;
  const Tensor h = Tensor::zeros({kN, kD}, DType::f64);
  EXPECT_THROW(
      out.forward_backward_loss(Tensor::zeros({kN, kD + 1}, DType::f64), targets(), kXent, dh),
      ShapeError);
  EXPECT_THROW(out.forward_backward_loss(h, Tensor::from_vector<int32_t>({1, 2}, {2}), kXent, dh),
               ShapeError);
  EXPECT_THROW(out.forward_backward_loss(Tensor::zeros({kN, kD}, DType::f32), targets(), kXent, dh),
               InvalidArgument);
  Tensor wrong_dh = Tensor::zeros({kN - 1, kD}, DType::f64);
  EXPECT_THROW(out.forward_backward_loss(h, targets(), kXent, wrong_dh), ShapeError);
  EXPECT_THROW(out.loss_only(h, Tensor::from_vector<int32_t>({0, 1, 2, 3, 4, 5, 11}, {kN}), {}),
               InvalidArgument);
  Rng rng(0);
  EXPECT_THROW(Output("o", 0, kD, rng), InvalidArgument);
  Parameter vec = Parameter::make("v", {kV}, DType::f64, Device::cpu());
  EXPECT_THROW(Output("o", vec), ShapeError);
}

}  // namespace
}  // namespace s2s
