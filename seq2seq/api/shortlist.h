// Lexical shortlists (Marian's --shortlist): for each source piece, the K target pieces that
// co-occur with it most strongly in a parallel corpus (Dice coefficient over sentence pairs), plus
// the F most frequent target pieces. Decoding a batch then scores only the union of its source
// pieces' lists (AttentionDecoder::restrict_vocabulary): the output projection over the whole
// vocabulary, the largest product of every step, shrinks to the pieces a translation of these
// sentences plausibly uses. Stored in a model folder as shortlist.safetensors ("candidates" i32
// [V, K], -1 where a piece has fewer; "frequent" i32 [F]).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "vocab/vocab.h"

namespace s2s::api {

inline constexpr const char* kShortlistFile = "shortlist.safetensors";

struct ShortlistOptions {
  int64_t candidates = 50;  // K: target pieces per source piece (at most the vocabulary size)
  int64_t frequent = 200;   // F: the most frequent target pieces, always allowed (likewise)
  int64_t max_pairs = 0;    // count at most this many pairs of the corpus (0: all)
  // Called every 100,000 pairs read and at the end with the pairs read so far.
  std::function<void(int64_t pairs)> on_progress;
};

class Shortlist {
 public:
  // Counts a parallel corpus (a TSV file, or source and target files; bad lines skipped) encoded
  // with the model's vocabulary. ConfigError for K < 1 or F < 0 (larger than the vocabulary:
  // capped to it), InputError for a corpus without a usable pair.
  static Shortlist build(const Vocab& vocab, const std::vector<std::string>& corpus,
                         const ShortlistOptions& options);
  // Reads shortlist.safetensors; InputError naming the file when it does not fit a vocabulary of
  // vocab_size pieces (wrong tensors, shapes, dtypes or ids out of range).
  static Shortlist load(const std::string& path, int64_t vocab_size);
  // Writes it atomically.
  void save(const std::string& path) const;

  // The sorted, unique target ids a batch of these sources may produce: the lists of every
  // source piece, the frequent pieces, EOS and UNK.
  std::vector<int32_t> allowed(const std::vector<const std::vector<int32_t>*>& sources) const;

  int64_t vocab_size() const { return vocab_size_; }
  int64_t candidates() const { return candidates_; }
  int64_t frequent() const { return static_cast<int64_t>(frequent_.size()); }
  int64_t pairs_counted() const { return pairs_; }

 private:
  int64_t vocab_size_ = 0;
  int64_t candidates_ = 0;
  int64_t pairs_ = 0;
  std::vector<int32_t> table_;  // [V, K], -1 padded
  std::vector<int32_t> frequent_;
};

// Builds a shortlist from corpus and writes it into the model folder (verified first), then the
// folder's manifest again, so that the folder still verifies. Returns what it wrote.
Shortlist add_shortlist(const std::string& model_folder, const std::vector<std::string>& corpus,
                        const ShortlistOptions& options);

}  // namespace s2s::api
