// Greedy decoding: each sentence of a batch decodes as it would alone (finished sentences leave
// the batch without disturbing the others), log-probs add up, and the length limit holds.
#include <gtest/gtest.h>

#include "beam_search/greedy.h"
#include "decoders/attention_decoder.h"
#include "encoders/token_encoder.h"
#include "tests/test_util.h"
#include "tests/tiny_model.h"

namespace s2s {
namespace {

TEST(Greedy, EachSentenceDecodesAsItWouldAlone) {
  TinyModel m(21);
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
  TinyModel m(21);
  std::vector<int64_t> lengths;
  const Memory memory = m.encode({{4, 6}}, lengths);
  GreedyOptions options;
  const Hypothesis h = greedy_decode(m.decoder, memory, lengths, options)[0];
  // Replay: feed BOS and the chosen tokens, add their log-probs (and EOS's if finished).
  auto state = m.decoder.start(memory);
  double total = 0;
  int32_t previous = options.bos_id;
  std::vector<int32_t> path = h.tokens;
  path.push_back(options.eos_id);  // chosen, or forced by the length limit
  for (int32_t token : path) {
    const Tensor lp = m.decoder.step(*state, Tensor::from_vector<int32_t>({previous}, {1}));
    total += lp.data<double>()[token];
    previous = token;
  }
  EXPECT_NEAR(total, h.log_prob, 1e-12);
}

}  // namespace
}  // namespace s2s
