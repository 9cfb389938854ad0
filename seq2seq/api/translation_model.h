// TranslationModel: a token encoder, an attention decoder and their vocabularies, built from a
// resolved recipe or loaded from a model folder (model.safetensors, config.yaml, vocab.model).
// Internal to api/: Translator, ReplySuggester and training hold their models as these;
// front ends use translator.h.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "decoders/attention_decoder.h"
#include "encoders/token_encoder.h"
#include "seq2seq/api/shortlist.h"
#include "seq2seq/config.h"
#include "vocab/vocab.h"

namespace s2s::api {

struct TranslationModel {
  Config config;
  std::shared_ptr<Vocab> vocab;  // joint source and target vocabulary
  std::unique_ptr<TokenEncoder> encoder;
  std::unique_ptr<AttentionDecoder> decoder;
  // The folder's lexical shortlist (s2s shortlist), if it has one; used by translate() unless
  // TranslateSettings::use_shortlist is off.
  std::shared_ptr<const Shortlist> shortlist;

  // Builds fresh (seeded) parameters for config with the given vocabulary.
  static TranslationModel build(const Config& config, std::shared_ptr<Vocab> vocab, Device device);
  // Loads a model folder written by s2s train; InputError naming the folder if it is incomplete.
  static TranslationModel load(const std::string& folder, Device device);

  std::vector<Parameter*> parameters();
  void set_training(bool training);
};

}  // namespace s2s::api
