// The shared core end to end on tiny models: TokenEncoder and AttentionDecoder gradients in
// double precision (every parameter, both attention kinds, input feeding on and off, dropout with
// a fixed mask), and the consistency of search's one-step interface with the training path.
#include <gtest/gtest.h>

#include "decoders/attention_decoder.h"
#include "encoders/token_encoder.h"
#include "tests/test_util.h"

namespace s2s {
namespace {

using testing::gradient_check;
using testing::random_tensor;

constexpr int64_t kVocab = 9, kSource = 4, kTarget = 3, kBatch = 2;

// Source ids [S, B] with column 1 two tokens shorter (padding id 0), and its mask.
void make_source(DType dtype, Tensor& ids, Tensor& mask) {
  ids = Tensor::from_vector<int32_t>({4, 5, 6, 7, 3, 0, 8, 0}, {kSource, kBatch});
  std::vector<double> m = {1, 1, 1, 1, 1, 0, 1, 0};
  mask = testing::cast(Tensor::from_vector<double>(m, {kSource, kBatch}), dtype);
}

// Targets: input = BOS(2) + y, output = y + EOS(3), padding 0 in column 1's last position.
void make_target(Tensor& input, Tensor& output) {
  input = Tensor::from_vector<int32_t>({2, 2, 5, 6, 7, 3}, {kTarget, kBatch});
  output = Tensor::from_vector<int32_t>({5, 6, 7, 3, 3, 0}, {kTarget, kBatch});
}

TokenEncoderOptions encoder_options(DType dtype, double dropout) {
  TokenEncoderOptions o;
  o.vocab_size = kVocab;
  o.embed_size = 3;
  o.hidden_size = 2;
  o.num_layers = 2;
  o.dropout = dropout;
  o.dtype = dtype;
  o.seed = 11;
  return o;
}

AttentionDecoderOptions decoder_options(DType dtype, ops::AttentionKind kind, bool feeding,
                                        bool tie, double dropout) {
  AttentionDecoderOptions o;
  o.vocab_size = kVocab;
  o.embed_size = 4;
  o.hidden_size = 4;
  o.num_layers = 2;
  o.memory_size = 4;  // the encoder's 2H
  o.summary_size = 4;
  o.attention = kind;
  o.attention_size = 3;
  o.input_feeding = feeding;
  o.tie_embeddings = tie;
  o.dropout = dropout;
  o.dtype = dtype;
  o.output_chunk_rows = 4;  // U * B = 6 rows: two chunks
  o.seed = 5;
  return o;
}

struct Case {
  ops::AttentionKind kind;
  bool feeding, tie;
  double dropout;
};

class Seq2SeqGradientTest : public ::testing::TestWithParam<Case> {};

// The whole model: loss(encoder, decoder) with every parameter checked.
TEST_P(Seq2SeqGradientTest, EveryParameterMatchesCentralDifferences) {
  const Case c = GetParam();
  TokenEncoder encoder(encoder_options(DType::f64, c.dropout));
  AttentionDecoder decoder(decoder_options(DType::f64, c.kind, c.feeding, c.tie, c.dropout));
  Tensor src, src_mask, tgt_in, tgt_out;
  make_source(DType::f64, src, src_mask);
  make_target(tgt_in, tgt_out);
  ops::XentOptions xent;
  xent.pad_id = 0;
  xent.label_smoothing = 0.1;

  auto run = [&](bool keep_gradients) {
    Rng rng(99);  // the same dropout masks every evaluation
    encoder.zero_grad();
    decoder.zero_grad();
    Memory memory = encoder.encode(src, src_mask, &rng);
    Decoder::TrainResult r = decoder.forward_backward(memory, tgt_in, tgt_out, xent, &rng);
    if (keep_gradients) encoder.backward(r.d_memory);
    return r.loss.loss;
  };
  run(true);
  std::vector<std::pair<Parameter*, Tensor>> analytic;
  std::vector<Parameter*> params = encoder.parameters();
  for (Parameter* p : decoder.parameters())
    params.push_back(p);
  for (Parameter* p : params)
    analytic.emplace_back(p, p->grad.clone());
  ASSERT_GT(params.size(), 15u);
  for (auto& [p, grad] : analytic) {
    // Step 1e-5: the summed loss is ~10, so rounding in a 1e-6 step (~1e-16 * 10 / 1e-6) would
    // reach the 1e-6 bar by itself; truncation at 1e-5 stays ~1e-10.
    const double err = gradient_check([&] { return run(false); }, p->value, grad, 1e-5);
    EXPECT_LT(err, 1e-6) << p->name;
  }
}

INSTANTIATE_TEST_SUITE_P(Variants, Seq2SeqGradientTest,
                         ::testing::Values(Case{ops::AttentionKind::general, true, false, 0.0},
                                           Case{ops::AttentionKind::additive, true, true, 0.0},
                                           Case{ops::AttentionKind::general, false, false, 0.0},
                                           Case{ops::AttentionKind::general, true, false, 0.3}),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           const Case& c = info.param;
                           return std::string(c.kind == ops::AttentionKind::general ? "general"
                                                                                    : "additive") +
                                  (c.feeding ? "_feeding" : "_nofeeding") + (c.tie ? "_tied" : "") +
                                  (c.dropout > 0 ? "_dropout" : "");
                         });

TEST(Seq2SeqModel, SearchStepsReproduceTheTrainingLogProbs) {
  TokenEncoder encoder(encoder_options(DType::f64, 0.0));
  AttentionDecoder decoder(
      decoder_options(DType::f64, ops::AttentionKind::additive, true, false, 0.0));
  encoder.set_training(false);
  decoder.set_training(false);
  Tensor src, src_mask, tgt_in, tgt_out;
  make_source(DType::f64, src, src_mask);
  make_target(tgt_in, tgt_out);
  ops::XentOptions xent;
  xent.pad_id = 0;
  Memory memory = encoder.encode(src, src_mask, nullptr);
  Tensor per_token;
  const ops::XentSums sums = decoder.loss(memory, tgt_in, tgt_out, xent, &per_token);
  auto state = decoder.start(memory);
  double total = 0;
  for (int64_t t = 0; t < kTarget; ++t) {
    const Tensor log_probs = decoder.step(*state, tgt_in.select(t));  // teacher-forced search
    ASSERT_EQ(log_probs.shape(), (Shape{kBatch, kVocab}));
    for (int64_t b = 0; b < kBatch; ++b) {
      const int32_t y = tgt_out.data<int32_t>()[t * kBatch + b];
      if (y == 0) continue;
      const double lp = log_probs.data<double>()[b * kVocab + y];
      EXPECT_NEAR(lp, per_token.data<double>()[t * kBatch + b], 1e-12) << "t=" << t << " b=" << b;
      total += lp;
    }
  }
  EXPECT_NEAR(-total, sums.nll, 1e-10);
}

TEST(Seq2SeqModel, SelectKeepsReordersAndRepeatsRows) {
  TokenEncoder encoder(encoder_options(DType::f64, 0.0));
  AttentionDecoder decoder(
      decoder_options(DType::f64, ops::AttentionKind::general, true, false, 0));
  encoder.set_training(false);
  Tensor src, src_mask;
  make_source(DType::f64, src, src_mask);
  Memory memory = encoder.encode(src, src_mask, nullptr);
  auto state = decoder.start(memory);
  const Tensor first = Tensor::from_vector<int32_t>({2, 2}, {2});
  const Tensor both = decoder.step(*state, first);
  // Row 1 alone, then twice: each copy continues exactly as row 1 did.
  auto again = decoder.start(memory);
  decoder.step(*again, first);
  state->select({1, 1});
  again->select({1});
  const Tensor next2 = Tensor::from_vector<int32_t>({5, 5}, {2});
  const Tensor next1 = Tensor::from_vector<int32_t>({5}, {1});
  const auto a = decoder.step(*state, next2).to_vector<double>();
  const auto b = decoder.step(*again, next1).to_vector<double>();
  for (int64_t v = 0; v < kVocab; ++v) {
    EXPECT_DOUBLE_EQ(a[v], b[v]);
    EXPECT_DOUBLE_EQ(a[kVocab + v], b[v]);
  }
  EXPECT_EQ(both.dim(0), 2);
}

TEST(Seq2SeqModel, FloatTrainingMatchesDouble) {
  ops::XentOptions xent;
  xent.pad_id = 0;
  double losses[2];
  std::vector<double> grads[2];
  int i = 0;
  for (DType dtype : {DType::f64, DType::f32}) {
    TokenEncoder encoder(encoder_options(dtype, 0.0));
    AttentionDecoder decoder(decoder_options(dtype, ops::AttentionKind::general, true, false, 0));
    Tensor src, src_mask, tgt_in, tgt_out;
    make_source(dtype, src, src_mask);
    make_target(tgt_in, tgt_out);
    Memory memory = encoder.encode(src, src_mask, nullptr);
    auto r = decoder.forward_backward(memory, tgt_in, tgt_out, xent, nullptr);
    encoder.backward(r.d_memory);
    losses[i] = r.loss.loss;
    for (Parameter* p : encoder.parameters()) {
      auto v = testing::values(p->grad);
      grads[i].insert(grads[i].end(), v.begin(), v.end());
    }
    ++i;
  }
  EXPECT_NEAR(losses[1], losses[0], 1e-5 * std::abs(losses[0]));
  EXPECT_LT(testing::relative_norm_error(grads[1], grads[0]), 1e-5);
}

// The parts a pipeline puts on separate stages compute what the whole calls do, to the bit:
// encode_bottom + encode_upper and backward_upper + backward_bottom (a 2-layer encoder), and
// forward_hidden + output_loss + backward_hidden; with dropout, from one stream as the whole does.
TEST(Seq2SeqModel, StagePartsEqualTheWholeForwardAndBackward) {
  ops::XentOptions xent;
  xent.pad_id = 0;
  Tensor src, src_mask, tgt_in, tgt_out;
  make_source(DType::f64, src, src_mask);
  make_target(tgt_in, tgt_out);
  std::vector<double> results[2];
  for (int split = 0; split < 2; ++split) {
    TokenEncoderOptions eo = encoder_options(DType::f64, 0.3);
    TokenEncoder encoder(eo);  // 2 layers: a first and an upper one
    AttentionDecoder decoder(
        decoder_options(DType::f64, ops::AttentionKind::general, true, false, 0.3));
    Rng rng(7);
    double loss = 0;
    if (split == 0) {
      const Memory memory = encoder.encode(src, src_mask, &rng);
      const Decoder::TrainResult r = decoder.forward_backward(memory, tgt_in, tgt_out, xent, &rng);
      encoder.backward(r.d_memory);
      loss = r.loss.loss;
    } else {
      const Tensor bottom = encoder.encode_bottom(src, src_mask, &rng);
      const Memory memory = encoder.encode_upper(bottom, src_mask, &rng);
      const Tensor hidden = decoder.forward_hidden(memory, tgt_in, &rng);
      Tensor d_hidden;
      loss = decoder.output_loss(hidden, tgt_out, xent, d_hidden).loss;
      const MemoryGradient d_memory = decoder.backward_hidden(d_hidden);
      encoder.backward_bottom(encoder.backward_upper(d_memory));
    }
    results[split].push_back(loss);
    for (Layer* layer : std::vector<Layer*>{&encoder, &decoder})
      for (Parameter* p : layer->parameters()) {
        const std::vector<double> v = testing::values(p->grad);
        results[split].insert(results[split].end(), v.begin(), v.end());
      }
  }
  EXPECT_EQ(results[0], results[1]);
  // The parameter lists the stages own partition the model: the output layer's and the encoder's
  // upper layers' are among the model's, and not all of it.
  TokenEncoder encoder(encoder_options(DType::f64, 0));
  AttentionDecoder decoder(
      decoder_options(DType::f64, ops::AttentionKind::general, true, false, 0));
  EXPECT_EQ(decoder.output_parameters().size(), 2u);  // weight and bias
  EXPECT_FALSE(encoder.upper_parameters().empty());
  EXPECT_LT(encoder.upper_parameters().size(), encoder.parameters().size());
  TokenEncoderOptions one_layer = encoder_options(DType::f64, 0);
  one_layer.num_layers = 1;
  TokenEncoder shallow(one_layer);
  EXPECT_THROW(shallow.upper_parameters(), ConfigError);  // nothing to split off
  AttentionDecoder tied(decoder_options(DType::f64, ops::AttentionKind::general, true, true, 0));
  EXPECT_THROW(tied.output_parameters(), ConfigError);  // shared with the target embedding
}

// Word dropout: training forward passes replace target inputs (never BOS) by <unk> with the
// given rate, drawn from the step's Rng (the same stream, the same words); loss() never does.
TEST(Seq2SeqModel, WordDropoutReplacesTargetInputsInTrainingOnly) {
  ops::XentOptions xent;
  xent.pad_id = 0;
  TokenEncoder encoder(encoder_options(DType::f64, 0.0));
  AttentionDecoderOptions options =
      decoder_options(DType::f64, ops::AttentionKind::general, true, false, 0);
  Tensor src, src_mask, tgt_in, tgt_out;
  make_source(DType::f64, src, src_mask);
  make_target(tgt_in, tgt_out);
  const Memory memory = encoder.encode(src, src_mask, nullptr);
  const auto train_loss = [&](double rate, double unk_is_bos, uint64_t seed) {
    AttentionDecoderOptions o = options;
    o.word_dropout = rate;
    o.unk_id = unk_is_bos ? 2 : 1;
    AttentionDecoder decoder(o);
    Rng rng(seed);
    return decoder.forward_backward(memory, tgt_in, tgt_out, xent, &rng).loss.loss;
  };
  const double plain = train_loss(0, false, 1);
  EXPECT_EQ(train_loss(0.5, false, 1), train_loss(0.5, false, 1));  // deterministic per stream
  EXPECT_NE(train_loss(0.5, false, 1), plain);                      // some words replaced
  // Every word but the first: with rate ~1 and <unk> = BOS's id, the inputs are all BOS (pads
  // stay pads), which a decoder without word dropout computes from an all-BOS input.
  Tensor all_bos = Tensor::from_vector<int32_t>({2, 2, 2, 2, 2, 2}, {3, 2});
  AttentionDecoder reference(options);
  const double expected =
      reference.forward_backward(memory, all_bos, tgt_out, xent, nullptr).loss.loss;
  EXPECT_NEAR(train_loss(0.999999999, true, 1), expected, 1e-12);
  // Not in evaluation: loss() and a decoder in eval mode see the words.
  AttentionDecoderOptions o = options;
  o.word_dropout = 0.5;
  AttentionDecoder decoder(o);
  AttentionDecoder plain_decoder(options);
  EXPECT_EQ(decoder.loss(memory, tgt_in, tgt_out, xent).loss,
            plain_decoder.loss(memory, tgt_in, tgt_out, xent).loss);
}

}  // namespace
}  // namespace s2s
