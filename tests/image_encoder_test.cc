// The image encoder: gradients of the whole encode/backward (every parameter, batch norm in
// training mode, both pooling kinds, dropout with a fixed mask) in double precision; the Memory
// layout the attention decoder reads; reproducible initialisation; errors for images the network
// cannot take; and the "a tiny captioner overfits 8 scenes exactly": ImageEncoder +
// AttentionDecoder + Adam learn 8 distinct captions of 8 synthetic 16x16 images until greedy
// decoding (in evaluation mode, batch norm on running statistics) reproduces all 8.
#include <gtest/gtest.h>

#include <cmath>
#include <ostream>

#include "beam_search/greedy.h"
#include "decoders/attention_decoder.h"
#include "image_encoder/image_encoder.h"
#include "seq2seq/optimizer.h"
#include "tests/test_util.h"

namespace s2s {
namespace {

using testing::gradient_check;
using testing::random_tensor;
using testing::values;
using testing::weighted_sum;

ImageEncoderOptions tiny_options(DType dtype, bool batch_norm, PoolKind pool, double dropout) {
  ImageEncoderOptions o;
  o.in_channels = 2;
  o.channels = {3, 4};
  o.convs_per_block = 2;
  o.batch_norm = batch_norm;
  o.pool = pool;
  o.output_size = 3;
  o.max_grid_size = 4;
  o.dropout = dropout;
  o.dtype = dtype;
  o.seed = 7;
  return o;
}

struct Case {
  bool batch_norm;
  PoolKind pool;
  double dropout;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << "batch_norm " << c.batch_norm << ", " << pool_kind_name(c.pool) << " pooling, dropout "
      << c.dropout;
}

class ImageEncoderGradientTest : public ::testing::TestWithParam<Case> {};

TEST_P(ImageEncoderGradientTest, EveryParameterMatchesCentralDifferences) {
  const Case c = GetParam();
  ImageEncoder encoder(tiny_options(DType::f64, c.batch_norm, c.pool, c.dropout));
  // Nudge batch norm's gamma and beta and the biases off their initial constants, so that their
  // gradients are checked in general position.
  Rng init(3);
  for (Parameter* p : encoder.parameters())
    if (p->trainable && p->value.rank() == 1) init_uniform(p->value, init, 0.5);
  const Tensor pixels = random_tensor({2, 2, 8, 9}, DType::f64, 1);  // grid 2x2
  const Tensor w_vectors = random_tensor({4, 2, 3}, DType::f64, 2);
  const Tensor w_summary = random_tensor({2, 3}, DType::f64, 3);
  auto run = [&](bool backward) {
    Rng rng(11);  // the same dropout mask every evaluation
    Memory m = encoder.encode(pixels, Tensor(), &rng);
    const double loss = weighted_sum(m.vectors, w_vectors) + weighted_sum(m.summary, w_summary);
    if (backward) encoder.backward({w_vectors, w_summary});
    return loss;
  };
  encoder.zero_grad();
  run(true);
  int checked = 0;
  for (Parameter* p : encoder.parameters()) {
    if (!p->trainable) continue;  // running statistics
    const Tensor analytic = p->grad.clone();
    EXPECT_LT(gradient_check([&] { return run(false); }, p->value, analytic), 1e-6) << p->name;
    ++checked;
  }
  EXPECT_EQ(checked, c.batch_norm ? 4 * 3 + 4 : 4 * 2 + 4);
}

INSTANTIATE_TEST_SUITE_P(Variants, ImageEncoderGradientTest,
                         ::testing::Values(Case{true, PoolKind::max, 0.0},
                                           Case{false, PoolKind::avg, 0.0},
                                           Case{true, PoolKind::avg, 0.4}),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           const Case& c = info.param;
                           return std::string(c.batch_norm ? "bn_" : "nobn_") +
                                  pool_kind_name(c.pool) + (c.dropout > 0 ? "_dropout" : "");
                         });

TEST(ImageEncoder, MemoryHasTheLayoutTheDecoderReads) {
  ImageEncoderOptions o = tiny_options(DType::f64, true, PoolKind::max, 0.0);
  o.output_size = 5;
  ImageEncoder encoder(o);
  const Tensor pixels = random_tensor({3, 2, 12, 8}, DType::f64, 4);
  EXPECT_EQ(encoder.grid_size(12, 8), (std::pair<int64_t, int64_t>{3, 2}));
  Parameter* row = nullptr;
  Parameter* col = nullptr;
  for (Parameter* p : encoder.parameters()) {
    if (p->name == "encoder.position.row") row = p;
    if (p->name == "encoder.position.col") col = p;
  }
  ASSERT_TRUE(row && col);
  ASSERT_EQ(row->value.shape(), (Shape{4, 5}));

  // Without position embedding, the summary is the mean of the memory vectors.
  row->value.zero();
  col->value.zero();
  const Memory plain = encoder.encode(pixels, Tensor(), nullptr);
  const int64_t s = 6, b = 3, d = 5;
  ASSERT_EQ(plain.vectors.shape(), (Shape{s, b, d}));
  ASSERT_EQ(plain.mask.shape(), (Shape{s, b}));
  ASSERT_EQ(plain.summary.shape(), (Shape{b, d}));
  EXPECT_EQ(values(plain.mask), std::vector<double>(s * b, 1.0));
  const auto v = values(plain.vectors), summary = values(plain.summary);
  for (int64_t n = 0; n < b; ++n)
    for (int64_t k = 0; k < d; ++k) {
      double mean = 0;
      for (int64_t cell = 0; cell < s; ++cell)
        mean += v[(cell * b + n) * d + k] / s;
      EXPECT_NEAR(mean, summary[n * d + k], 1e-12);
    }

  // Cell (i, j) is vector i * W' + j: row i's and column j's embeddings land there.
  encoder.set_training(false);  // same batch-norm statistics in both runs
  const Memory base = encoder.encode(pixels, Tensor(), nullptr);
  const auto base_v = values(base.vectors);
  row->value.data<double>()[2 * d + 1] = 10;  // row 2, feature 1
  col->value.data<double>()[1 * d + 4] = 20;  // column 1, feature 4
  const auto moved = values(encoder.encode(pixels, Tensor(), nullptr).vectors);
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 2; ++j)
      for (int64_t n = 0; n < b; ++n)
        for (int64_t k = 0; k < d; ++k) {
          const int64_t at = ((i * 2 + j) * b + n) * d + k;
          const double expect = (i == 2 && k == 1 ? 10 : 0) + (j == 1 && k == 4 ? 20 : 0);
          EXPECT_NEAR(moved[at] - base_v[at], expect, 1e-12) << i << "," << j;
        }

