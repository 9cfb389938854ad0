// quantize_model: per-row symmetric int8 of every weight matrix and embedding table, file to file
// (the model is not built: no layer code runs, so any task's folder quantizes the same way).
#include "seq2seq/api/quantize.h"

#include <filesystem>

#include "seq2seq/checkpoint.h"
#include "seq2seq/error.h"
#include "seq2seq/layers/parameter.h"
#include "seq2seq/manifest.h"
#include "seq2seq/ops/gemm_int8.h"
#include "seq2seq/safetensors.h"

namespace fs = std::filesystem;

namespace s2s::api {

bool is_quantizable(const std::string& name, int rank) {
  return rank == 2 && name.find(".position.") == std::string::npos;
}

QuantizeSummary quantize_model(const std::string& folder, const std::string& output) {
  const fs::path dir(folder);
  for (const char* file : {"model.safetensors", "config.yaml"})
    if (!fs::exists(dir / file))
      throw InputError("quantize: '" + folder + "' is not a model folder: it has no " + file);
  verify_folder(folder);
  const std::string weights_path = (dir / "model.safetensors").string();
  SafetensorsContents contents = load_safetensors(weights_path);

  QuantizeSummary summary;
  summary.bytes_before = fs::file_size(weights_path);
  std::vector<Parameter> parameters;
  parameters.reserve(contents.tensors.size());
  for (auto& [name, tensor] : contents.tensors) {
    if (tensor.dtype() == DType::i8 || name.ends_with(kInt8ScaleSuffix))
      throw InputError("quantize: '" + folder + "' is an int8 model already (tensor '" + name +
                       "')");
    if (tensor.dtype() != DType::f32 && tensor.dtype() != DType::f64)
      throw InputError("quantize: tensor '" + name + "' of '" + weights_path +
                       "' is not a float tensor");
    Parameter p;
    p.name = name;
    if (is_quantizable(name, tensor.rank())) {
      p.int8 = ops::quantize_rows(tensor);
      ++summary.int8_tensors;
      summary.int8_parameters += tensor.numel();
    } else {
      p.value = tensor;
      summary.float_parameters += tensor.numel();
    }
    parameters.push_back(std::move(p));
  }
  if (summary.int8_tensors == 0)
    throw InputError("quantize: '" + folder + "' has no weight matrix to quantize");

  FolderContents out = derived_folder_contents(folder);
  for (Parameter& p : parameters)
    out.parameters.push_back(&p);
  write_folder(output, out);
  summary.bytes_after = fs::file_size(fs::path(output) / "model.safetensors");
  return summary;
}

}  // namespace s2s::api
