// `s2s quantize -m MODEL -o MODEL_INT8`: post-training int8 quantization of a model folder
// (api/quantize.h); every command that loads a model folder loads the result.
#include <iomanip>
#include <iostream>

#include "seq2seq/api/quantize.h"
#include "seq2seq/cli/command.h"

namespace po = boost::program_options;

namespace s2s::cli {

int run_quantize(int argc, char** argv) {
  po::options_description options("Options");
  std::string model, output;
  options.add_options()("model,m", po::value(&model)->required(), "the float model folder")(
      "output,o", po::value(&output)->required(), "the int8 model folder to write");
  po::variables_map values;
  if (!parse_options("quantize", "-m MODEL -o MODEL_INT8", options, argc, argv, values)) return 0;
  const api::QuantizeSummary s = api::quantize_model(model, output);
  const double mib = 1024.0 * 1024.0;
  std::cerr << std::fixed << std::setprecision(1) << "s2s quantize: " << s.int8_tensors
            << " matrices (" << s.int8_parameters << " parameters) int8, " << s.float_parameters
            << " parameters left float; model.safetensors " << s.bytes_before / mib << " MiB -> "
            << s.bytes_after / mib << " MiB ("
            << 100.0 * static_cast<double>(s.bytes_after) / static_cast<double>(s.bytes_before)
            << "%) in " << output << "\n";
  return 0;
}

}  // namespace s2s::cli
