// `s2s vocab train|encode|decode`: trains a SentencePiece vocabulary on corpora and applies it
// to text, line by line. Output files are written atomically; "-" is standard input/output.
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include "seq2seq/api/vocabulary.h"
#include "seq2seq/cli/command.h"
#include "seq2seq/error.h"
#include "seq2seq/line_reader.h"
#include "seq2seq/output_file.h"

namespace po = boost::program_options;

namespace s2s::cli {
namespace {

constexpr size_t kProgressEvery = 1'000'000;  // lines between progress lines on stderr

void report_progress(const char* command, size_t lines) {
  std::cerr << "s2s vocab " << command << ": " << lines / 1'000'000 << "M lines\n";
}

// "corpus.tsv:source" -> {corpus.tsv, kSource}; any other name is a plain text file.
TrainingInput parse_input(const std::string& spec) {
  for (const auto& [suffix, column] :
       {std::pair<std::string, int>{":source", TrainingInput::kSource},
        {":target", TrainingInput::kTarget}})
    if (spec.size() > suffix.size() && spec.ends_with(suffix))
      return {spec.substr(0, spec.size() - suffix.size()), column};
  return {spec, TrainingInput::kWholeLine};
}

int run_vocab_train(int argc, char** argv) {
  po::options_description options("Options");
  std::vector<std::string> input_specs;
  std::string prefix, type = "unigram";
  SentencePieceOptions sp;
  options.add_options()(
      "input", po::value(&input_specs)->composing()->required(),
      "training text, repeatable: FILE (plain text, one sentence a line), FILE:source or "
      "FILE:target (that side of a `source<TAB>target` corpus); - reads standard input")(
      "model-prefix", po::value(&prefix)->required(), "writes PREFIX.model and PREFIX.vocab")(
      "size", po::value(&sp.vocab_size)->required(), "vocabulary size, special pieces included")(
      "type", po::value(&type)->default_value(type), "unigram | bpe")(
      "character-coverage", po::value(&sp.character_coverage)->default_value(1.0),
      "share of characters covered, in [0.98, 1]; 1 for European languages, 0.9995 for CJK")(
      "max-sentences", po::value(&sp.max_sentences)->default_value(sp.max_sentences),
      "train on a random sample of at most N sentences (0: all)")(
      "seed", po::value(&sp.seed)->default_value(sp.seed),
      "seed of the sampling: same inputs, options and seed give the same model")(
      "threads", po::value(&sp.num_threads)->default_value(sp.num_threads), "training threads")(
      "verbose", po::bool_switch(&sp.verbose), "show SentencePiece's own log");
  po::variables_map values;
  if (!parse_options("vocab train",
                     "--input FILE[:source|:target]... --model-prefix PATH --size N [OPTIONS]",
                     options, argc, argv, values))
    return 0;
  if (type == "unigram")
    sp.type = SentencePieceType::kUnigram;
  else if (type == "bpe")
    sp.type = SentencePieceType::kBpe;
  else
    throw UsageError("s2s vocab train: --type must be unigram or bpe, got '" + type + "'");
  try {
    validate(sp);
  } catch (const InvalidArgument& e) {
    const std::string what = e.what();
    throw UsageError("s2s vocab train: " + what.substr(0, what.rfind(" [")));
  }
  std::vector<TrainingInput> inputs;
  for (const auto& spec : input_specs)
    inputs.push_back(parse_input(spec));
  sp.on_progress = [](size_t lines) { report_progress("train", lines); };
  sp.progress_every = kProgressEvery;
  const SentencePieceStats stats = train_sentencepiece(inputs, sp, prefix);
  std::cerr << "s2s vocab train: " << stats.vocab_size << " pieces from " << stats.sampled
            << " sentences";
  if (stats.sampled < stats.sentences) std::cerr << " (sampled from " << stats.sentences << ")";
  std::cerr << " -> " << prefix << ".model, " << prefix << ".vocab\n";
  return 0;
}

void add_io_options(po::options_description& options, std::string& model, std::string& input,
                    std::string& output) {
  options.add_options()("model,m", po::value(&model)->required(), "SentencePiece model (.model)")(
      "input,i", po::value(&input)->default_value("-"), "input file (- for standard input)")(
      "output,o", po::value(&output)->default_value("-"), "output file (- for standard output)");
}

int run_vocab_encode(int argc, char** argv) {
  po::options_description options("Options");
  std::string model, input, output;
  add_io_options(options, model, input, output);
  options.add_options()("ids", po::bool_switch(), "print token ids instead of pieces");
  po::variables_map values;
  if (!parse_options("vocab encode", "-m MODEL [-i FILE] [-o FILE] [--ids]", options, argc, argv,
                     values))
    return 0;
  const bool ids = values["ids"].as<bool>();
  const Vocab vocab = Vocab::load(model);
  LineReader reader(input);
  OutputFile out(output);
  std::string line, text;
  while (reader.next(line)) {
    text.clear();
    if (ids) {
      for (const int32_t id : vocab.encode(line)) {
        if (!text.empty()) text += ' ';
        text += std::to_string(id);
      }
    } else {
      for (const std::string& piece : vocab.encode_pieces(line)) {
        if (!text.empty()) text += ' ';
        text += piece;
      }
    }
    text += '\n';
    out.write(text);
    if (reader.line_number() % kProgressEvery == 0) report_progress("encode", reader.line_number());
  }
  out.commit();
  return 0;
}

int run_vocab_decode(int argc, char** argv) {
  po::options_description options("Options");
  std::string model, input, output;
  add_io_options(options, model, input, output);
  po::variables_map values;
  if (!parse_options("vocab decode", "-m MODEL [-i FILE] [-o FILE]", options, argc, argv, values))
    return 0;
  const Vocab vocab = Vocab::load(model);
  LineReader reader(input);
  OutputFile out(output);
  std::string line;
  std::vector<int32_t> ids;
  while (reader.next(line)) {
    ids.clear();
    const char* p = line.data();
    const char* end = p + line.size();
    for (;;) {
      while (p < end && *p == ' ')
        ++p;
      if (p == end) break;
      int32_t id = 0;
      const auto [next, error] = std::from_chars(p, end, id);
      if (error != std::errc() || (next < end && *next != ' '))
        throw InputError(reader.location() + ": expected token ids separated by spaces, found '" +
                         std::string(p, std::find(p, end, ' ')) + "'");
      if (id < 0 || id >= vocab.size())
        throw InputError(reader.location() + ": token id " + std::to_string(id) +
                         " is outside the vocabulary of " + std::to_string(vocab.size()));
      ids.push_back(id);
      p = next;
    }
    out.write(vocab.decode(ids));
    out.write("\n");
    if (reader.line_number() % kProgressEvery == 0) report_progress("decode", reader.line_number());
  }
  out.commit();
  return 0;
}

}  // namespace

int run_vocab(int argc, char** argv) {
  const std::string usage =
      "usage: s2s vocab train|encode|decode [OPTIONS]  (s2s vocab COMMAND --help for its options)";
  if (argc < 2) throw UsageError("s2s vocab: missing command; " + usage);
  const std::string command = argv[1];
  if (command == "--help" || command == "-h") {
    std::cout << usage << "\n"
              << "  train   train a SentencePiece vocabulary on text or one side of a TSV corpus\n"
              << "  encode  text -> pieces (or ids with --ids), one line per line\n"
              << "  decode  ids -> text, one line per line\n";
    return 0;
  }
  if (command == "train") return run_vocab_train(argc - 1, argv + 1);
  if (command == "encode") return run_vocab_encode(argc - 1, argv + 1);
  if (command == "decode") return run_vocab_decode(argc - 1, argv + 1);
  throw UsageError("s2s vocab: unknown command '" + command + "'; " + usage);
}

}  // namespace s2s::cli
