// `s2s shortlist -m MODEL -i CORPUS [-k K] [--frequent F]`: builds a lexical shortlist from a
// parallel corpus and writes it into the model folder (api/shortlist.h); s2s translate then uses
// it unless --shortlist off.
#include <iostream>

#include "seq2seq/api/shortlist.h"
#include "seq2seq/cli/command.h"

namespace po = boost::program_options;

namespace s2s::cli {

int run_shortlist(int argc, char** argv) {
  po::options_description options("Options");
  std::string model;
  std::vector<std::string> corpus;
  api::ShortlistOptions settings;
  options.add_options()("model,m", po::value(&model)->required(),
                        "the model folder to add the shortlist to")(
      "input,i", po::value(&corpus)->required()->composing(),
      "the parallel corpus: a TSV file (source<TAB>target), or -i SOURCE -i TARGET")(
      "candidates,k", po::value(&settings.candidates)->default_value(50),
      "target pieces kept per source piece")("frequent",
                                             po::value(&settings.frequent)->default_value(200),
                                             "the most frequent target pieces, always allowed")(
      "max-pairs", po::value(&settings.max_pairs)->default_value(0),
      "count at most this many pairs (0: all)");
  po::variables_map values;
  if (!parse_options("shortlist", "-m MODEL -i CORPUS [-k K] [--frequent F]", options, argc, argv,
                     values))
    return 0;
  if (corpus.size() > 2)
    throw UsageError("s2s shortlist: -i takes one TSV file or a source and a target file");
  settings.on_progress = [](int64_t pairs) {
    std::cerr << "s2s shortlist: " << pairs << " pairs counted\n";
  };
  const api::Shortlist s = api::add_shortlist(model, corpus, settings);
  std::cerr << "s2s shortlist: " << s.candidates() << " candidates for each of " << s.vocab_size()
            << " pieces and " << s.frequent() << " frequent pieces from " << s.pairs_counted()
            << " pairs -> " << model << "/" << api::kShortlistFile << "\n";
  return 0;
}

}  // namespace s2s::cli
