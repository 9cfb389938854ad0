// TranslationModel: construction from a recipe, loading, and batched greedy translation.
#include "seq2seq/cli/translation_model.h"

#include <algorithm>
#include <filesystem>
#include <numeric>

#include "seq2seq/checkpoint.h"
#include "seq2seq/error.h"

namespace s2s::cli {
namespace fs = std::filesystem;

namespace {

ops::AttentionKind parse_attention(const std::string& name) {
  if (name == "general") return ops::AttentionKind::general;
  if (name == "additive") return ops::AttentionKind::additive;
  throw ConfigError("decoder.attention must be general or additive, got '" + name + "'");
}

}  // namespace

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
  AttentionDecoderOptions d;
  d.vocab_size = m.vocab->size();
  d.embed_size = config.get<int64_t>("decoder.embed_size");
  d.hidden_size = config.get<int64_t>("decoder.hidden_size");
  d.num_layers = config.get<int>("decoder.layers");
  d.memory_size = m.encoder->memory_size();
  d.summary_size = m.encoder->summary_size();
  d.attention = parse_attention(config.get<std::string>("decoder.attention"));
  d.attention_size = config.get<int64_t>("decoder.attention_size");
  d.input_feeding = config.get<bool>("decoder.input_feeding");
  d.tie_embeddings = config.get<bool>("decoder.tie_embeddings");
  d.dropout = config.get<double>("decoder.dropout");
  d.pad_id = Vocab::kPad;
  d.device = device;
  d.seed = Rng(seed).split(200).seed();
  m.decoder = std::make_unique<AttentionDecoder>(d);
  return m;
}

TranslationModel TranslationModel::load(const std::string& folder, Device device) {
  const fs::path dir(folder);
  for (const char* file : {"config.yaml", "model.safetensors", "vocab.model"})
    if (!fs::exists(dir / file))
      throw InputError("'" + folder + "' is not a model folder: it has no " + file);
  const Config config = Config::from_yaml_file((dir / "config.yaml").string());
  auto vocab = std::make_shared<Vocab>(Vocab::load((dir / "vocab.model").string()));
  TranslationModel m = build(config, vocab, device);
  load_parameters((dir / "model.safetensors").string(), m.parameters());
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

std::vector<std::string> translate_lines(TranslationModel& model,
                                         const std::vector<std::string>& lines,
                                         const TranslateOptions& options) {
  S2S_CHECK(options.batch_size >= 1, "translate.batch_size must be at least 1");
  const bool was_training = model.encoder->training();
  model.set_training(false);
  const Device device = model.encoder->options().device;
  std::vector<std::vector<int32_t>> sources(lines.size());
  for (size_t i = 0; i < lines.size(); ++i)
    sources[i] = model.vocab->encode(lines[i]);
  // Sorting by length keeps padding low; the output goes back in input order.
  std::vector<size_t> order(lines.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return sources[a].size() < sources[b].size(); });
  std::vector<std::string> out(lines.size());
  GreedyOptions greedy;
  greedy.bos_id = Vocab::kBos;
  greedy.eos_id = Vocab::kEos;
  greedy.max_length_factor = options.max_length_factor;
  size_t start = 0;
  while (start < order.size() && sources[order[start]].empty())
    ++start;  // empty in, empty out
  for (; start < order.size(); start += static_cast<size_t>(options.batch_size)) {
    const size_t end = std::min(order.size(), start + static_cast<size_t>(options.batch_size));
    const int64_t b = static_cast<int64_t>(end - start);
    int64_t s = 0;
    for (size_t i = start; i < end; ++i)
      s = std::max<int64_t>(s, static_cast<int64_t>(sources[order[i]].size()));
    std::vector<int32_t> ids(s * b, Vocab::kPad);
    std::vector<float> mask(s * b, 0.f);
    std::vector<int64_t> lengths;
    for (int64_t j = 0; j < b; ++j) {
      const auto& src = sources[order[start + j]];
      lengths.push_back(static_cast<int64_t>(src.size()));
      for (size_t t = 0; t < src.size(); ++t) {
        ids[t * b + j] = src[t];
        mask[t * b + j] = 1.f;
      }
    }
    Tensor ids_t = Tensor::from_vector(ids, {s, b}), mask_t = Tensor::from_vector(mask, {s, b});
    if (!device.is_cpu()) ids_t = ids_t.to(device), mask_t = mask_t.to(device);
    const Memory memory = model.encoder->encode(ids_t, mask_t, nullptr);
    const std::vector<Hypothesis> hyps = greedy_decode(*model.decoder, memory, lengths, greedy);
    for (int64_t j = 0; j < b; ++j)
      out[order[start + j]] = model.vocab->decode(hyps[j].tokens);
  }
  model.set_training(was_training);
  return out;
}

}  // namespace s2s::cli
