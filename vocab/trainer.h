// Training a SentencePiece vocabulary from s2s corpora: plain text files or one side of a
// `source<TAB>target` file, read with LineReader (UTF-8 checked, errors name file:line), NFKC-
// normalized by ICU exactly as Vocab::encode does, and written as PREFIX.model + PREFIX.vocab.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace s2s {

enum class SentencePieceType {
  kUnigram,  // unigram language model (Kudo 2018), SentencePiece's default
  kBpe,      // byte-pair encoding (Sennrich et al. 2016)
  kWord,     // whitespace-separated words (caption text, normalized); vocab_size is then an upper
             // bound: a small caption language has fewer words than the size asked for
};

// One training file. A plain text file gives whole lines; a parallel corpus, one side of it.
struct TrainingInput {
  static constexpr int kWholeLine = -1;  // plain text: every line is a sentence
  static constexpr int kSource = 0;      // TSV corpus, the text before the tab
  static constexpr int kTarget = 1;      // TSV corpus, the text after the tab

  std::string path;         // "-" reads standard input
  int column = kWholeLine;  // kWholeLine, kSource or kTarget
};

struct SentencePieceOptions {
  SentencePieceType type = SentencePieceType::kUnigram;  // segmentation model
  int32_t vocab_size = 8000;  // pieces in the vocabulary, the 4 special ones included (> 4)
  // Share of the characters of the training text that the vocabulary must spell with single-
  // character pieces; rarer characters become <unk>. 1.0 (default) suits European languages,
  // whose alphabets are small; 0.9995 is the usual choice for Chinese or Japanese, whose rare
  // ideographs would otherwise crowd out useful pieces. SentencePiece accepts [0.98, 1.0].
  double character_coverage = 1.0;
  // At most this many sentences (non-empty normalized lines) are used: a uniform random sample
  // of all the inputs (reservoir sampling), held in memory while SentencePiece trains; 0 uses
  // every sentence. Default 2M.
  size_t max_sentences = 2'000'000;
  // Seeds that sampling: the same inputs, options and seed give a byte-identical model. Inputs
  // of at most max_sentences sentences are used whole and in order, so the seed changes nothing.
  // (The .model records num_threads, so its bytes differ between thread counts; the pieces and
  // scores did not in our checks.)
  uint64_t seed = 1;
  int num_threads = 2;   // threads SentencePiece trains with (1..128)
  bool verbose = false;  // let SentencePiece log its progress to stderr
  // true: a malformed line (no or several tabs in a TSV, invalid UTF-8, over-long) is left out
  // of the sample instead of stopping training; for corpora read with on_bad_line: skip, whose
  // reader reports those lines itself. Default false: every bad line is an InputError.
  bool skip_bad_lines = false;
  // Called every progress_every lines read, with the number read so far (0: never).
  std::function<void(size_t lines_read)> on_progress;
  size_t progress_every = 1'000'000;
};

struct SentencePieceStats {
  size_t lines_read = 0;  // every line of every input
  size_t sentences = 0;   // lines that were non-empty after normalization
  size_t sampled = 0;     // sentences trained on: min(sentences, max_sentences)
  int32_t vocab_size = 0;
};

// Throws InvalidArgument naming the first option that is out of range.
void validate(const SentencePieceOptions& options);

// Trains on inputs (in order) and writes model_prefix + ".model" (the SentencePiece model proto)
// and model_prefix + ".vocab" (one `piece<TAB>score` line per id), each atomically and both only
// after training succeeded: a failed training creates or changes neither. The model has pad=0
// <pad>, unk=1 <unk>, bos=2 <s>, eos=3 </s> and SentencePiece's own normalization switched off
// (identity rules; whitespace is still collapsed and a leading "▁" added), so normalization happens
// once, in normalize_text, at training and at encoding time alike. Throws IoError for a file that
// cannot be read or written, InputError for bad text (invalid UTF-8 or a TSV line without exactly
// one tab, naming file:line; no text at all) or for a vocabulary the text cannot fill,
// InvalidArgument for bad options. Trainings in one process run one at a time (SentencePiece's seed
// and log level are global).
SentencePieceStats train_sentencepiece(const std::vector<TrainingInput>& inputs,
                                       const SentencePieceOptions& options,
                                       const std::string& model_prefix);

}  // namespace s2s
