// `s2s caption -m MODEL PATH...`: captions image files and folders (`--recursive` descends),
// every file in sorted path order, in batches, with a progress bar. Output: TSV
// `path<TAB>caption<TAB>score` or JSONL {"path", "caption", "score"} (n-best: one record per
// hypothesis, with "rank"). A file that is not a readable image (empty, truncated, a text file
// named .jpg, too large) is named on stderr and gets a record with its error (TSV: an empty
// caption and the error as fourth field); the others are captioned, and the exit code says
// whether any failed. `--attention-maps DIR` writes, per image, a PNG of the image with the
// attention of each caption word overlaid.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "seq2seq/api/captioner.h"
#include "seq2seq/cli/command.h"
#include "seq2seq/error.h"
#include "seq2seq/output_file.h"
#include "seq2seq/progress.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;
using json = nlohmann::ordered_json;  // keys in the documented order

namespace s2s::cli {

namespace {

std::string number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.4f", value);
  return buffer;
}

// A TSV field: tabs and newlines would break the line.
std::string field(std::string text) {
  for (char& c : text)
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  return text;
}

}  // namespace

int run_caption(int argc, char** argv) {
  po::options_description options("Options");
  std::string model_path, output = "-", format = "tsv", maps_dir, device_name = "cpu";
  std::vector<std::string> paths;
  int threads = kDefaultThreads, n_best = 1;
  options.add_options()("model,m", po::value(&model_path)->required(), "caption model folder")(
      "paths", po::value(&paths)->composing(), "image files or folders")(
      "recursive,r", po::bool_switch(), "descend into sub-folders")(
      "output,o", po::value(&output)->default_value("-"), "output file (- = stdout)")(
      "format", po::value(&format)->default_value("tsv"), "tsv | jsonl")(
      "n-best", po::value(&n_best)->default_value(1), "captions per image (<= beam)")(
      "beam", po::value<int>(), "beam size (default: the model's caption.beam_size)")(
      "normalize", po::value<double>(), "length normalisation alpha (default: caption.normalize)")(
      "batch-size", po::value<int64_t>(), "images per batch (default: caption.batch_size)")(
      "attention-maps", po::value(&maps_dir),
      "write DIR/<image name>.attention.png: the image with each word's attention overlaid")(
      "threads", po::value(&threads)->default_value(kDefaultThreads), "CPU threads")(
      "device", po::value(&device_name)->default_value("cpu"), "cpu | cuda | cuda:N");
  po::positional_options_description positional;
  positional.add("paths", -1);
  po::variables_map values;
  if (!parse_options("caption", "-m MODEL PATH... [OPTIONS]", options, argc, argv, values,
                     &positional))
    return 0;
  if (paths.empty()) throw UsageError("s2s caption: name at least one image file or folder");
  if (format != "tsv" && format != "jsonl")
    throw UsageError("s2s caption: --format must be tsv or jsonl, got '" + format + "'");
  const api::Captioner captioner(model_path, {device_name, threads});
  api::CaptionOptions settings = captioner.default_options();
  if (values.count("beam")) settings.beam_size = values["beam"].as<int>();
  if (values.count("normalize")) settings.length_penalty = values["normalize"].as<double>();
  if (settings.beam_size < 1) throw UsageError("s2s caption: --beam must be at least 1");
  if (n_best < 1 || n_best > settings.beam_size)
    throw UsageError("s2s caption: --n-best must be between 1 and the beam size");
  settings.n_best = n_best;
  settings.attention = !maps_dir.empty();
  if (values.count("batch-size")) settings.batch_size = values["batch-size"].as<int64_t>();
  if (settings.batch_size < 1) throw UsageError("s2s caption: --batch-size must be at least 1");
  const int64_t batch_size = settings.batch_size;
  if (!maps_dir.empty()) fs::create_directories(maps_dir);

  const std::vector<std::string> files =
      api::list_image_files(paths, values["recursive"].as<bool>());
  OutputFile out(output);
  Progress progress("caption", static_cast<int64_t>(files.size()), "images");
  int64_t failed = 0;
  for (size_t begin = 0; begin < files.size(); begin += static_cast<size_t>(batch_size)) {
    const size_t end = std::min(files.size(), begin + static_cast<size_t>(batch_size));
    const std::vector<std::string> batch(files.begin() + begin, files.begin() + end);
    const std::vector<api::CaptionResult> found = captioner.caption(batch, settings);
    for (size_t i = 0; i < batch.size(); ++i) {
      const std::string& path = batch[i];
      const std::string& error = found[i].error;
      if (!error.empty()) {
        ++failed;
        progress.log("s2s caption: " + error);
        if (format == "jsonl")
          out.write(json{{"path", path}, {"error", error}}.dump(-1, ' ', false,
                                                                json::error_handler_t::replace) +
                    "\n");
        else
          out.write(field(path) + "\t\t\t" + field(error) + "\n");
        continue;
      }
      const std::vector<api::Caption>& captions = found[i].captions;
      for (size_t r = 0; r < captions.size(); ++r) {
        const api::Caption& h = captions[r];
        const std::string& caption = h.text;
        if (format == "jsonl") {
          json record{
              {"path", path}, {"caption", caption}, {"score", std::round(h.score * 1e4) / 1e4}};
          if (n_best > 1) record["rank"] = r + 1;
          out.write(record.dump(-1, ' ', false, json::error_handler_t::replace) + "\n");
        } else {
          out.write(field(path) + "\t" + field(caption) + "\t" + number(h.score) + "\n");
        }
      }
      if (!maps_dir.empty() && !captions.empty()) {
        const std::string name = fs::path(path).filename().string() + ".attention.png";
        try {
          captioner.write_attention_map(path, captions[0], (fs::path(maps_dir) / name).string());
        } catch (const Error& e) {
          ++failed;
          progress.log("s2s caption: attention map of " + path + ": " + e.what());
        }
      }
    }
    progress.update(static_cast<int64_t>(end));
  }
  out.commit();
  progress.finish();
  if (failed > 0) {
    std::cerr << "s2s caption: error: " << failed << " of " << files.size()
              << " images failed (named above)\n";
    return 1;
  }
  return 0;
}

}  // namespace s2s::cli
