// `s2s translate -m MODEL [-i FILE|-] [-o FILE|-]`: one output line per input line, in order.
// Input is read and translated in chunks, so files of any size stream with bounded memory; the
// output file appears only complete (OutputFile), never half written.
#include <iostream>

#include "seq2seq/cli/command.h"
#include "seq2seq/cli/translation_model.h"
#include "seq2seq/line_reader.h"
#include "seq2seq/output_file.h"
#include "seq2seq/progress.h"
#include "seq2seq/runtime.h"

namespace po = boost::program_options;

namespace s2s::cli {

int run_translate(int argc, char** argv) {
  po::options_description options("Options");
  std::string model_path, input = "-", output = "-", device_name = "cpu";
  int threads = kDefaultThreads;
  int64_t batch_size = 0, chunk = 10000;
  double max_length_factor = 0;
  options.add_options()("model,m", po::value(&model_path)->required(), "model folder")(
      "input,i", po::value(&input)->default_value("-"),
      "input text, one sentence a line (- = stdin)")(
      "output,o", po::value(&output)->default_value("-"), "output file (- = stdout)")(
      "batch-size", po::value(&batch_size), "sentences decoded together (default: the model's)")(
      "max-length-factor", po::value(&max_length_factor),
      "output limit: factor * source pieces + 10 (default: the model's)")(
      "threads", po::value(&threads)->default_value(kDefaultThreads), "CPU threads")(
      "device", po::value(&device_name)->default_value("cpu"), "cpu | cuda | cuda:N")(
      "chunk", po::value(&chunk)->default_value(10000), "lines read and translated at a time");
  po::variables_map values;
  if (!parse_options("translate", "-m MODEL [-i FILE] [-o FILE] [OPTIONS]", options, argc, argv,
                     values))
    return 0;
  if (chunk < 1) throw UsageError("s2s translate: --chunk must be at least 1");
  set_num_threads(threads);
  TranslationModel model = TranslationModel::load(model_path, Device::parse(device_name));
  TranslateOptions translate;
  translate.batch_size =
      batch_size > 0 ? batch_size : model.config.get<int64_t>("translate.batch_size");
  translate.max_length_factor = max_length_factor > 0
                                    ? max_length_factor
                                    : model.config.get<double>("translate.max_length_factor");

  LineReader reader(input);
  OutputFile out(output);
  Progress progress("translate", 0, "lines");
  std::vector<std::string> lines;
  std::string line;
  int64_t done = 0;
  bool more = true;
  while (more) {
    lines.clear();
    while (static_cast<int64_t>(lines.size()) < chunk && (more = reader.next(line)))
      lines.push_back(line);
    if (lines.empty()) break;
    for (const std::string& translation : translate_lines(model, lines, translate)) {
      out.write(translation);
      out.write("\n");
    }
    done += static_cast<int64_t>(lines.size());
    progress.update(done);
  }
  out.commit();
  progress.finish();
  return 0;
}

}  // namespace s2s::cli
