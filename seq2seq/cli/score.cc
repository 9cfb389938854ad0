// `s2s score -m MODEL [-m MODEL...]`: forced decoding. Reads (source, target) pairs, from a TSV
// file (`source<TAB>target` per line) or from two line-parallel files, and writes per pair
// `log P(target | source)<TAB>log-prob of each target piece and of EOS`, in input order. Pairs
// are scored in batches; an unreadable pair (invalid UTF-8, no tab, empty source) is named on
// stderr and gets an empty line, the rest are scored, and the exit code says whether any failed.
#include <cstdio>
#include <iostream>
#include <memory>

#include "seq2seq/api/translator.h"
#include "seq2seq/cli/command.h"
#include "seq2seq/error.h"
#include "seq2seq/line_reader.h"
#include "seq2seq/output_file.h"
#include "seq2seq/progress.h"

namespace po = boost::program_options;

namespace s2s::cli {

namespace {

std::string number(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.4f", value);
  return buffer;
}

// Pairs from a TSV file or from two parallel files, a chunk at a time.
class PairReader {
 public:
  PairReader(const std::string& tsv, const std::string& source, const std::string& target) {
    if (!source.empty()) {
      source_ = std::make_unique<LineReader>(source);
      target_ = std::make_unique<LineReader>(target);
    } else {
      tsv_ = std::make_unique<LineReader>(tsv);
    }
  }
  // False at the end. error: why this pair cannot be scored (then source/target are empty).
  bool next(std::string& source, std::string& target, std::string& error) {
    source.clear(), target.clear(), error.clear();
    if (tsv_) {
      std::string line;
      try {
        if (!tsv_->next(line)) return false;
      } catch (const InputError& e) {
        error = e.what();
        return true;
      }
      const size_t tab = line.find('\t');
      if (tab == std::string::npos || line.find('\t', tab + 1) != std::string::npos) {
        error = tsv_->location() + ": expected `source<TAB>target` (one tab)";
        return true;
      }
      source = line.substr(0, tab);
      target = line.substr(tab + 1);
      return true;
    }
    bool have_source = false, have_target = false;
    try {
      have_source = source_->next(source);
    } catch (const InputError& e) {
      error = e.what();
      have_source = true;
    }
    try {
      have_target = target_->next(target);
    } catch (const InputError& e) {
      if (error.empty()) error = e.what();
      have_target = true;
    }
    if (have_source != have_target)
      throw InputError("'" + source_->path() + "' and '" + target_->path() +
                       "' have different numbers of lines");
    if (!error.empty()) source.clear(), target.clear();
    return have_source;
  }

 private:
  std::unique_ptr<LineReader> tsv_, source_, target_;
};

}  // namespace

int run_score(int argc, char** argv) {
  po::options_description options("Options");
  std::vector<std::string> model_paths;
  std::string input = "-", source_path, target_path, output = "-", device_name = "cpu";
  int threads = kDefaultThreads;
  int64_t chunk = 10000;
  options.add_options()("model,m", po::value(&model_paths)->required()->composing(),
                        "model folder; several: an ensemble averaging their log-probabilities")(
      "input,i", po::value(&input)->default_value("-"),
      "pairs as `source<TAB>target` lines (- = stdin)")(
      "source", po::value(&source_path), "source sentences, one a line (with --target)")(
      "target", po::value(&target_path), "target sentences, line-parallel to --source")(
      "output,o", po::value(&output)->default_value("-"), "output file (- = stdout)")(
      "batch-size", po::value<int64_t>(), "pairs scored together (default: the model's)")(
      "target-pieces", po::bool_switch(),
      "targets are space-separated pieces (as `s2s translate --pieces` writes them), not text")(
      "max-source-length", po::value<int64_t>(),
      "longer sources (pieces) are truncated with a warning, as translate does")(
      "threads", po::value(&threads)->default_value(kDefaultThreads), "CPU threads")(
      "device", po::value(&device_name)->default_value("cpu"), "cpu | cuda | cuda:N")(
      "chunk", po::value(&chunk)->default_value(10000), "pairs read and scored at a time");
  po::variables_map values;
  if (!parse_options("score", "-m MODEL [-i PAIRS.tsv | --source FILE --target FILE] [OPTIONS]",
                     options, argc, argv, values))
    return 0;
  if (source_path.empty() != target_path.empty())
    throw UsageError("s2s score: --source and --target go together");
  if (chunk < 1) throw UsageError("s2s score: --chunk must be at least 1");
  const api::Translator translator(model_paths, {device_name, threads});
  api::TranslateOptions settings = translator.default_options();
  if (values.count("batch-size")) settings.batch_size = values["batch-size"].as<int64_t>();
  if (values.count("max-source-length"))
    settings.max_source_length = values["max-source-length"].as<int64_t>();

  settings.target_pieces = values["target-pieces"].as<bool>();
  PairReader reader(input, source_path, target_path);
  OutputFile out(output);
  Progress progress("score", 0, "pairs");
  int64_t done = 0, failed = 0;
  std::string first_failure;
  std::vector<std::string> sources, targets, errors;
  std::string source, target, error;
  bool more = true;
  while (more) {
    sources.clear(), targets.clear(), errors.clear();
    while (static_cast<int64_t>(sources.size()) < chunk &&
           (more = reader.next(source, target, error))) {
      sources.push_back(source);
      targets.push_back(target);
      errors.push_back(error);
    }
    if (sources.empty()) break;
    // Failed pairs take part with an empty source, which score_pairs reports and skips.
    const std::vector<api::ScoreResult> scores = translator.score(sources, targets, settings);
    for (size_t i = 0; i < scores.size(); ++i) {
      if (!scores[i].warning.empty())
        progress.log("s2s score: warning: pair " + std::to_string(done + i + 1) + ": " +
                     scores[i].warning);
      std::string why = !errors[i].empty() ? errors[i] : scores[i].error;
      if (!why.empty()) {
        if (errors[i].empty()) why = "pair " + std::to_string(done + i + 1) + ": " + why;
        if (failed++ == 0) first_failure = why;
        progress.log("s2s score: " + why);
        out.write("\n");
        continue;
      }
      std::string record = number(scores[i].log_prob) + "\t";
      for (size_t t = 0; t < scores[i].token_log_probs.size(); ++t) {
        if (t) record += ' ';
        record += number(scores[i].token_log_probs[t]);
      }
      out.write(record + "\n");
    }
    done += static_cast<int64_t>(sources.size());
    progress.update(done);
  }
  out.commit();
  progress.finish();
  if (failed > 0) {
    std::cerr << "s2s score: error: " << failed << " of " << done
              << " pairs failed and got empty lines (first: " << first_failure << ")\n";
    return 1;
  }
  return 0;
}

}  // namespace s2s::cli
