// average_models: the mean in double precision, parameter by parameter, then one model folder.
#include "seq2seq/api/averaging.h"

#include <filesystem>
#include <map>

#include "seq2seq/checkpoint.h"
#include "seq2seq/error.h"
#include "seq2seq/layers/parameter.h"
#include "seq2seq/manifest.h"
#include "seq2seq/safetensors.h"

namespace fs = std::filesystem;

namespace s2s::api {

namespace {

double value_at(const Tensor& t, int64_t i) {
  return t.dtype() == DType::f64 ? t.data<double>()[i] : t.data<float>()[i];
}

}  // namespace

void average_models(const std::vector<std::string>& folders, const std::string& output) {
  if (folders.empty()) throw InvalidArgument("average: no folder given");
  std::vector<std::map<std::string, Tensor>> models;
  for (const std::string& folder : folders) {
    const fs::path dir(folder);
    for (const char* file : {"model.safetensors", "config.yaml"})
      if (!fs::exists(dir / file))
        throw InputError("average: '" + folder +
                         "' is not a model or checkpoint folder: it has no " + file);
    verify_folder(folder);
    models.push_back(load_safetensors((dir / "model.safetensors").string()).tensors);
  }
  const std::map<std::string, Tensor>& first = models.front();
  for (size_t m = 1; m < models.size(); ++m) {
    if (models[m].size() != first.size())
      throw InputError("average: '" + folders[m] + "' has " + std::to_string(models[m].size()) +
                       " parameters, '" + folders[0] + "' " + std::to_string(first.size()) +
                       ": they are not of one model");
    for (const auto& [name, tensor] : first) {
      const auto it = models[m].find(name);
      if (it == models[m].end())
        throw InputError("average: '" + folders[m] + "' has no parameter '" + name + "'");
      if (it->second.shape() != tensor.shape() || it->second.dtype() != tensor.dtype())
        throw InputError("average: parameter '" + name + "' of '" + folders[m] +
                         "' differs in shape or dtype from '" + folders[0] + "'");
    }
  }
  // Parameters holding the means (by name; loading matches names), summed in double.
  std::vector<Parameter> means;
  means.reserve(first.size());
  for (const auto& [name, tensor] : first) {
    if (tensor.dtype() != DType::f32 && tensor.dtype() != DType::f64)
      throw InputError("average: parameter '" + name + "' of '" + folders[0] +
                       "' is not a float tensor");
    Parameter p;
    p.name = name;
    p.value = Tensor::empty(tensor.shape(), tensor.dtype());
    for (int64_t i = 0; i < tensor.numel(); ++i) {
      double sum = 0;
      for (const auto& model : models)
        sum += value_at(model.at(name), i);
      const double mean = sum / static_cast<double>(models.size());
      if (tensor.dtype() == DType::f64)
        p.value.data<double>()[i] = mean;
      else
        p.value.data<float>()[i] = static_cast<float>(mean);
    }
    means.push_back(std::move(p));
  }
  FolderContents contents = derived_folder_contents(folders[0]);
  for (Parameter& p : means)
    contents.parameters.push_back(&p);
  write_folder(output, contents);
}

}  // namespace s2s::api
