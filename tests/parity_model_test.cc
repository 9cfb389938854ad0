// Backend consistency of whole layers and of the whole model: the LSTM stack, one full training
// step of the encoder-decoder (loss, every gradient, every parameter after Adam), and greedy
// decoding, on the GPU against the CPU. Tolerances are relative in norm: in fp32, 1e-4 for values
// that went through a few hundred chained operations whose order differs (cuBLAS vs OpenBLAS
// accumulation, CUDA's exp/tanh vs Eigen's approximations, a few ulp each); the training step
// also runs in f64, where only rounding may differ.
#include <gtest/gtest.h>

#include "beam_search/beam_search.h"
#include "beam_search/greedy.h"
#include "decoders/attention_decoder.h"
#include "encoders/token_encoder.h"
#include "seq2seq/layers/lstm.h"
#include "seq2seq/optimizer.h"
#include "tests/device_test.h"
#include "tests/test_util.h"

namespace s2s {
namespace {

using testing::random_tensor;
using testing::relative_norm_error;

class ModelParityTest : public testing::DeviceTest {
 protected:
};

double error(const Tensor& gpu, const Tensor& cpu) {
  return relative_norm_error(gpu.to(Device::cpu()), cpu);
}

TEST_P(ModelParityTest, LstmStackForwardAndBackward) {
  const int64_t t = 7, b = 5, e = 6, h = 8;
  Tensor x = random_tensor({t, b, e}, DType::f32, 1);
  std::vector<float> m(t * b, 1.f);
  for (int64_t i = 4; i < t; ++i)
    m[i * b + 2] = 0.f;  // column 2 is 4 long, column 4 is 2 long
  for (int64_t i = 2; i < t; ++i)
    m[i * b + 4] = 0.f;
  Tensor mask = Tensor::from_vector(m, {t, b});
  Tensor d_out = random_tensor({t, b, 2 * h}, DType::f32, 2);
  std::vector<Tensor> results[2];
  std::vector<Tensor> grads[2];
  for (int k = 0; k < 2; ++k) {
    const Device dev = k == 0 ? Device::cpu() : device();
    LstmOptions o;
    o.input_size = e;
    o.hidden_size = h;
    o.num_layers = 3;
    o.bidirectional = true;
    o.residual = true;
    o.dropout = 0.25;
    o.device = dev;
    o.seed = 9;
    Lstm lstm(o);
    Rng rng(4);
    Lstm::Output out = lstm.forward(x.to(dev), mask.to(dev), {}, &rng);
    Lstm::Gradients g = lstm.backward(d_out.to(dev));
    results[k] = {out.output, out.final_state.h, out.final_state.c, g.dx, g.d_initial.h};
    for (Parameter* p : lstm.parameters())
      grads[k].push_back(p->grad.clone());
  }
  const char* names[] = {"output", "final h", "final c", "dx", "d initial h"};
  for (size_t i = 0; i < results[0].size(); ++i)
    EXPECT_LT(error(results[1][i], results[0][i]), 1e-5) << names[i];
  for (size_t i = 0; i < grads[0].size(); ++i)
    EXPECT_LT(error(grads[1][i], grads[0][i]), 1e-4) << "parameter gradient " << i;
}

struct Model {
  explicit Model(Device device, DType dtype = DType::f32) {
    TokenEncoderOptions e;
    e.vocab_size = 23;
    e.embed_size = 8;
    e.hidden_size = 6;
    e.num_layers = 2;
    e.dropout = 0.1;
    e.device = device;
    e.dtype = dtype;
    e.seed = 3;
    encoder = std::make_unique<TokenEncoder>(e);
    AttentionDecoderOptions d;
    d.vocab_size = 23;
    d.embed_size = 10;
    d.hidden_size = 10;
    d.num_layers = 2;
    d.memory_size = 12;
    d.summary_size = 12;
    d.attention = ops::AttentionKind::additive;
    d.attention_size = 7;
    d.dropout = 0.1;
    d.device = device;
    d.dtype = dtype;
    d.seed = 4;
    decoder = std::make_unique<AttentionDecoder>(d);
  }
  std::vector<Parameter*> parameters() {
    auto p = encoder->parameters();
    for (Parameter* q : decoder->parameters())
      p.push_back(q);
    return p;
  }
  std::unique_ptr<TokenEncoder> encoder;
  std::unique_ptr<AttentionDecoder> decoder;
};

// In f64 the two backends must agree to rounding (1e-9): that proves the kernels compute the same
// function. In f32 the loss agrees to 1e-5 and the gradients of all parameters together to
// 1e-4; a single parameter's gradient gets 1e-3, because some are sums that cancel (additive
// attention's w_query: softmax gradients sum to zero over positions), so fp32 rounding in a
// different summation order is large relative to their small norm.
TEST_P(ModelParityTest, OneTrainingStepOfTheWholeModel) {
  const int64_t s = 6, b = 4, u = 5;
  std::vector<int32_t> src(s * b), tgt_in(u * b), tgt_out(u * b);
  std::vector<double> mask(s * b, 1.0);
  Rng data(17);
  for (auto& v : src)
    v = 4 + static_cast<int32_t>(data.uniform() * 19);
  for (auto& v : tgt_out)
    v = 4 + static_cast<int32_t>(data.uniform() * 19);
  for (int64_t i = 0; i < u * b; ++i)
    tgt_in[i] = i < b ? 2 : tgt_out[i - b];
  for (int64_t i = 3; i < s; ++i)
    mask[i * b + 1] = 0.0, src[i * b + 1] = 0;
  tgt_out[(u - 1) * b + 3] = 0;  // a padded target position
  for (DType dtype : {DType::f64, DType::f32}) {
    const bool f64 = dtype == DType::f64;
    double loss[2];
    std::vector<Tensor> grads[2], after[2];
    std::vector<double> all_grads[2];
    for (int k = 0; k < 2; ++k) {
      const Device dev = k == 0 ? Device::cpu() : device();
      Model m(dev, dtype);
      Rng rng(5);
      ops::XentOptions xent;
      xent.pad_id = 0;
      xent.label_smoothing = 0.1;
      xent.grad_scale = 1.0 / 19;
      Memory memory =
          m.encoder->encode(Tensor::from_vector(src, {s, b}).to(dev),
                            testing::cast(Tensor::from_vector(mask, {s, b}), dtype).to(dev), &rng);
      auto r =
          m.decoder->forward_backward(memory, Tensor::from_vector(tgt_in, {u, b}).to(dev),
                                      Tensor::from_vector(tgt_out, {u, b}).to(dev), xent, &rng);
      m.encoder->backward(r.d_memory);
      loss[k] = r.loss.loss;
      auto params = m.parameters();
      for (Parameter* p : params) {
        grads[k].push_back(p->grad.to(Device::cpu()));
        const auto v = testing::values(grads[k].back());
        all_grads[k].insert(all_grads[k].end(), v.begin(), v.end());
      }
      clip_grad_norm(params, 1.0);
      Optimizer adam;
      adam.step(params, 1e-3);
      for (Parameter* p : params)
        after[k].push_back(p->value.to(Device::cpu()));
    }
    const char* type = dtype_name(dtype);
    EXPECT_NEAR(loss[1], loss[0], (f64 ? 1e-12 : 1e-5) * std::abs(loss[0])) << type;
    EXPECT_LT(relative_norm_error(all_grads[1], all_grads[0]), f64 ? 1e-10 : 1e-4) << type;
    for (size_t i = 0; i < grads[0].size(); ++i)
      EXPECT_LT(relative_norm_error(grads[1][i], grads[0][i]), f64 ? 1e-9 : 1e-3)
          << type << " gradient " << i;
    for (size_t i = 0; i < after[0].size(); ++i)
      EXPECT_LT(relative_norm_error(after[1][i], after[0][i]), f64 ? 1e-9 : 1e-4)
          << type << " parameter after Adam " << i;
  }
}

TEST_P(ModelParityTest, GreedyDecodingGivesTheSameOutput) {
  std::vector<Hypothesis> hyps[2];
  for (int k = 0; k < 2; ++k) {
    const Device dev = k == 0 ? Device::cpu() : device();
    Model m(dev);
    m.encoder->set_training(false);
    m.decoder->set_training(false);
    std::vector<int32_t> src = {5, 9, 4, 7, 11, 0, 8, 0, 0};
    std::vector<float> mask = {1, 1, 1, 1, 1, 0, 1, 0, 0};
    Memory memory = m.encoder->encode(Tensor::from_vector(src, {3, 3}).to(dev),
                                      Tensor::from_vector(mask, {3, 3}).to(dev), nullptr);
    hyps[k] = greedy_decode(*m.decoder, memory, {3, 2, 1}, GreedyOptions{});
  }
  for (size_t i = 0; i < hyps[0].size(); ++i) {
    EXPECT_EQ(hyps[1][i].tokens, hyps[0][i].tokens) << "sentence " << i;
    EXPECT_NEAR(hyps[1][i].log_prob, hyps[0][i].log_prob, 1e-4 * std::abs(hyps[0][i].log_prob));
  }
}

TEST_P(ModelParityTest, BeamSearchGivesTheSameOutput) {
  std::vector<std::vector<Hypothesis>> found[2];
  for (int k = 0; k < 2; ++k) {
    const Device dev = k == 0 ? Device::cpu() : device();
    Model m(dev);
    m.encoder->set_training(false);
    m.decoder->set_training(false);
    std::vector<int32_t> src = {5, 9, 4, 7, 11, 0, 8, 0, 0};
    std::vector<float> mask = {1, 1, 1, 1, 1, 0, 1, 0, 0};
    Memory memory = m.encoder->encode(Tensor::from_vector(src, {3, 3}).to(dev),
                                      Tensor::from_vector(mask, {3, 3}).to(dev), nullptr);
    BeamSearchOptions o;
    o.beam_size = 4;
    o.n_best = 2;
    o.coverage_penalty = 0.2;
    o.keep_attention = true;
    const SearchModel member{m.decoder.get(), &memory};
    found[k] = beam_search(std::span(&member, 1), {3, 2, 1}, o);
  }
  for (size_t i = 0; i < found[0].size(); ++i) {
    ASSERT_EQ(found[1][i].size(), found[0][i].size()) << "sentence " << i;
    for (size_t r = 0; r < found[0][i].size(); ++r) {
      EXPECT_EQ(found[1][i][r].tokens, found[0][i][r].tokens) << "sentence " << i << " rank " << r;
      EXPECT_NEAR(found[1][i][r].score, found[0][i][r].score,
                  1e-4 * std::abs(found[0][i][r].score));
    }
  }
}

S2S_INSTANTIATE_GPU_TEST(ModelParityTest);

}  // namespace
}  // namespace s2s
