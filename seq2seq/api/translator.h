// Translator: a trained translation model (or an ensemble sharing one vocabulary), loaded once,
// translating and scoring lines. What `s2s translate` and `s2s score`, the Python package and the
// server call.
//
//   s2s::api::Translator translator("runs/hour/model");           // device cpu, 2 threads
//   s2s::api::TranslateOptions options = translator.default_options();  // the model's recipe
//   options.beam_size = 5, options.n_best = 2, options.alignment = Alignment::hard;
//   for (const TranslationResult& r : translator.translate({"Das ist gut."}, options))
//     std::cout << r.hypotheses[0].text << "\n";
//
// Lines are sorted by length into batches (batch_size sentences, or batch_tokens padded source
// pieces) and the results come back in input order, identical whatever the batching. A line that
// cannot be translated (invalid UTF-8, too long with reject_long) gets a result with its error
// and no hypotheses; the others are translated — a bad line never costs the batch.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "seq2seq/config.h"
#include "seq2seq/model/memory.h"
#include "seq2seq/runtime.h"

namespace s2s::api {

// Where a model runs and how many cores it uses.
struct ModelOptions {
  std::string device = "cpu";     // cpu | cuda | cuda:N
  int threads = kDefaultThreads;  // CPU threads in all (math threads of each replica x replicas)
  // Model copies working on separate slices of a call's lines, each on threads / replicas math
  // threads; concurrent calls (threads of the caller) each take the free ones. 1: one copy that
  // uses every thread inside its matrix products (the fastest for one big batch job).
  int replicas = 1;
};

enum class Alignment { none, hard, soft };

struct TranslateOptions {
  int beam_size = 5;                // hypotheses kept per sentence; 1 = greedy
  int n_best = 1;                   // hypotheses returned per line (<= beam_size)
  double length_penalty = 0.6;      // alpha: score = log P / ((5 + |y|) / 6)^alpha; 0 = none
  double coverage_penalty = 0.0;    // beta (GNMT); 0 = none
  double max_length_factor = 2.0;   // output limit: factor * source pieces + 10
  int64_t min_length = 0;           // no EOS before this many output pieces
  int64_t batch_size = 32;          // sentences decoded together
  int64_t batch_tokens = 0;         // > 0: also at most this many padded source pieces per batch
  int64_t max_source_length = 256;  // longer sources (pieces) are truncated with a warning...
  bool reject_long = false;         // ... or fail
  Alignment alignment = Alignment::none;  // keep each output piece's attention over the source
  bool output_pieces = false;  // texts are the output pieces, space-separated, not detokenized
  bool target_pieces = false;  // score(): targets are space-separated pieces, not text
  // Use the model folder's lexical shortlist (s2s shortlist) if it has one: each batch's output
  // is limited to its sources' candidate pieces. false: the whole vocabulary, exactly as a folder
  // without a shortlist translates.
  bool shortlist = true;
  // Decoding across pipeline stages (`s2s translate --stages 2` under mpirun; one model, one
  // replica): the encoder's rank sets send_memory, which gets each batch's memory (vectors and
  // summary as copies of its own on the CPU, free to send as they are) and nothing is searched (the
  // results have no hypotheses); the decoder's rank sets receive_memory, which fills a batch's
  // memory (vectors and summary, shaped and on the CPU) instead of the encoder. Both ranks
  // translate the same lines with the same options, so their batches match.
  std::function<void(const Memory&)> send_memory;
  std::function<void(Memory&)> receive_memory;

  // InvalidArgument naming the field for a value out of range.
  void validate() const;
};

// One hypothesis.
struct Translation {
  std::string text;                    // detokenized (or the pieces, with output_pieces)
  std::vector<std::string> pieces;     // the output pieces, EOS excluded
  double score = 0;                    // what the search ranked by (with length/coverage penalties)
  double log_prob = 0;                 // log P(pieces, EOS | source)
  std::vector<float> token_log_probs;  // per piece, then EOS
  // With alignment: per piece and then EOS, the attention weights over the source pieces.
  std::vector<std::vector<float>> attention;
  // With alignment: per output piece, the source piece it attends to most.
  std::vector<int32_t> hard_alignment() const;
};

struct TranslationResult {
  std::vector<Translation> hypotheses;     // best first; empty for an empty or failed line
  std::vector<std::string> source_pieces;  // the source as the model read it (after truncation)
  std::string warning;                     // e.g. the source was truncated
  std::string error;                       // why this line has no translation
  bool ok() const { return error.empty(); }
};

struct ScoreResult {
  double log_prob = 0;                 // log P(target, EOS | source)
  std::vector<float> token_log_probs;  // per target piece, then EOS
  std::string warning;                 // e.g. the source was truncated
  std::string error;                   // why this pair has no score
  bool ok() const { return error.empty(); }
};

class Translator {
 public:
  // A model folder written by `s2s train`; InputError naming the folder when it is not one.
  explicit Translator(const std::string& model, const ModelOptions& options = {});
  // An ensemble: the members' log-probabilities are averaged step by step; they must share the
  // first one's vocabulary (InputError naming the one that does not).
  explicit Translator(const std::vector<std::string>& models, const ModelOptions& options = {});
  ~Translator();
  Translator(const Translator&) = delete;
  Translator& operator=(const Translator&) = delete;

  // The model's translate.* settings from its recipe: where a caller starts from.
  const TranslateOptions& default_options() const;

  std::vector<TranslationResult> translate(const std::vector<std::string>& lines,
                                           const TranslateOptions& options) const;
  std::vector<TranslationResult> translate(const std::vector<std::string>& lines) const {
    return translate(lines, default_options());
  }

  // Forced decoding: log P(target | source) of each pair (an ensemble averages the members'
  // per-piece log-probabilities, as its search does). Uses batch_size, max_source_length and
  // target_pieces of options.
  std::vector<ScoreResult> score(const std::vector<std::string>& sources,
                                 const std::vector<std::string>& targets,
                                 const TranslateOptions& options) const;
  std::vector<ScoreResult> score(const std::vector<std::string>& sources,
                                 const std::vector<std::string>& targets) const {
    return score(sources, targets, default_options());
  }

  const Config& config() const;  // the (first) model's resolved recipe
  int replicas() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace s2s::api
