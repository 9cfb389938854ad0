// Model folders and checkpoints: safetensors files and atomic folder replacement.
#include "seq2seq/checkpoint.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include "seq2seq/atomic_file.h"
#include "seq2seq/error.h"
#include "seq2seq/manifest.h"
#include "seq2seq/safetensors.h"

namespace s2s {
namespace fs = std::filesystem;

namespace {

// Copies src (CPU, f32/f64) into dst (any device, f32/f64), converting the dtype.
void assign(Tensor& dst, const Tensor& src, const std::string& what) {
  S2S_CHECK_AS(InputError, src.shape() == dst.shape(), what, " has shape ", src.shape().str(),
               ", the model expects ", dst.shape().str());
  if (src.dtype() == dst.dtype()) {
    dst.copy_from(src);
    return;
  }
  auto floating = [](DType t) { return t == DType::f32 || t == DType::f64; };
  S2S_CHECK_AS(InputError, floating(src.dtype()) && floating(dst.dtype()), what, " is ",
               dtype_name(src.dtype()), ", the model expects ", dtype_name(dst.dtype()));
  Tensor converted = Tensor::empty(src.shape(), dst.dtype());
  for (int64_t i = 0; i < src.numel(); ++i) {
    const double v = src.dtype() == DType::f32 ? src.data<float>()[i] : src.data<double>()[i];
    if (dst.dtype() == DType::f32)
      converted.data<float>()[i] = static_cast<float>(v);
    else
      converted.data<double>()[i] = v;
  }
  dst.copy_from(converted);
}

// The tensor `name` of a file's contents; InputError naming both when the file lacks it.
const Tensor& wanted(const SafetensorsContents& contents, const std::string& path,
                     const std::string& name) {
  const auto it = contents.tensors.find(name);
  S2S_CHECK_AS(InputError, it != contents.tensors.end(), "'", path, "' has no tensor '", name,
               "' (was it written by a model of another configuration?)");
  return it->second;
}

// InputError for a tensor of the file that no wanted name used.
void check_all_used(const SafetensorsContents& contents, const std::set<std::string>& used,
                    const std::string& path) {
  for (const auto& [name, tensor] : contents.tensors)
    S2S_CHECK_AS(InputError, used.count(name), "'", path, "' has a tensor '", name,
                 "' that this model does not have (a model of another configuration?)");
}

void load_named(const std::string& path, const std::vector<std::pair<std::string, Tensor*>>& want,
                bool allow_unused) {
  SafetensorsContents contents = load_safetensors(path);
  std::set<std::string> used;
  for (const auto& [name, tensor] : want) {
    assign(*tensor, wanted(contents, path, name), "tensor '" + name + "' in '" + path + "'");
    used.insert(name);
  }
  if (!allow_unused) check_all_used(contents, used, path);
}

}  // namespace

void save_parameters(const std::string& path, const std::vector<Parameter*>& params,
                     const std::map<std::string, std::string>& metadata) {
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (Parameter* p : params) {
    if (p->quantized()) {
      tensors.emplace_back(p->name, p->int8.values);
      tensors.emplace_back(p->name + kInt8ScaleSuffix, p->int8.scales);
    } else {
      tensors.emplace_back(p->name, p->value);
    }
  }
  save_safetensors(path, tensors, metadata);
}

void load_parameters(const std::string& path, const std::vector<Parameter*>& params,
                     bool allow_unused, Verify verify, Int8Weights int8) {
  if (verify == Verify::folder) {
    const fs::path folder = fs::path(path).parent_path();
    verify_folder(folder.empty() ? "." : folder.string());
  }
  SafetensorsContents contents = load_safetensors(path);
  std::set<std::string> used;
  for (Parameter* p : params) {
    const Tensor& stored = wanted(contents, path, p->name);
    used.insert(p->name);
    const std::string what = "tensor '" + p->name + "' in '" + path + "'";
    if (stored.dtype() != DType::i8) {
      S2S_CHECK_AS(InputError, !p->quantized(), what, " is not int8, but the parameter is");
      assign(p->value, stored, what);
      continue;
    }
    // An int8 weight of `s2s quantize`: values and their per-row scales.
    S2S_CHECK_AS(InputError, int8 != Int8Weights::reject, "'", path,
                 "' holds int8 weights (written by s2s quantize): an int8 model translates, but "
                 "cannot be trained or averaged; use the float model it was made from");
    const std::string scale_name = p->name + kInt8ScaleSuffix;
    const auto scales = contents.tensors.find(scale_name);
    S2S_CHECK_AS(InputError, scales != contents.tensors.end(), what,
                 " is int8 but the file has no '", scale_name, "'");
    used.insert(scale_name);
    const Shape expected = p->quantized() ? p->int8.values.shape() : p->value.shape();
    S2S_CHECK_AS(InputError, stored.shape() == expected, what, " has shape ", stored.shape().str(),
                 ", the model expects ", expected.str());
    ops::Int8Weight weight;
    try {
      weight = ops::make_int8_weight(stored, scales->second);
    } catch (const InputError& e) {
      throw InputError(what + ": " + e.what());
    }
    if (int8 == Int8Weights::keep && p->value.device().is_cpu()) {
      p->int8 = std::move(weight);
      p->value = Tensor();  // the float weight and its gradient are not kept
      p->grad = Tensor();
    } else {
      assign(p->value, ops::dequantize_rows(weight), what);
    }
  }
  if (!allow_unused) check_all_used(contents, used, path);
}

void save_tensors(const std::string& path,
                  const std::vector<std::pair<std::string, Tensor>>& tensors) {
  save_safetensors(path, tensors);
}

void load_tensors(const std::string& path,
                  const std::vector<std::pair<std::string, Tensor>>& tensors) {
  std::vector<Tensor> handles;
  handles.reserve(tensors.size());
  std::vector<std::pair<std::string, Tensor*>> want;
  for (const auto& [name, t] : tensors)
    handles.push_back(t);
  for (size_t i = 0; i < tensors.size(); ++i)
    want.emplace_back(tensors[i].first, &handles[i]);
  load_named(path, want, false);
}

FolderContents derived_folder_contents(const std::string& folder) {
  const fs::path dir(folder);
  FolderContents out;
  std::ifstream config(dir / "config.yaml", std::ios::binary);
  out.config_yaml.assign(std::istreambuf_iterator<char>(config), {});
  if (!config.good() && !config.eof())
    throw IoError("cannot read '" + (dir / "config.yaml").string() + "'");
  static const std::set<std::string> not_copied = {"model.safetensors", "optimizer.safetensors",
                                                   "state.yaml", "config.yaml"};
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && !not_copied.count(name) && !name.starts_with("."))
      out.copies.emplace_back(name, entry.path().string());
  }
  return out;
}