  // The attention decoder takes it with memory_size = D and summary_size = Ds.
  AttentionDecoderOptions dopt;
  dopt.vocab_size = 7;
  dopt.embed_size = 4;
  dopt.hidden_size = 6;
  dopt.memory_size = encoder.memory_size();
  dopt.summary_size = encoder.summary_size();
  dopt.dtype = DType::f64;
  AttentionDecoder decoder(dopt);
  encoder.set_training(true);
  const Memory memory = encoder.encode(pixels, Tensor(), nullptr);
  const Tensor tgt_in = Tensor::from_vector<int32_t>({2, 2, 2, 4, 5, 6}, {2, 3});
  const Tensor tgt_out = Tensor::from_vector<int32_t>({4, 5, 6, 3, 3, 3}, {2, 3});
  ops::XentOptions xent;
  xent.pad_id = 0;
  auto result = decoder.forward_backward(memory, tgt_in, tgt_out, xent, nullptr);
  EXPECT_EQ(result.d_memory.vectors.shape(), memory.vectors.shape());
  EXPECT_EQ(result.d_memory.summary.shape(), memory.summary.shape());
  encoder.zero_grad();
  encoder.backward(result.d_memory);
  EXPECT_GT(std::abs(values(encoder.parameters()[0]->grad)[0]), 0.0);
}

