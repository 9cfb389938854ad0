// CaptionModel: construction from a recipe and loading from a model folder.
#include "seq2seq/api/caption_model.h"

#include <filesystem>

#include "seq2seq/api/recipe.h"
#include "seq2seq/api/translation_model.h"
#include "seq2seq/checkpoint.h"
#include "seq2seq/error.h"
#include "seq2seq/host_allocator.h"
#include "seq2seq/manifest.h"

namespace s2s::api {
namespace fs = std::filesystem;

CaptionModel CaptionModel::build(const Config& config, std::shared_ptr<Vocab> vocab, Device device,
                                 const std::string& base_dir) {
  CaptionModel m;
  m.config = config;
  m.vocab = std::move(vocab);
  const uint64_t seed = static_cast<uint64_t>(config.get<int64_t>("train.seed"));
  ImageEncoderOptions e;
  e.in_channels = config.get<int64_t>("image.channels");
  e.channels.clear();
  for (int width : config.get<std::vector<int>>("image_encoder.channels"))
    e.channels.push_back(width);
  e.convs_per_block = config.get<int>("image_encoder.convs_per_block");
  e.kernel_size = config.get<int64_t>("image_encoder.kernel_size");
  e.batch_norm = config.get<bool>("image_encoder.batch_norm");
  e.bn_momentum = config.get<double>("image_encoder.bn_momentum");
  e.pool = parse_pool_kind(config.get<std::string>("image_encoder.pool"));
  e.output_size = config.get<int64_t>("image_encoder.output_size");
  e.max_grid_size = config.get<int64_t>("image_encoder.max_grid_size");
  e.dropout = config.get<double>("image_encoder.dropout");
  e.device = device;
  e.seed = Rng(seed).split(100).seed();
  std::string onnx = config.get<std::string>("image_encoder.onnx");
  if (!onnx.empty() && !base_dir.empty() && !fs::path(onnx).is_absolute())
    onnx = (fs::path(base_dir) / onnx).string();
  m.encoder =
      make_image_encoder(e, onnx, config.get<std::string>("image_encoder.onnx_output"),
                         config.get<int64_t>("image.height"), config.get<int64_t>("image.width"));
  m.decoder = std::make_unique<AttentionDecoder>(
      decoder_options(config, m.vocab->size(), *m.encoder, device));
  return m;
}

CaptionModel CaptionModel::load(const std::string& folder, Device device) {
  const fs::path dir(folder);
  for (const char* file : {"config.yaml", "model.safetensors", "vocab.model"})
    if (!fs::exists(dir / file))
      throw InputError("'" + folder + "' is not a model folder: it has no " + file);
  // Every file against the manifest before any is read: a damaged config.yaml or vocabulary is
  // named as damaged, not reported as whatever its parser makes of it.
  verify_folder(folder);
  const Config config = load_recipe((dir / "config.yaml").string(), {});
  if (config.get<std::string>("task") != "caption")
    throw InputError("'" + folder + "' holds a " + config.get<std::string>("task") +
                     " model, not a caption model");
  auto vocab = std::make_shared<Vocab>(Vocab::load((dir / "vocab.model").string()));
  // Built for inference: no gradients, and the build's float weights replaced by the file's.
  const NoGradients no_gradients;
  CaptionModel m = build(config, vocab, device, folder);
  // An int8 folder (s2s quantize) keeps its int8 weights on the CPU; the float buffers the
  // build allocated for them go back to the system, not to the allocator's cache.
  load_parameters((dir / "model.safetensors").string(), m.parameters(), /*allow_unused=*/false,
                  Verify::none, Int8Weights::keep);
  host_allocator::release_cached();
  m.set_training(false);
  return m;
}

std::vector<Parameter*> CaptionModel::parameters() {
  std::vector<Parameter*> params = encoder->parameters();
  for (Parameter* p : decoder->parameters())
    params.push_back(p);
  return params;
}

Device CaptionModel::device() const {
  return decoder->options().device;
}

std::pair<int64_t, int64_t> CaptionModel::grid_size() const {
  return image_grid_size(*encoder, config.get<int64_t>("image.height"),
                         config.get<int64_t>("image.width"));
}

std::vector<std::vector<Hypothesis>> caption_search(CaptionModel& model, const Tensor& pixels,
                                                    const BeamSearchOptions& search) {
  const Tensor input = model.device().is_cpu() ? pixels : pixels.to(model.device());
  const Memory memory = model.encoder->encode(input, Tensor(), nullptr);
  const SearchModel member{model.decoder.get(), &memory};
  const std::vector<int64_t> cells(static_cast<size_t>(pixels.dim(0)), memory.vectors.dim(0));
  return beam_search(std::span(&member, 1), cells, search);
}

BeamSearchOptions caption_search_options(const Config& config) {
  BeamSearchOptions search;
  search.beam_size = config.get<int>("caption.beam_size");
  search.length_penalty = config.get<double>("caption.normalize");
  search.max_length_factor = 0;  // captions have no source length: a fixed limit
  search.max_length_add = config.get<int64_t>("caption.max_length");
  search.bos_id = Vocab::kBos;
  search.eos_id = Vocab::kEos;
  search.pad_id = Vocab::kPad;
  return search;
}

void CaptionModel::set_training(bool training) {
  encoder->set_training(training);
  decoder->set_training(training);
}

}  // namespace s2s::api
