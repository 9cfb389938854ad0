// `s2s bleu HYP REF...`: corpus BLEU of a hypothesis file against one or more reference files,
// printed as sacreBLEU prints it.
#include <iostream>

#include "seq2seq/bleu.h"
#include "seq2seq/cli/command.h"
#include "seq2seq/error.h"
#include "seq2seq/line_reader.h"

namespace po = boost::program_options;

namespace s2s::cli {

int run_bleu(int argc, char** argv) {
  po::options_description options("Options");
  std::vector<std::string> files;
  int width = -1;
  std::string format = "plain";
  options.add_options()("files", po::value(&files)->composing(),
                        "HYP REF... (HYP may be - for standard input)")(
      "lowercase,l", po::bool_switch(), "compare lowercased text (sacreBLEU -lc)")(
      "score-only,b", po::bool_switch(), "print only the score")(
      "width,w", po::value(&width), "decimals of the score (default: 2 plain, 1 text and json)")(
      "format,f", po::value(&format)->default_value("plain"),
      "plain: 'BLEU = 23.41 55.1/29.8/17.2/10.6 (BP = ...)' as Python's sacrebleu prints a "
      "score; text: with sacreBLEU's signature, as its command line prints; json: as its -f json");
  po::positional_options_description positional;
  positional.add("files", -1);
  po::variables_map values;
  if (!parse_options("bleu", "HYP REF [REF...]", options, argc, argv, values, &positional))
    return 0;
  if (files.size() < 2)
    throw UsageError("s2s bleu: needs a hypothesis file and at least one reference file");
  if (format != "plain" && format != "text" && format != "json")
    throw UsageError("s2s bleu: --format must be plain, text or json, got '" + format + "'");
  if (width < 0) width = format == "plain" ? 2 : 1;
  if (width > 10) throw UsageError("s2s bleu: --width must be between 0 and 10");
  const bool lowercase = values["lowercase"].as<bool>();

  const std::vector<std::string> hypotheses = read_lines(files[0]);
  std::vector<std::vector<std::string>> references;
  for (size_t i = 1; i < files.size(); ++i) {
    references.push_back(read_lines(files[i]));
    if (references.back().size() != hypotheses.size())
      throw InputError("'" + files[i] + "' has " + std::to_string(references.back().size()) +
                       " lines but the hypotheses '" + files[0] + "' have " +
                       std::to_string(hypotheses.size()));
  }
  const BleuScore score = corpus_bleu(hypotheses, references, lowercase);
  const int num_refs = static_cast<int>(references.size());
  if (values["score-only"].as<bool>()) {
    std::cout << std::fixed;
    std::cout.precision(width);
    std::cout << score.score << "\n";
  } else if (format == "json") {
    std::cout << score.format_json(num_refs, lowercase, width) << "\n";
  } else if (format == "text") {
    std::cout << score.format_with_signature(num_refs, lowercase, width) << "\n";
  } else {
    std::cout << score.format(width) << "\n";
  }
  return 0;
}

}  // namespace s2s::cli
