// Vocab: a trained SentencePiece model (vocab/trainer.h writes one) that turns text into token
// ids and back. Text is NFKC-normalized by ICU (vocab/normalizer.h) before SentencePiece sees it,
// exactly as at training time. SentencePiece stays behind a pointer so that no header outside
// vocab/ includes it.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace s2s {

class Vocab {
 public:
  // The special ids every s2s vocabulary has, checked when a model is loaded; the batcher pads
  // with kPad, and the decoder starts from kBos and stops at kEos.
  static constexpr int32_t kPad = 0;  // "<pad>"
  static constexpr int32_t kUnk = 1;  // "<unk>": text the vocabulary cannot spell
  static constexpr int32_t kBos = 2;  // "<s>"
  static constexpr int32_t kEos = 3;  // "</s>"

  // Loads PATH.model. Throws IoError if the file cannot be read, InputError naming the file if
  // it is not a SentencePiece model or its special ids differ from the ones above.
  static Vocab load(const std::string& path);

  Vocab(Vocab&&) noexcept;
  Vocab& operator=(Vocab&&) noexcept;
  ~Vocab();

  // Both encoders normalize, then segment. Neither adds kBos or kEos: that is the caller's
  // choice. Thread-safe. Throws InputError if text is not valid UTF-8.
  std::vector<int32_t> encode(std::string_view text) const;
  std::vector<std::string> encode_pieces(std::string_view text) const;  // "▁Hel", "lo"

  // Joins the pieces of ids back into text; special ids (pad, bos, eos) produce nothing, kUnk
  // produces " ⁇ ". decode(encode(x)) == normalize_text(x) with runs of spaces collapsed and
  // leading/trailing spaces dropped, for any x the vocabulary can spell. Thread-safe. Throws
  // InvalidArgument for an id outside [0, size()).
  std::string decode(std::span<const int32_t> ids) const;

  const std::string& piece(int32_t id) const;  // "▁the"; throws InvalidArgument when out of range
  int32_t size() const;                        // number of pieces, special ones included
  // The id of a piece ("▁the"), or -1 if the vocabulary has no such piece.
  int32_t piece_id(std::string_view piece) const;
  const std::string& path() const { return path_; }

 private:
  Vocab(std::string path, std::unique_ptr<sentencepiece::SentencePieceProcessor> processor);
  void check_id(int32_t id) const;

  std::string path_;
  std::unique_ptr<sentencepiece::SentencePieceProcessor> processor_;
};

}  // namespace s2s
