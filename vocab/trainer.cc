// SentencePiece training fed by s2s's own reader and normalizer, written atomically.
#include "vocab/trainer.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <memory>
#include <mutex>
#include <sstream>
#include <string_view>
#include <unordered_map>

#include "seq2seq/atomic_file.h"
#include "seq2seq/error.h"
#include "seq2seq/line_reader.h"
#include "seq2seq/random.h"
#include "vocab/normalizer.h"
#include "vocab/vocab.h"

namespace s2s {
namespace {

namespace spm = sentencepiece;

struct Corpus {
  std::vector<std::string> sentences;  // the sample, normalized
  size_t lines_read = 0;
  size_t sentences_seen = 0;  // before sampling
};

// Reads every input line by line, normalizes it and keeps a uniform sample of at most
// options.max_sentences non-empty sentences (reservoir sampling, Algorithm R, with s2s's seeded
// Rng). SentencePiece can sample too, but 0.1.97 ignores the seed it is given for that (changing
// it changed nothing here). Every error in the input surfaces here, before SentencePiece runs.
Corpus read_corpus(const std::vector<TrainingInput>& inputs, const SentencePieceOptions& options) {
  Corpus corpus;
  Rng rng(options.seed);
  const size_t limit = options.max_sentences;
  std::string line, sentence;
  for (const TrainingInput& input : inputs) {
    LineReader reader(input.path);
    for (;;) {
      try {
        if (!reader.next(line)) break;
      } catch (const InputError&) {
        if (options.skip_bad_lines) continue;
        throw;
      }
      ++corpus.lines_read;
      if (options.on_progress && options.progress_every > 0 &&
          corpus.lines_read % options.progress_every == 0)
        options.on_progress(corpus.lines_read);
      std::string_view text = line;
      if (input.column != TrainingInput::kWholeLine) {
        const size_t tab = text.find('\t');
        if (tab == std::string_view::npos || text.find('\t', tab + 1) != std::string_view::npos) {
          if (options.skip_bad_lines) continue;
          throw InputError(reader.location() +
                           ": expected `source<TAB>target` (exactly one tab) in a parallel corpus");
        }
        text = input.column == TrainingInput::kSource ? text.substr(0, tab) : text.substr(tab + 1);
      }
      try {
        sentence = normalize_text(text);
      } catch (const InputError& e) {
        throw InputError(reader.location() + ": " + e.what());
      }
      // SentencePiece would drop blank sentences itself; skipping them here keeps counts true.
      if (sentence.find_first_not_of(' ') == std::string::npos) continue;
      const size_t seen = corpus.sentences_seen++;
      if (limit == 0 || seen < limit) {
        corpus.sentences.push_back(std::move(sentence));
      } else {
        const uint64_t slot = rng.next_bits() % (seen + 1);  // bias < 2^-40 for any real corpus
        if (slot < limit) corpus.sentences[slot] = std::move(sentence);
      }
    }
  }
  return corpus;
}

// Hands the sample to SentencePiece, releasing each sentence once SentencePiece has copied it,
// so that the sample is not held twice.
class SampleIterator : public spm::SentenceIterator {
 public:
  explicit SampleIterator(std::vector<std::string>& sentences) : sentences_(sentences) {}
  bool done() const override { return next_ >= sentences_.size(); }
  const std::string& value() const override { return sentences_[next_]; }
  void Next() override { std::string().swap(sentences_[next_++]); }
  spm::util::Status status() const override { return spm::util::Status(); }

