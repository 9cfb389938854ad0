// Model folders and training checkpoints on disk (DESIGN.md "Files on disk").
//   model folder: model.safetensors (parameters), config.yaml (the resolved recipe), and the
//                 vocabulary files the recipe names: all a user needs to translate.
//   checkpoint:   a model folder plus optimizer.safetensors (optimizer moments) and state.yaml
//                 (step, epoch, data position, RNG, schedule and early-stopping state), so a
//                 resumed run continues the same run.
// A checkpoint is written whole into a temporary folder, every file fsynced, its manifest of
// checksums last (seq2seq/manifest.h), then renamed into place, and only then named in the
// "latest" file: a crash at any moment leaves the previous checkpoint intact and selected, and a
// file damaged later is named by the manifest check when the folder is loaded.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "seq2seq/layers/parameter.h"
#include "seq2seq/tensor.h"

namespace s2s {

// An int8 weight (Parameter::int8) is stored as two tensors: "<name>" (I8 [out, in]) and
// "<name>.int8_scale" (F32 [out]).
inline constexpr const char* kInt8ScaleSuffix = ".int8_scale";

// Writes params (name -> value) to path as safetensors; metadata goes to "__metadata__".
void save_parameters(const std::string& path, const std::vector<Parameter*>& params,
                     const std::map<std::string, std::string>& metadata = {});
// Whether loading a file of a model or checkpoint folder first verifies the whole folder
// against its manifest (seq2seq/manifest.h).
enum class Verify {
  folder,  // verify_folder(the file's folder) first: a damaged file anywhere in it is named
  none,    // the caller has verified the folder already
};

// Loads every parameter of params from path: each must be present with its shape (f32/f64
// converted to the parameter's dtype). A missing or misshapen tensor is an InputError naming
// the parameter and the file; tensors in the file that no parameter wants are an error too
// unless allow_unused (fine-tuning a model with a different head). With Verify::folder, when the
// file's folder holds a manifest (every folder write_folder writes), every file of that folder
// (config and vocabulary included) is checked first and a damaged one is an IntegrityError
// naming it; a folder written before manifests loads unverified.
// What loading does with int8 weights in the file.
enum class Int8Weights {
  reject,      // an InputError: training, averaging and fine-tuning need float weights
  keep,        // kept int8 on the CPU (products through ops::gemm_int8); dequantized elsewhere
  dequantize,  // converted to the parameter's float dtype
};
void load_parameters(const std::string& path, const std::vector<Parameter*>& params,
                     bool allow_unused = false, Verify verify = Verify::folder,
                     Int8Weights int8 = Int8Weights::reject);

// Named tensors (optimizer state) to and from a safetensors file, same rules.
void save_tensors(const std::string& path,
                  const std::vector<std::pair<std::string, Tensor>>& tensors);
void load_tensors(const std::string& path,
                  const std::vector<std::pair<std::string, Tensor>>& tensors);

// Files of a model or checkpoint folder: (file name in the folder, contents or source path).
struct FolderContents {
  std::vector<Parameter*> parameters;                       // -> model.safetensors
  std::string config_yaml;                                  // -> config.yaml
  std::vector<std::pair<std::string, std::string>> copies;  // (name, source path): vocab files
  std::vector<std::pair<std::string, Tensor>> optimizer;    // -> optimizer.safetensors if any
  std::string state_yaml;                                   // -> state.yaml if not empty
};

// What a model folder derived from `folder` (averaged, quantized) keeps of it as it is:
// config.yaml, read into config_yaml, and as copies every other regular file except the weights
// and the training state (model.safetensors, optimizer.safetensors, state.yaml) and hidden files
// (the manifest): the vocabulary, a shortlist. The caller adds the parameters. IoError naming
// config.yaml when it cannot be read.
FolderContents derived_folder_contents(const std::string& folder);

// Writes a complete folder at path atomically: into "<path>.tmp", its manifest last
// (write_manifest), then renamed over path (an existing folder at path is replaced only once
// the new one is complete).
void write_folder(const std::string& path, const FolderContents& contents);

// Checkpoints under dir: "step-<N>" folders and a "latest" file naming the newest complete one.
class CheckpointStore {
 public:
  explicit CheckpointStore(std::string dir, int keep_last = 3);
  // Writes step-<step>, points latest at it, then deletes the oldest beyond keep_last.
  std::string save(int64_t step, const FolderContents& contents);
  // The folder latest names, or "" when there is none.
  std::string latest() const;
  // Every complete checkpoint folder (one with a marker), newest first: the fallbacks when the
  // latest is damaged. Trainer::resume verifies the one it uses against its manifest.
  std::vector<std::string> all() const;

 private:
  std::string dir_;
  int keep_last_;
};

}  // namespace s2s
