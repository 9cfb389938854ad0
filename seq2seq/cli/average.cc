// `s2s average FOLDER... -o MODEL`: checkpoint averaging — the mean of the parameters of several
// checkpoints (or model folders) of one run, written as a model folder (api/averaging.h).
#include <iostream>

#include "seq2seq/api/averaging.h"
#include "seq2seq/cli/command.h"

namespace po = boost::program_options;

namespace s2s::cli {

int run_average(int argc, char** argv) {
  po::options_description options("Options");
  std::vector<std::string> folders;
  std::string output;
  options.add_options()("folders", po::value(&folders)->composing(),
                        "checkpoint or model folders of one run (e.g. its last checkpoints)")(
      "output,o", po::value(&output)->required(), "the averaged model folder to write");
  po::positional_options_description positional;
  positional.add("folders", -1);
  po::variables_map values;
  if (!parse_options("average", "FOLDER... -o MODEL", options, argc, argv, values, &positional))
    return 0;
  if (folders.size() < 2) throw UsageError("s2s average: name at least two folders to average");
  api::average_models(folders, output);
  std::cerr << "s2s average: " << folders.size() << " folders -> " << output << "\n";
  return 0;
}

}  // namespace s2s::cli
