// Greedy decoding: each sentence of a batch decodes as it would alone (finished sentences leave
// the batch without disturbing the others), log-probs add up, and the length limit holds.
#include <gtest/gtest.h>

#include "beam_search/greedy.h"
#include "decoders/attention_decoder.h"
#include "encoders/token_encoder.h"
#include "tests/test_util.h"

namespace s2s {
namespace {

struct TinyModel {
  TinyModel() : encoder(encoder_options()), decoder(decoder_options()) {
    encoder.set_training(false);
    decoder.set_training(false);
  }
  static TokenEncoderOptions encoder_options() {
    TokenEncoderOptions o;
    o.vocab_size = 7;
    o.embed_size = 4;
    o.hidden_size = 3;
    o.num_layers = 1;
    o.dtype = DType::f64;
    o.seed = 21;
    return o;
  }
  static AttentionDecoderOptions decoder_options() {
    AttentionDecoderOptions o;
    o.vocab_size = 7;
    o.embed_size = 4;
    o.hidden_size = 5;
    o.memory_size = 6;
    o.summary_size = 6;
    o.dtype = DType::f64;
    o.seed = 22;
    return o;
  }
  // Encodes columns of ids (0-padded to the longest).
  Memory encode(const std::vector<std::vector<int32_t>>& sentences, std::vector<int64_t>& lengths) {
    int64_t s = 0;
    for (const auto& x : sentences)
      s = std::max<int64_t>(s, static_cast<int64_t>(x.size()));
    const int64_t b = static_cast<int64_t>(sentences.size());
    std::vector<int32_t> ids(s * b, 0);
    std::vector<double> mask(s * b, 0);
    lengths.clear();
    for (int64_t j = 0; j < b; ++j) {
      lengths.push_back(static_cast<int64_t>(sentences[j].size()));
      for (size_t i = 0; i < sentences[j].size(); ++i) {
        ids[i * b + j] = sentences[j][i];
        mask[i * b + j] = 1;
      }
    }
    return encoder.encode(Tensor::from_vector(ids, {s, b}), Tensor::from_vector(mask, {s, b}),
                          nullptr);
  }
  TokenEncoder encoder;
  AttentionDecoder decoder;
};

TEST(Greedy, EachSentenceDecodesAsItWouldAlone) {
  TinyModel m;
  const std::vector<std::vector<int32_t>> sentences = {{4, 5, 6}, {5}, {6, 6, 4, 5, 4}};
  GreedyOptions options;
  options.max_length_factor = 1.5;
  options.max_length_add = 2;
  std::vector<int64_t> lengths;
  const Memory memory = m.encode(sentences, lengths);
  const std::vector<Hypothesis> together = greedy_decode(m.decoder, memory, lengths, options);
  ASSERT_EQ(together.size(), 3u);
  for (size_t i = 0; i < sentences.size(); ++i) {
    std::vector<int64_t> one;
    const Memory alone_memory = m.encode({sentences[i]}, one);
    const Hypothesis alone = greedy_decode(m.decoder, alone_memory, one, options)[0];
    EXPECT_EQ(together[i].tokens, alone.tokens) << "sentence " << i;
    EXPECT_NEAR(together[i].log_prob, alone.log_prob, 1e-12);
    EXPECT_EQ(together[i].finished, alone.finished);
    // The limit: 1.5 * length + 2 tokens at most.
    EXPECT_LE(static_cast<double>(together[i].tokens.size()),
              std::ceil(1.5 * static_cast<double>(sentences[i].size())) + 2);
    EXPECT_LT(together[i].log_prob, 0);
  }
}

TEST(Greedy, LogProbIsTheSumOfTheChosenSteps) {
  TinyModel m;
  std::vector<int64_t> lengths;
  const Memory memory = m.encode({{4, 6}}, lengths);
  GreedyOptions options;
  const Hypothesis h = greedy_decode(m.decoder, memory, lengths, options)[0];
  // Replay: feed BOS and the chosen tokens, add their log-probs (and EOS's if finished).
  auto state = m.decoder.start(memory);
  double total = 0;
  int32_t previous = options.bos_id;
  std::vector<int32_t> path = h.tokens;
  if (h.finished) path.push_back(options.eos_id);
  for (int32_t token : path) {
    const Tensor lp = m.decoder.step(*state, Tensor::from_vector<int32_t>({previous}, {1}));
    total += lp.data<double>()[token];
    previous = token;
  }
  EXPECT_NEAR(total, h.log_prob, 1e-12);
}

}  // namespace
}  // namespace s2s
