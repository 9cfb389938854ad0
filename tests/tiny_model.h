// TinyModel: a token encoder and an attention decoder small enough to enumerate every output of
// a few tokens, in f64 so search results can be compared exactly. Ids: 0 pad, 1 unk, 2 BOS,
// 3 EOS, the rest ordinary tokens.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "decoders/attention_decoder.h"
#include "encoders/token_encoder.h"

namespace s2s {

struct TinyModel {
  // sharpen scales every initial parameter, so the model's distributions are far from uniform
  // (a freshly initialised model is nearly uniform, which makes every search look right).
  explicit TinyModel(uint64_t seed, int64_t vocab = 7, double sharpen = 1.0)
      : encoder(encoder_options(seed, vocab)), decoder(decoder_options(seed, vocab)) {
    encoder.set_training(false);
    decoder.set_training(false);
    if (sharpen != 1.0) {
      std::vector<Parameter*> params = encoder.parameters();
      for (Parameter* p : decoder.parameters())
        params.push_back(p);
      for (Parameter* p : params) {
        double* v = p->value.data<double>();
        for (int64_t i = 0; i < p->value.numel(); ++i)
          v[i] *= sharpen;
      }
    }
  }
  static TokenEncoderOptions encoder_options(uint64_t seed, int64_t vocab) {
    TokenEncoderOptions o;
    o.vocab_size = vocab;
    o.embed_size = 4;
    o.hidden_size = 3;
    o.num_layers = 1;
    o.dtype = DType::f64;
    o.seed = seed;
    return o;
  }
  static AttentionDecoderOptions decoder_options(uint64_t seed, int64_t vocab) {
    AttentionDecoderOptions o;
    o.vocab_size = vocab;
    o.embed_size = 4;
    o.hidden_size = 5;
    o.memory_size = 6;
    o.summary_size = 6;
    o.dtype = DType::f64;
    o.seed = seed + 1;
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
  // log P(tokens, EOS | source), fed one token at a time to a fresh state: what forced decoding
  // of this one sequence gives, the reference for every search.
  double sequence_log_prob(const std::vector<int32_t>& source, const std::vector<int32_t>& tokens) {
    std::vector<int64_t> lengths;
    const Memory memory = encode({source}, lengths);
    auto state = decoder.start(memory);
    std::vector<int32_t> path = tokens;
    path.push_back(3);
    int32_t previous = 2;
    double total = 0;
    for (int32_t token : path) {
      const Tensor lp = decoder.step(*state, Tensor::from_vector<int32_t>({previous}, {1}));
      total += lp.data<double>()[token];
      previous = token;
    }
    return total;
  }
  TokenEncoder encoder;
  AttentionDecoder decoder;
};

// Every output of at most max_tokens tokens over the ordinary ids (1 and 4..vocab-1).
inline std::vector<std::vector<int32_t>> all_outputs(int64_t vocab, int max_tokens) {
  std::vector<int32_t> alphabet = {1};
  for (int32_t t = 4; t < vocab; ++t)
    alphabet.push_back(t);
  std::vector<std::vector<int32_t>> out = {{}};
  for (size_t begin = 0; begin < out.size(); ++begin)
    if (static_cast<int>(out[begin].size()) < max_tokens)
      for (int32_t t : alphabet) {
        std::vector<int32_t> longer = out[begin];
        longer.push_back(t);
        out.push_back(longer);
      }
  return out;
}

}  // namespace s2s
