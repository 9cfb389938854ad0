// CaptionModel: construction from a recipe and loading from a model folder.
#include "seq2seq/cli/caption_model.h"

#include <filesystem>

#include "seq2seq/checkpoint.h"
#include "seq2seq/cli/recipe.h"
#include "seq2seq/cli/translation_model.h"
#include "seq2seq/error.h"

namespace s2s::cli {
namespace fs = std::filesystem;

namespace {}  // namespace

ImageOptions image_options(const Config& c) {
  ImageOptions o;
  o.channels = c.get<int>("image.channels");
  o.height = c.get<int>("image.height");
  o.width = c.get<int>("image.width");
  o.resize = parse_resize_mode(c.get<std::string>("image.resize"));
  o.alpha = parse_alpha_mode(c.get<std::string>("image.alpha"));
  o.pad_value = static_cast<float>(c.get<double>("image.pad_value"));
  o.mean.clear();
  for (double v : c.get<std::vector<double>>("image.mean"))
    o.mean.push_back(static_cast<float>(v));
  o.std.clear();
  for (double v : c.get<std::vector<double>>("image.std"))
    o.std.push_back(static_cast<float>(v));
  o.max_pixels = c.get<int64_t>("image.max_pixels");
  o.validate();
  return o;
}

ImageAugmentation image_augmentation(const Config& c) {
  ImageAugmentation a;
  a.min_crop_scale = static_cast<float>(c.get<double>("image.augment.min_crop_scale"));
  a.horizontal_flip = c.get<bool>("image.augment.horizontal_flip");
  return a;
}

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
  const Config config = load_recipe((dir / "config.yaml").string(), {});
  if (config.get<std::string>("task") != "caption")
    throw InputError("'" + folder + "' holds a " + config.get<std::string>("task") +
                     " model, not a caption model");
  auto vocab = std::make_shared<Vocab>(Vocab::load((dir / "vocab.model").string()));
  CaptionModel m = build(config, vocab, device, folder);
  load_parameters((dir / "model.safetensors").string(), m.parameters());
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

void CaptionModel::set_training(bool training) {
  encoder->set_training(training);
  decoder->set_training(training);
}

}  // namespace s2s::cli