 private:
  std::vector<std::string>& sentences_;
  size_t next_ = 0;
};

// SentencePiece's messages start with the check that failed ("Internal: ./src/x.cc(660)
// [(a) == (b)] Vocabulary size too high ..."); the user needs only the sentence after it.
std::string message_of(const spm::util::Status& status) {
  const std::string text = status.ToString();
  const size_t end_of_check = text.find("] ");
  return end_of_check == std::string::npos ? text : text.substr(end_of_check + 2);
}

std::string exact(double value) {  // std::to_string keeps only 6 decimals
  std::ostringstream out;
  out.precision(17);
  out << value;
  return out.str();
}

std::string describe(const std::vector<TrainingInput>& inputs) {
  std::string names;
  for (const auto& input : inputs) {
    if (!names.empty()) names += ", ";
    names += "'" + input.path + "'";
    if (input.column == TrainingInput::kSource) names += " (source side)";
    if (input.column == TrainingInput::kTarget) names += " (target side)";
  }
  return names;
}

}  // namespace

void validate(const SentencePieceOptions& options) {
  // SentencePiece checks these too, but its messages name internal fields, not our options.
  S2S_CHECK(options.vocab_size > 4, "vocabulary size must exceed the 4 special pieces, got ",
            options.vocab_size);
  S2S_CHECK(options.character_coverage >= 0.98 && options.character_coverage <= 1.0,
            "character coverage must be in [0.98, 1.0], got ", options.character_coverage);
  S2S_CHECK(options.num_threads >= 1 && options.num_threads <= 128,
            "threads must be in [1, 128], got ", options.num_threads);
}

SentencePieceStats train_sentencepiece(const std::vector<TrainingInput>& inputs,
                                       const SentencePieceOptions& options,
                                       const std::string& model_prefix) {
  validate(options);
  S2S_CHECK(!inputs.empty(), "no training input given");
  S2S_CHECK(!model_prefix.empty(), "empty model prefix");
  for (const auto& input : inputs)
    S2S_CHECK(input.column >= TrainingInput::kWholeLine && input.column <= TrainingInput::kTarget,
              "input '", input.path, "': column must be -1, 0 or 1, got ", input.column);

  const std::unordered_map<std::string, std::string> args = {
      {"model_type", options.type == SentencePieceType::kBpe    ? "bpe"
                     : options.type == SentencePieceType::kWord ? "word"
                                                                : "unigram"},
      {"hard_vocab_limit", options.type == SentencePieceType::kWord ? "false" : "true"},
      {"vocab_size", std::to_string(options.vocab_size)},
      {"character_coverage", exact(options.character_coverage)},
      {"input_sentence_size", "0"},  // read_corpus has sampled already
      {"num_threads", std::to_string(options.num_threads)},
      {"pad_id", "0"},
      {"unk_id", "1"},
      {"bos_id", "2"},
      {"eos_id", "3"},
      {"pad_piece", "<pad>"},
      {"unk_piece", "<unk>"},
      {"bos_piece", "<s>"},
      {"eos_piece", "</s>"},
      // normalize_text already did NFKC; a second, different normalization inside SentencePiece
      // (its default nmt_nfkc also strips control characters) would make training and encoding
      // disagree with the text the rest of s2s sees.
      {"normalization_rule_name", "identity"},
      // 2 = errors only: a failed training reaches the user as one exception, not a log.
      {"minloglevel", options.verbose ? "0" : "2"},
  };

  // Created first, so that an unwritable destination fails before minutes of training. Both
  // temporaries are complete before either is renamed; the .model goes last because it is the
  // file s2s reads (the .vocab is for people and other tools).
  AtomicFile vocab_file(model_prefix + ".vocab");
  AtomicFile model_file(model_prefix + ".model");

  Corpus corpus = read_corpus(inputs, options);
  if (corpus.sentences.empty())
    throw InputError("no text to train a vocabulary on in " + describe(inputs));
  SentencePieceStats stats;
  stats.lines_read = corpus.lines_read;
  stats.sentences = corpus.sentences_seen;
  stats.sampled = corpus.sentences.size();

  std::string model;
  {
    // SentencePiece's log level and random generator are process-wide.
    static std::mutex mutex;
    const std::lock_guard lock(mutex);
    // For anything in SentencePiece that draws random numbers: seeded from ours, runs repeat.
    spm::SetRandomGeneratorSeed(static_cast<uint32_t>(mix64(options.seed) % 0xffffffffu));
    SampleIterator sample(corpus.sentences);
    const auto status = spm::SentencePieceTrainer::Train(args, &sample, &model);
    if (!status.ok())
      throw InputError("SentencePiece cannot train on " + describe(inputs) + ": " +
                       message_of(status));
  }

  // Reload what was trained: it checks the model and lists its pieces for the .vocab file.
  spm::SentencePieceProcessor processor;
  const auto status = processor.LoadFromSerializedProto(model);
  if (!status.ok())
    throw InputError("SentencePiece produced an unreadable model: " + message_of(status));
  std::ostringstream listing;  // formatted as SentencePiece's own .vocab files
  for (int id = 0; id < processor.GetPieceSize(); ++id)
    listing << processor.IdToPiece(id) << '\t' << processor.GetScore(id) << '\n';
  stats.vocab_size = processor.GetPieceSize();

  vocab_file.write(listing.str());
  model_file.write(model);
  vocab_file.commit();
  model_file.commit();
  return stats;
}

}  // namespace s2s
