// The translation pipeline inside api/: batched translation and forced-decoding scoring of lines
// with one model or an ensemble that shares a vocabulary, over loaded TranslationModels. Lines
// are sorted by length into batches (sentences or source tokens per batch) and results come back
// in input order, identical whatever the batching. Translator (translator.h) runs it on its
// replicas; training's validation BLEU and the reply job call it directly.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <vector>

#include "beam_search/beam_search.h"
#include "seq2seq/api/translation_model.h"

namespace s2s::api {

struct TranslateSettings {
  int64_t batch_size = 32;          // sentences per batch
  int64_t batch_tokens = 0;         // > 0: also at most this many (padded) source pieces per batch
  int64_t max_source_length = 256;  // longer sources are truncated with a warning ...
  bool reject_long = false;         // ... or fail
  BeamSearchOptions search;         // beam 1 and no penalties: greedy decoding
  bool output_pieces = false;       // translate: texts are the pieces, space-separated
  bool target_pieces = false;       // score: targets are given as space-separated pieces
  // translate: a model folder's lexical shortlist limits each batch's output pieces (shortlist.h);
  // off: the whole vocabulary, exactly as without one.
  bool use_shortlist = true;
  // Pipeline stages (TranslateOptions): hand each batch's memory on instead of searching, or
  // take it instead of encoding.
  std::function<void(const Memory&)> send_memory;
  std::function<void(Memory&)> receive_memory;
};

struct TranslatedLine {
  std::vector<int32_t> source;         // the source pieces decoded (after truncation)
  std::vector<Hypothesis> hypotheses;  // best first; empty for an empty or failed line
  std::vector<std::string> texts;      // the hypotheses as text
  std::string warning;                 // e.g. the source was truncated
  std::string error;                   // why this line has no translation
};

// The options a model folder's recipe gives (translate.*), before command-line changes.
TranslateSettings translate_settings(const Config& config);

// Translates lines in their order. Every model must share the first one's vocabulary.
std::vector<TranslatedLine> translate(std::span<TranslationModel* const> models,
                                      const std::vector<std::string>& lines,
                                      const TranslateSettings& options);

// The best translation of each line as text (the trainer's validation BLEU).
std::vector<std::string> translate_lines(TranslationModel& model,
                                         const std::vector<std::string>& lines,
                                         const TranslateSettings& options);

struct PairScore {
  double log_prob = 0;                 // log P(target, EOS | source)
  std::vector<float> token_log_probs;  // per target piece, then EOS
  std::string warning;                 // e.g. the source was truncated
  std::string error;                   // why this pair has no score
};

// Forced decoding: log P(target | source) of each (source, target) pair, batched; an ensemble
// averages the members' per-token log-probabilities, exactly as its beam search does.
std::vector<PairScore> score_pairs(std::span<TranslationModel* const> models,
                                   const std::vector<std::string>& sources,
                                   const std::vector<std::string>& targets,
                                   const TranslateSettings& options);

// The memory of one batch under one model: column j holds sources[batch[j]]; lengths receives
// the real pieces per column. Shared with the reply job, which encodes messages the same way.
Memory encode_batch(TranslationModel& model, const std::vector<std::vector<int32_t>>& sources,
                    const std::vector<size_t>& batch, std::vector<int64_t>& lengths);

// Forced decoding of one batch: for column j of memory, log P of each piece of *targets[j] and
// then of EOS.
std::vector<std::vector<double>> forced_log_probs(
    TranslationModel& model, const Memory& memory,
    const std::vector<const std::vector<int32_t>*>& targets);

// InputError unless every model has the first one's vocabulary (ensembles need one).
void check_same_vocabulary(std::span<TranslationModel* const> models,
                           const std::vector<std::string>& names);

}  // namespace s2s::api
