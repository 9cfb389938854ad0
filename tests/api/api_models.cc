// The API tests' tiny models: generated data, api::train, a rename into the shared cache.
#include "tests/api/api_models.h"

#include <unistd.h>

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <stdexcept>

#include "seq2seq/api/recipe.h"
#include "seq2seq/api/training.h"
#include "seq2seq/manifest.h"

namespace fs = std::filesystem;

namespace s2s::test {

namespace {

// The models are trained once per build of the test binary: the cache folder is keyed by the
// binary's checksum, so a change to the training code (which is linked into it) retrains them
// instead of testing a model the old code made. Older builds' folders are removed.
fs::path cache_root() {
  static const fs::path root = [] {
    char key[32];
    std::snprintf(key, sizeof key, "build-%016llx",
                  static_cast<unsigned long long>(file_checksum("/proc/self/exe")));
    const fs::path base(S2S_TEST_CACHE_DIR), mine = base / key;
    std::error_code error;
    fs::create_directories(mine, error);
    for (const auto& entry : fs::directory_iterator(base, error))
      if (entry.path().filename().string().rfind("build-", 0) == 0 && entry.path() != mine)
        fs::remove_all(entry.path(), error);  // best effort: a stale folder costs only disk
    return mine;
  }();
  return root;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  if (!in) throw std::runtime_error("cannot read " + path.string());
  return out.str();
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

// Random digit sequences of 2..8 digits and the reversal of each ("source<TAB>target").
std::string digit_pairs(int n, unsigned seed, bool reply) {
  static const char* replies[] = {
      "yes please",   "no thanks", "see you soon",  "sounds good to me", "i will check",
      "thanks a lot", "not today", "call me later", "on my way",         "good night"};
  std::mt19937 rng(seed);
  std::ostringstream out;
  for (int i = 0; i < n; ++i) {
    const int length = 2 + static_cast<int>(rng() % 7);
    std::vector<int> digits(length);
    for (int& d : digits)
      d = static_cast<int>(rng() % 10);
    for (int j = 0; j < length; ++j)
      out << (j ? " " : "") << digits[j];
    out << '\t';
    if (reply) {
      out << replies[digits[0]];
    } else {
      for (int j = length - 1; j >= 0; --j)
        out << digits[j] << (j ? " " : "");
    }
    out << '\n';
  }
  return out.str();
}

// Trains recipe_yaml (with data files written by prepare into the folder) unless the cache has
// the model; returns the model folder.
std::string trained(const std::string& name, const std::string& recipe_yaml,
                    const std::function<void(const fs::path&)>& prepare) {
  const fs::path done = cache_root() / name;
  if (!fs::exists(done / "run" / "model" / "model.safetensors")) {
    const fs::path work = cache_root() / (name + ".tmp." + std::to_string(::getpid()));
    fs::remove_all(work);
    fs::create_directories(work);
    prepare(work);
    write_text(work / "recipe.yaml", recipe_yaml);
    const Config recipe = api::load_training_recipe((work / "recipe.yaml").string());
    api::TrainCallbacks quiet;
    quiet.on_log = [](const TrainLogRecord&) {};
    quiet.on_message = [](const std::string&) {};
    api::TrainRun run;
    run.output = (work / "run").string();
    api::train(recipe, run, quiet);
    std::error_code error;
    fs::rename(work, done, error);  // another process may have won: its model is as good
    if (error) fs::remove_all(work);
  }
  return (done / "run" / "model").string();
}

}  // namespace

std::string s2s_binary() {
  return S2S_BINARY;
}

std::string scratch_folder(const std::string& name) {
  const fs::path dir = cache_root() / "scratch" / (name + "." + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

std::string copy_with_damaged_config(const std::string& model, const std::string& name) {
  const fs::path copy = fs::path(scratch_folder(name)) / "model";
  fs::copy(model, copy, fs::copy_options::recursive);
  std::fstream config(copy / "config.yaml", std::ios::in | std::ios::out | std::ios::binary);
  if (!config || !config.seekp(0).put('{').flush())
    throw std::runtime_error("cannot damage " + (copy / "config.yaml").string());
  return copy.string();
}

std::string run_command(const std::string& command, int* status) {
  std::FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run " + command);
  std::string out;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0)
    out.append(buffer, n);
  const int rc = ::pclose(pipe);
  if (status) *status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  return out;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

const std::vector<std::string>& translation_inputs() {
  static const std::vector<std::string> lines = [] {
    std::vector<std::string> out;
    for (const std::string& pair : split_lines(digit_pairs(70, 3, false)))
      out.push_back(pair.substr(0, pair.find('\t')));
    return out;
  }();
  return lines;
}

const std::string& translation_inputs_file() {
  static const std::string path = [] {
    const fs::path file = cache_root() / ("inputs." + std::to_string(::getpid()) + ".txt");
    std::string text;
    for (const std::string& line : translation_inputs())
      text += line + "\n";
    write_text(file, text);
    return file.string();
  }();
  return path;
}

// A digit model: sources to their reversal, or (reply) to the reply their first digit picks.
std::string trained_digits(const std::string& name, int vocab_size, int pairs, bool reply) {
  return trained(
      name,
      "data: {train: train.tsv, batch_tokens: 256, max_length: 20}\n"
      "vocab: {size: " +
          std::to_string(vocab_size) +
          "}\n"
          "encoder: {embed_size: 16, hidden_size: 32, layers: 1, dropout: 0.0}\n"
          "decoder: {embed_size: 16, hidden_size: 32, dropout: 0.0}\n"
          "train: {max_steps: 300, valid_every: 0, log_every: 100, learning_rate: 0.01,\n"
          "        warmup_steps: 20, label_smoothing: 0.0, patience: 0}\n",
      [&](const fs::path& dir) { write_text(dir / "train.tsv", digit_pairs(pairs, 1, reply)); });
}

const std::string& translation_model() {
  static const std::string folder = trained_digits("translate", 16, 1000, false);
  return folder;
}

const std::string& reply_model() {
  static const std::string folder = trained_digits("reply", 48, 1500, true);
  return folder;
}

const std::string& reply_responses() {
  static const std::string path = [] {
    reply_model();
    const fs::path file = cache_root() / "reply" / "responses.tsv";
    if (!fs::exists(file)) {
      const char* replies[] = {"yes please",   "no thanks",    "see you soon", "sounds good to me",
                               "i will check", "thanks a lot", "not today",    "call me later",
                               "on my way",    "good night"};
      std::ostringstream text;
      text << "# response<TAB>cluster<TAB>prior\n";
      for (int i = 0; i < 10; ++i) {
        text << replies[i] << "\tc" << i + 1 << "\t-3.0\n";
        text << replies[i] << " now\tc" << i + 1 << "\t-4.0\n";
        text << "well " << replies[i] << "\tc" << i + 1 << "\t-4.5\n";
      }
      const fs::path tmp = file.string() + "." + std::to_string(::getpid());
      write_text(tmp, text.str());
      fs::rename(tmp, file);
    }
    return file.string();
  }();
  return path;
}

// The tiny caption recipe in a folder with its images; recipe_edit changes its text.
std::string trained_captioner(const std::string& name,
                              const std::function<std::string(std::string)>& recipe_edit) {
  return trained(name, recipe_edit(read_text(S2S_TEST_DATA_DIR "/tiny_caption.yaml")),
                 [](const fs::path& dir) {
                   int status = 0;
                   run_command("python3 " S2S_TEST_SOURCE_DIR "/make_caption_images.py " +
                                   (dir / "data").string() + " >/dev/null 2>&1",
                               &status);
                   if (status != 0) throw std::runtime_error("make_caption_images.py failed");
                 });
}

const std::string& caption_model() {
  static const std::string folder =
      trained_captioner("caption", [](std::string recipe) { return recipe; });
  return folder;
}

const std::string& caption_model_attending() {
  static const std::string folder = trained_captioner("caption_zero", [](std::string recipe) {
    const std::string decoder = "decoder: {", steps = "max_steps: 300";
    recipe.replace(recipe.find(decoder), decoder.size(), decoder + "init_state: zero, ");
    // Twice the steps of the other models: at 300 the first word's attention on one of the eight
    // test images still lands beside the square under some float summation orders.
    return recipe.replace(recipe.find(steps), steps.size(), "max_steps: 600");
  });
  return folder;
}

const std::string& caption_images() {
  static const std::string folder =
      (fs::path(caption_model()).parent_path().parent_path() / "data" / "test").string();
  return folder;
}

}  // namespace s2s::test
