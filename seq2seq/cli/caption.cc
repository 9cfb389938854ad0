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

#include "beam_search/beam_search.h"
#include "image_encoder/image_io.h"
#include "seq2seq/cli/caption_model.h"
#include "seq2seq/cli/command.h"
#include "seq2seq/ops/index_select.h"
#include "seq2seq/output_file.h"
#include "seq2seq/progress.h"
#include "seq2seq/runtime.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;
using json = nlohmann::ordered_json;  // keys in the documented order

namespace s2s::cli {

namespace {

// Every regular file named (or under a named folder), sorted; a path that does not exist is an
// InputError. Hidden files inside folders are skipped.
std::vector<std::string> collect(const std::vector<std::string>& paths, bool recursive) {
  std::vector<std::string> files;
  for (const std::string& p : paths) {
    std::error_code error;
    const fs::file_status status = fs::status(p, error);
    if (error || !fs::exists(status)) throw InputError("'" + p + "' does not exist");
    if (!fs::is_directory(status)) {
      files.push_back(p);
      continue;
    }
    auto add = [&](const fs::directory_entry& entry) {
      const std::string name = entry.path().filename().string();
      if (!name.empty() && name[0] == '.') return;
      if (entry.is_regular_file()) files.push_back(entry.path().string());
    };
    if (recursive)
      for (const auto& entry : fs::recursive_directory_iterator(p))
        add(entry);
    else
      for (const auto& entry : fs::directory_iterator(p))
        add(entry);
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  return files;
}

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
  set_num_threads(threads);
  CaptionModel model = CaptionModel::load(model_path, Device::parse(device_name));
  const ImageOptions image = image_options(model.config);
  BeamSearchOptions search;
  search.beam_size =
      values.count("beam") ? values["beam"].as<int>() : model.config.get<int>("caption.beam_size");
  search.length_penalty = values.count("normalize") ? values["normalize"].as<double>()
                                                    : model.config.get<double>("caption.normalize");
  search.max_length_factor = 0;
  search.max_length_add = model.config.get<int64_t>("caption.max_length");
  search.bos_id = Vocab::kBos;
  search.eos_id = Vocab::kEos;
  search.pad_id = Vocab::kPad;
  if (search.beam_size < 1) throw UsageError("s2s caption: --beam must be at least 1");
  if (n_best < 1 || n_best > search.beam_size)
    throw UsageError("s2s caption: --n-best must be between 1 and the beam size");
  search.n_best = n_best;
  search.keep_attention = !maps_dir.empty();
  const int64_t batch_size = values.count("batch-size")
                                 ? values["batch-size"].as<int64_t>()
                                 : model.config.get<int64_t>("caption.batch_size");
  if (batch_size < 1) throw UsageError("s2s caption: --batch-size must be at least 1");
  if (!maps_dir.empty()) fs::create_directories(maps_dir);

  const std::vector<std::string> files = collect(paths, values["recursive"].as<bool>());
  OutputFile out(output);
  Progress progress("caption", static_cast<int64_t>(files.size()), "images");
  int64_t failed = 0;
  for (size_t begin = 0; begin < files.size(); begin += static_cast<size_t>(batch_size)) {
    const size_t end = std::min(files.size(), begin + static_cast<size_t>(batch_size));
    const std::vector<std::string> batch(files.begin() + begin, files.begin() + end);
    std::vector<std::string> errors;
    Tensor pixels = load_image_batch(batch, image, errors);
    // Only the images that loaded go through the network.
    std::vector<int32_t> good;
    for (size_t i = 0; i < batch.size(); ++i)
      if (errors[i].empty()) good.push_back(static_cast<int32_t>(i));
    std::vector<std::vector<Hypothesis>> found(batch.size());
    int64_t grid_h = 0, grid_w = 0;
    if (!good.empty()) {
      Tensor input = good.size() == batch.size() ? pixels : ops::index_select(pixels, 0, good);
      if (!model.device().is_cpu()) input = input.to(model.device());
      std::tie(grid_h, grid_w) = model.grid_size();
      const Memory memory = model.encoder->encode(input, Tensor(), nullptr);
      const SearchModel member{model.decoder.get(), &memory};
      const std::vector<int64_t> cells(good.size(), memory.vectors.dim(0));
      auto hyps = beam_search(std::span(&member, 1), cells, search);
      for (size_t j = 0; j < good.size(); ++j)
        found[good[j]] = std::move(hyps[j]);
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      const std::string& path = batch[i];
      if (!errors[i].empty()) {
        ++failed;
        progress.log("s2s caption: " + errors[i]);
        if (format == "jsonl")
          out.write(json{{"path", path}, {"error", errors[i]}}.dump(
                        -1, ' ', false, json::error_handler_t::replace) +
                    "\n");
        else
          out.write(field(path) + "\t\t\t" + field(errors[i]) + "\n");
        continue;
      }
      for (size_t r = 0; r < found[i].size(); ++r) {
        const Hypothesis& h = found[i][r];
        const std::string caption = model.vocab->decode(h.tokens);
        if (format == "jsonl") {
          json record{
              {"path", path}, {"caption", caption}, {"score", std::round(h.score * 1e4) / 1e4}};
          if (n_best > 1) record["rank"] = r + 1;
          out.write(record.dump(-1, ' ', false, json::error_handler_t::replace) + "\n");
        } else {
          out.write(field(path) + "\t" + field(caption) + "\t" + number(h.score) + "\n");
        }
      }
      if (!maps_dir.empty() && !found[i].empty()) {
        const Hypothesis& best = found[i][0];
        std::vector<std::string> words;
        for (int32_t id : best.tokens)
          words.push_back(model.vocab->decode(std::vector<int32_t>{id}));
        words.push_back("</s>");
        const std::string name = fs::path(path).filename().string() + ".attention.png";
        try {
          write_attention_map(path, image, words, best.attention, grid_h, grid_w,
                              (fs::path(maps_dir) / name).string());
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