TEST(ImageEncoder, FloatMatchesDoubleAndOneImageEncodesInEvaluation) {
  const Tensor pixels = random_tensor({3, 2, 8, 8}, DType::f64, 5);
  std::vector<double> vectors[2], grads[2];
  int i = 0;
  for (DType dtype : {DType::f64, DType::f32}) {
    ImageEncoder encoder(tiny_options(dtype, true, PoolKind::max, 0.0));
    const Memory m = encoder.encode(testing::cast(pixels, dtype), Tensor(), nullptr);
    vectors[i] = values(m.vectors);
    encoder.backward({testing::cast(random_tensor(m.vectors.shape(), DType::f64, 6), dtype),
                      testing::cast(random_tensor(m.summary.shape(), DType::f64, 7), dtype)});
    for (Parameter* p : encoder.parameters()) {
      const auto g = values(p->grad);
      grads[i].insert(grads[i].end(), g.begin(), g.end());
    }
    // Captioning a single image: evaluation mode needs no batch statistics.
    encoder.set_training(false);
    const Memory one = encoder.encode(testing::cast(pixels.slice(1, 2), dtype), Tensor(), nullptr);
    EXPECT_EQ(one.vectors.shape(), (Shape{4, 1, 3}));
    ++i;
  }
  EXPECT_LT(testing::relative_norm_error(vectors[1], vectors[0]), 1e-5);
  EXPECT_LT(testing::relative_norm_error(grads[1], grads[0]), 1e-4);
}

TEST(ImageEncoder, InitialisationIsReproducibleAndNamed) {
  ImageEncoderOptions o = tiny_options(DType::f32, true, PoolKind::max, 0.0);
  ImageEncoder a(o), b(o);
  std::vector<Parameter*> pa = a.parameters(), pb = b.parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t i = 0; i < pa.size(); ++i) {
    EXPECT_EQ(pa[i]->name, pb[i]->name);
    EXPECT_EQ(values(pa[i]->value), values(pb[i]->value)) << pa[i]->name;
  }
  EXPECT_EQ(pa[0]->name, "encoder.block.0.conv.0.weight");
  EXPECT_EQ(pa[1]->name, "encoder.block.0.bn.0.weight");
  EXPECT_EQ(pa[3]->name, "encoder.block.0.bn.0.running_mean");
  // Two convolutions of one block draw different weights.
  EXPECT_NE(values(pa[0]->value)[0], values(pa[5]->value)[0]);
  o.seed = 8;
  EXPECT_NE(values(ImageEncoder(o).parameters()[0]->value), values(pa[0]->value));
}

TEST(ImageEncoder, RejectsBadOptionsAndImagesItCannotTake) {
  ImageEncoderOptions o = tiny_options(DType::f32, true, PoolKind::max, 0.0);
  o.channels = {};
  EXPECT_THROW((ImageEncoder(o)), ConfigError);
  o = tiny_options(DType::f32, true, PoolKind::max, 0.0);
  o.kernel_size = 4;
  EXPECT_THROW((ImageEncoder(o)), ConfigError);
  o.kernel_size = 3;
  o.dropout = 1.0;
  EXPECT_THROW((ImageEncoder(o)), ConfigError);

  ImageEncoder encoder(tiny_options(DType::f32, true, PoolKind::max, 0.0));
  EXPECT_THROW(encoder.encode(Tensor::zeros({1, 2, 3, 8}), Tensor(), nullptr), ShapeError);
  EXPECT_THROW(encoder.grid_size(3, 8), ShapeError);
  EXPECT_THROW(encoder.encode(Tensor::zeros({1, 2, 20, 8}), Tensor(), nullptr), ShapeError);  // 5
  EXPECT_THROW(encoder.encode(Tensor::zeros({1, 3, 8, 8}), Tensor(), nullptr), ShapeError);
  EXPECT_THROW(encoder.encode(Tensor::zeros({1, 2, 8, 8}, DType::f64), Tensor(), nullptr),
               InvalidArgument);
  EXPECT_THROW(encoder.encode(Tensor::zeros({1, 2, 8, 8}), Tensor::zeros({4, 1}), nullptr),
               InvalidArgument);
  EXPECT_THROW(encoder.backward({}), InvalidArgument);  // no encode yet
  ImageEncoderOptions d = tiny_options(DType::f32, true, PoolKind::max, 0.5);
  ImageEncoder dropping(d);
  EXPECT_THROW(dropping.encode(Tensor::zeros({2, 2, 8, 8}), Tensor(), nullptr), InvalidArgument);
}

// ---- the tiny captioner ------------------------------------------------------------------------

constexpr int32_t kPad = 0, kBos = 2, kEos = 3;
constexpr int64_t kScenes = 8, kSide = 16;