void write_folder(const std::string& path, const FolderContents& contents) {
  const fs::path target(path);
  const fs::path temp = target.string() + ".tmp";
  std::error_code ec;
  fs::remove_all(temp, ec);
  fs::create_directories(temp, ec);
  if (ec) throw IoError("cannot create folder '" + temp.string() + "': " + ec.message());
  try {
    save_parameters((temp / "model.safetensors").string(), contents.parameters);
    write_file_atomically((temp / "config.yaml").string(), contents.config_yaml);
    for (const auto& [name, source] : contents.copies) {
      std::ifstream in(source, std::ios::binary);
      if (!in) throw IoError("cannot read '" + source + "' to copy into '" + path + "'");
      const std::string bytes((std::istreambuf_iterator<char>(in)), {});
      write_file_atomically((temp / name).string(), bytes);
    }
    if (!contents.optimizer.empty())
      save_tensors((temp / "optimizer.safetensors").string(), contents.optimizer);
    if (!contents.state_yaml.empty())
      write_file_atomically((temp / "state.yaml").string(), contents.state_yaml);
    // Last: its presence says the folder is complete, its checksums that nothing changed since.
    write_manifest(temp.string());
  } catch (...) {
    fs::remove_all(temp, ec);
    throw;
  }
  // Replace: move the old folder aside, the new one in, then delete the old one. A crash in
  // between leaves "<path>.old" complete, which the next write removes.
  const fs::path old = target.string() + ".old";
  fs::remove_all(old, ec);
  if (fs::exists(target)) {
    fs::rename(target, old, ec);
    if (ec) throw IoError("cannot move '" + path + "' aside: " + ec.message());
  }
  fs::rename(temp, target, ec);
  if (ec) throw IoError("cannot rename '" + temp.string() + "' to '" + path + "': " + ec.message());
  fs::remove_all(old, ec);
}

CheckpointStore::CheckpointStore(std::string dir, int keep_last)
    : dir_(std::move(dir)), keep_last_(std::max(1, keep_last)) {}

std::string CheckpointStore::save(int64_t step, const FolderContents& contents) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) throw IoError("cannot create checkpoint folder '" + dir_ + "': " + ec.message());
  char name[32];
  std::snprintf(name, sizeof name, "step-%09lld", static_cast<long long>(step));
  const std::string folder = (fs::path(dir_) / name).string();
  // Leftovers of a run killed mid-write or mid-delete ("step-N.tmp", ".old", ".deleting"):
  // never resumed from (all() skips them), removed here so they do not pile up.
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    const fs::path p = entry.path();
    const std::string ext = p.extension().string();
    if (p.filename().string().rfind("step-", 0) == 0 &&
        (ext == ".tmp" || ext == ".old" || ext == ".deleting"))
      fs::remove_all(p, ec);
  }
  write_folder(folder, contents);
  write_file_atomically((fs::path(dir_) / "latest").string(), std::string(name) + "\n");
  // Oldest first by name (zero-padded steps sort numerically).
  std::vector<std::string> steps;
  for (const auto& entry : fs::directory_iterator(dir_))
    if (entry.is_directory() && entry.path().filename().string().rfind("step-", 0) == 0 &&
        entry.path().extension().empty())
      steps.push_back(entry.path().filename().string());
  std::sort(steps.begin(), steps.end());
  // Renamed aside before deleting: a kill in the middle of remove_all must not leave a
  // "step-N" folder that still has its marker but lacks some of its files.
  for (size_t i = 0; i + keep_last_ < steps.size(); ++i)
    if (steps[i] != name) {
      const fs::path doomed = fs::path(dir_) / (steps[i] + ".deleting");
      fs::rename(fs::path(dir_) / steps[i], doomed, ec);
      if (!ec) fs::remove_all(doomed, ec);
    }
  return folder;
}

std::vector<std::string> CheckpointStore::all() const {
  std::vector<std::string> folders;
  std::error_code ec;
  if (!fs::is_directory(dir_, ec)) return folders;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_directory() && name.rfind("step-", 0) == 0 && entry.path().extension().empty() &&
        fs::exists(entry.path() / kManifestName))
      folders.push_back(entry.path().string());
  }
  std::sort(folders.rbegin(), folders.rend());
  return folders;
}

std::string CheckpointStore::latest() const {
  std::ifstream in((fs::path(dir_) / "latest").string());
  std::string name;
  if (!(in >> name)) return "";
  const fs::path folder = fs::path(dir_) / name;
  if (!fs::exists(folder / kManifestName)) return "";
  return folder.string();
}

}  // namespace s2s
