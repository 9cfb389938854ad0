// TranslationModel: a token encoder, an attention decoder and their vocabularies, built from a
// resolved recipe or loaded from a model folder (model.safetensors, config.yaml, vocab.model).
// Shared by `s2s train`, `s2s translate` and `s2s score` (translator.h searches and scores).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "decoders/attention_decoder.h"
#include "encoders/token_encoder.h"
#include "seq2seq/config.h"
#include "vocab/vocab.h"

namespace s2s::cli {

// The recipe's decoder.* keys for a decoder over encoder's memory (translation and captions
// alike); its seed is train.seed's decoder stream.
AttentionDecoderOptions decoder_options(const Config& config, int64_t vocab_size,
                                        const Encoder& encoder, Device device);

struct TranslationModel {
  Config config;
  std::shared_ptr<Vocab> vocab;  // joint source and target vocabulary
  std::unique_ptr<TokenEncoder> encoder;
  std::unique_ptr<AttentionDecoder> decoder;

  // Builds fresh (seeded) parameters for config with the given vocabulary.
  static TranslationModel build(const Config& config, std::shared_ptr<Vocab> vocab, Device device);
  // Loads a model folder written by s2s train; InputError naming the folder if it is incomplete.
  static TranslationModel load(const std::string& folder, Device device);

  std::vector<Parameter*> parameters();
  void set_training(bool training);
};

}  // namespace s2s::cli
