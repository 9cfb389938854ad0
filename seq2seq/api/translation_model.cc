// TranslationModel: construction from a recipe and loading from a model folder.
#include "seq2seq/api/translation_model.h"

#include <filesystem>

#include "seq2seq/api/recipe.h"
#include "seq2seq/checkpoint.h"
#include "seq2seq/error.h"
#include "seq2seq/host_allocator.h"
#include "seq2seq/manifest.h"

namespace s2s::api {
namespace fs = std::filesystem;

TranslationModel TranslationModel::build(const Config& config, std::shared_ptr<Vocab> vocab,
                                         Device device) {
  TranslationModel m;
  m.config = config;
  m.vocab = std::move(vocab);
  const uint64_t seed = static_cast<uint64_t>(config.get<int64_t>("train.seed"));
  TokenEncoderOptions e;
  e.vocab_size = m.vocab->size();
  e.embed_size = config.get<int64_t>("encoder.embed_size");
  e.hidden_size = config.get<int64_t>("encoder.hidden_size");
  e.num_layers = config.get<int>("encoder.layers");
  e.residual = config.get<bool>("encoder.residual");
  e.dropout = config.get<double>("encoder.dropout");
  e.pad_id = Vocab::kPad;
  e.device = device;
  e.seed = Rng(seed).split(100).seed();
  m.encoder = std::make_unique<TokenEncoder>(e);
  m.decoder = std::make_unique<AttentionDecoder>(
      decoder_options(config, m.vocab->size(), *m.encoder, device));
  return m;
}

TranslationModel TranslationModel::load(const std::string& folder, Device device) {
  const fs::path dir(folder);
  for (const char* file : {"config.yaml", "model.safetensors", "vocab.model"})
    if (!fs::exists(dir / file))
      throw InputError("'" + folder + "' is not a model folder: it has no " + file);
  // Every file against the manifest before any is read: a damaged config.yaml or vocabulary is
  // named as damaged, not reported as whatever its parser makes of it.
  verify_folder(folder);
  // Over today's defaults, so a folder written before a key existed still loads.
  const Config config = load_recipe((dir / "config.yaml").string(), {});
  auto vocab = std::make_shared<Vocab>(Vocab::load((dir / "vocab.model").string()));
  // Built for inference: no gradients, and the build's float weights replaced by the file's.
  const NoGradients no_gradients;
  TranslationModel m = build(config, vocab, device);
  // An int8 folder (s2s quantize) keeps its int8 weights on the CPU; the float buffers the
  // build allocated for them go back to the system, not to the allocator's cache.
  load_parameters((dir / "model.safetensors").string(), m.parameters(), /*allow_unused=*/false,
                  Verify::none, Int8Weights::keep);
  host_allocator::release_cached();
  if (fs::exists(dir / kShortlistFile))
    m.shortlist = std::make_shared<const Shortlist>(
        Shortlist::load((dir / kShortlistFile).string(), m.vocab->size()));
  m.set_training(false);
  return m;
}

std::vector<Parameter*> TranslationModel::parameters() {
  std::vector<Parameter*> params = encoder->parameters();
  for (Parameter* p : decoder->parameters())
    params.push_back(p);
  return params;
}

void TranslationModel::set_training(bool training) {
  encoder->set_training(training);
  decoder->set_training(training);
}

}  // namespace s2s::api
