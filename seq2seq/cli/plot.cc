// `s2s plot RUN... -o curves.png`: the learning curves of one or more training runs (their
// log.jsonl) as a PNG for a report (api/learning_curves.h).
#include <iostream>

#include "seq2seq/api/learning_curves.h"
#include "seq2seq/cli/command.h"

namespace po = boost::program_options;

namespace s2s::cli {

int run_plot(int argc, char** argv) {
  po::options_description options("Options");
  std::vector<std::string> runs;
  std::string output;
  api::PlotOptions plot;
  options.add_options()("runs", po::value(&runs)->composing(),
                        "run folders of s2s train (each holds log.jsonl)")(
      "output,o", po::value(&output)->required(), "the PNG file to write")(
      "width", po::value(&plot.width)->default_value(plot.width), "figure width in pixels")(
      "height", po::value(&plot.height)->default_value(plot.height), "figure height in pixels");
  po::positional_options_description positional;
  positional.add("runs", -1);
  po::variables_map values;
  if (!parse_options("plot", "RUN... -o curves.png", options, argc, argv, values, &positional))
    return 0;
  if (runs.empty()) throw UsageError("s2s plot: name at least one run folder");
  api::plot_learning_curves(runs, output, plot);
  std::cerr << "s2s plot: " << runs.size() << (runs.size() == 1 ? " run" : " runs") << " -> "
            << output << "\n";
  return 0;
}

}  // namespace s2s::cli