// Scene k: one of four shapes (k % 4: square, cross, horizontal bar, ring) in the left or right
// half (k / 4), on a 16x16 gray canvas. Caption: shape word, place word, and "big" for odd k.
Tensor scene_pixels() {
  std::vector<float> px(kScenes * kSide * kSide, 0.0f);
  for (int64_t k = 0; k < kScenes; ++k) {
    const int64_t x0 = k < 4 ? 1 : 9, y0 = 4, size = k % 2 ? 7 : 5;
    for (int64_t y = 0; y < size; ++y)
      for (int64_t x = 0; x < size; ++x) {
        const bool edge = y == 0 || x == 0 || y == size - 1 || x == size - 1;
        const bool mid_y = y == size / 2, mid_x = x == size / 2;
        bool on = false;
        switch (k % 4) {
          case 0:
            on = true;
            break;
          case 1:
            on = mid_x || mid_y;
            break;
          case 2:
            on = mid_y || y == size / 2 + 1;
            break;
          case 3:
            on = edge;
            break;
        }
        if (on) px[(k * kSide + y0 + y) * kSide + x0 + x] = 1.0f;
      }
  }
  return Tensor::from_vector<float>(px, {kScenes, 1, kSide, kSide});
}

std::vector<std::vector<int32_t>> scene_captions() {
  std::vector<std::vector<int32_t>> captions;
  for (int32_t k = 0; k < kScenes; ++k) {
    std::vector<int32_t> c = {4 + k % 4, 8 + k / 4};
    if (k % 2) c.push_back(10);
    captions.push_back(c);
  }
  return captions;
}

TEST(TinyCaptioner, OverfitsEightScenesExactly) {
  ImageEncoderOptions eo;
  eo.in_channels = 1;
  eo.channels = {8, 16};
  eo.convs_per_block = 1;
  eo.output_size = 16;
  eo.seed = 1;
  ImageEncoder encoder(eo);
  AttentionDecoderOptions dopt;
  dopt.vocab_size = 11;
  dopt.embed_size = 16;
  dopt.hidden_size = 32;
  dopt.memory_size = encoder.memory_size();
  dopt.summary_size = encoder.summary_size();
  dopt.pad_id = kPad;
  dopt.seed = 2;
  AttentionDecoder decoder(dopt);

  const Tensor pixels = scene_pixels();
  const auto captions = scene_captions();
  // [U, B] teacher-forcing inputs (BOS + caption) and outputs (caption + EOS), padded.
  const int64_t u = 4;
  std::vector<int32_t> in(u * kScenes, kPad), out(u * kScenes, kPad);
  for (int64_t b = 0; b < kScenes; ++b) {
    in[b] = kBos;
    for (size_t t = 0; t < captions[b].size(); ++t) {
      in[(t + 1) * kScenes + b] = captions[b][t];
      out[t * kScenes + b] = captions[b][t];
    }
    out[captions[b].size() * kScenes + b] = kEos;
  }
  const Tensor tgt_in = Tensor::from_vector<int32_t>(in, {u, kScenes});
  const Tensor tgt_out = Tensor::from_vector<int32_t>(out, {u, kScenes});
  ops::XentOptions xent;
  xent.pad_id = kPad;
  xent.grad_scale = 1.0 / kScenes;

  std::vector<Parameter*> params = encoder.parameters();
  for (Parameter* p : decoder.parameters())
    params.push_back(p);
  Optimizer optimizer;
  GreedyOptions greedy;
  greedy.bos_id = kBos;
  greedy.eos_id = kEos;

  auto decode_all = [&] {
    encoder.set_training(false);
    decoder.set_training(false);
    const Memory memory = encoder.encode(pixels, Tensor(), nullptr);
    const int64_t s = memory.vectors.dim(0);
    const auto hyps = greedy_decode(decoder, memory, std::vector<int64_t>(kScenes, s), greedy);
    encoder.set_training(true);
    decoder.set_training(true);
    int exact = 0;
    for (int64_t b = 0; b < kScenes; ++b)
      exact += hyps[b].finished && hyps[b].tokens == captions[b];
    return exact;
  };

  int exact = 0, step = 0;
  for (; step < 400 && exact < kScenes; ++step) {
    Rng rng(step);
    for (Parameter* p : params)
      p->grad.zero();
    const Memory memory = encoder.encode(pixels, Tensor(), &rng);
    const auto result = decoder.forward_backward(memory, tgt_in, tgt_out, xent, &rng);
    encoder.backward(result.d_memory);
    optimizer.step(params, 0.01);
    if (step % 25 == 24) exact = decode_all();
  }
  EXPECT_EQ(exact, kScenes) << "after " << step << " steps";
}

}  // namespace
}  // namespace s2s
