// TranslationModel: a token encoder, an attention decoder and their vocabularies, built from a
// resolved recipe or loaded from a model folder (model.safetensors, config.yaml, vocab.model).
// Shared by `s2s train`, `s2s translate` and the validation BLEU of training.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "beam_search/greedy.h"
#include "decoders/attention_decoder.h"
#include "encoders/token_encoder.h"
#include "seq2seq/config.h"
#include "vocab/vocab.h"

namespace s2s::cli {

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

struct TranslateOptions {
  int64_t batch_size = 32;         // sentences per batch (sorted by length within a window)
  double max_length_factor = 2.0;  // output limit: factor * source pieces + 10
};

// Translates lines (greedy), in their order; an empty line gives an empty line.
std::vector<std::string> translate_lines(TranslationModel& model,
                                         const std::vector<std::string>& lines,
                                         const TranslateOptions& options);

}  // namespace s2s::cli
