// Batcher: turns a parallel corpus into a deterministic, resumable sequence of padded batches.
// Owns the training data order: length filtering, the shuffle buffer, length bucketing in pools
// (Marian's maxi-batches), packing by a padded-token budget, epochs, and the two-integer State a
// checkpoint saves to resume exactly. Knows nothing of vocabularies: encoding comes in as
// functions.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "seq2seq/data/batch.h"
#include "seq2seq/data/parallel_corpus.h"
#include "seq2seq/random.h"

namespace s2s::data {

// Pairs that match every condition given are repeated `times` times in each epoch (the copies
// go through the same shuffle, so they land in different batches). For a corpus whose examples
// are mostly of another shape than the test data, e.g. dictionary phrases next to sentences.
struct OversampleRule {
  int64_t times = 1;  // 1: off
  // The source has at least this many space-separated words (0: any).
  int64_t min_source_words = 0;
  // The source, trailing spaces ignored, ends with one of these strings (empty: any).
  std::vector<std::string> source_ends_with;

  bool matches(const std::string& source) const;
};

struct BatcherOptions {
  // Budget of padded tokens per batch: max(S, U) * B <= batch_tokens, U = longest target + 1.
  // Counting padding on the longer side bounds the activation memory of encoder and decoder
  // alike. An example over the budget on its own still makes a batch of one. Default 4096.
  int64_t batch_tokens = 4096;
  // Most sentences per batch; 0: only batch_tokens limits. Default 0.
  int64_t max_sentences = 0;
  // Examples whose source or target has more tokens (BOS/EOS not counted) are dropped and
  // counted as too long; 0: no limit. Ignored in in_order mode. Default 100.
  int64_t max_length = 100;
  // Shuffle examples (through a buffer of shuffle_buffer examples) and the batch order within
  // each pool. Ignored in in_order mode. Default true.
  bool shuffle = true;
  // Examples held for the shuffle: the window within which examples are permuted. Default 100000.
  int64_t shuffle_buffer = 100000;
  // Examples per pool: each pool is sorted by length, cut into batches, and (with shuffle) its
  // batches emitted in random order, so batches carry little padding. Default 20000.
  int64_t pool_size = 20000;
  // Sort each pool by (source length, target length) before cutting it. Default true.
  bool sort_by_length = true;
  // Validation and translation: corpus order of pools, no shuffle, no example dropped (not even
  // an empty source), still packed by batch_tokens; Batch::indices restore the order. Default
  // false.
  bool in_order = false;
  // Seed of the shuffles; epoch e draws from Rng(seed).split(e). Default 1.
  uint64_t seed = 1;
  // Threads that run the encode functions (output order does not depend on it). Default 1.
  int threads = 1;
  // Special ids placed by make_batch. Default pad 0, bos 2, eos 3.
  SpecialIds ids;
  // Training only (ignored in in_order mode): which pairs are repeated. Default off.
  OversampleRule oversample;
};

// Opens the corpus for an epoch (each epoch and each restore re-reads it from the start); the
// epoch lets a caller silence bad-line reports after the first.
using CorpusFactory = std::function<std::unique_ptr<ParallelCorpus>(int64_t epoch)>;
// Text -> token ids, without BOS/EOS. Called from `threads` threads at once: must be thread-safe.
using EncodeFn = std::function<std::vector<int32_t>(const std::string&)>;

struct BatcherStats {
  uint64_t examples = 0;      // examples that passed the filters this epoch
  uint64_t too_long = 0;      // dropped: longer than max_length
  uint64_t empty_source = 0;  // dropped: source encoded to no tokens
  uint64_t oversampled = 0;   // of the examples: extra copies made by the oversample rule
};

class Batcher {
 public:
  // Where an epoch stands; saved in state.yaml as two integers.
  struct State {
    int64_t epoch = 0;
    int64_t batches_in_epoch = 0;  // batches next() has returned in this epoch
    bool operator==(const State&) const = default;
  };

  // Throws ConfigError for an invalid option, InvalidArgument for a missing function.
  Batcher(CorpusFactory corpus, EncodeFn encode_source, EncodeFn encode_target,
          BatcherOptions options = {});
  ~Batcher();
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  // Starts epoch `epoch` from the beginning of the corpus (next() starts epoch 0 if not called).
  void start_epoch(int64_t epoch);
  // The next batch of the epoch; false at its end. Throws what the corpus or encoders throw.
  bool next(Batch& batch);
  // Passes over the next batch without building it (another rank's batch); false at the end.
  bool skip();

  State state() const { return {epoch_, emitted_}; }
  // Continues exactly where `state` was taken: the next batch equals the one an uninterrupted
  // run would return next. Cost: the epoch is re-read and re-encoded up to that point (batches
  // are not built while skipping). Throws InvalidArgument if the epoch has fewer batches now.
  void restore(const State& state);

  const BatcherStats& stats() const { return stats_; }  // this epoch so far
  const CorpusStats& corpus_stats() const;              // this epoch's reader so far
  const BatcherOptions& options() const { return options_; }

 private:
  bool read_block();                // reads, encodes and filters pairs into incoming_
  bool next_example(Example& out);  // through the shuffle buffer
  bool fill_pool();                 // the next pool, cut into batches
  bool advance();                   // makes the next batch's range current
  size_t random_below(size_t n);

  CorpusFactory corpus_factory_;
  EncodeFn encode_source_, encode_target_;
  BatcherOptions options_;

  int64_t epoch_ = 0;
  int64_t emitted_ = 0;
  bool started_ = false;
  bool exhausted_ = false;  // the corpus has no more pairs
  Rng rng_;
  std::unique_ptr<ParallelCorpus> corpus_;
  BatcherStats stats_;
  std::deque<Example> incoming_;  // encoded, filtered, not yet in the shuffle buffer
  std::vector<Example> buffer_;   // the shuffle buffer
  std::vector<Example> pool_;
  std::vector<std::pair<size_t, size_t>> batches_;  // [begin, end) ranges of pool_, in emit order
  size_t next_batch_ = 0;
};

}  // namespace s2s::data
