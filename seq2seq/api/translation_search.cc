// The translation pipeline: batching, encoding, search and the results in input order.
#include "seq2seq/api/translation_search.h"

#include <algorithm>
#include <numeric>
#include <sstream>

#include "seq2seq/error.h"

namespace s2s::api {

namespace {

// Batches of line indices, shortest sources first; lines with empty sources are left out.
std::vector<std::vector<size_t>> make_batches(const std::vector<std::vector<int32_t>>& sources,
                                              const TranslateSettings& options) {
  S2S_CHECK(options.batch_size >= 1, "translate: the batch size must be at least 1");
  S2S_CHECK(options.batch_tokens >= 0, "translate: --batch-tokens must not be negative");
  std::vector<size_t> order(sources.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return sources[a].size() < sources[b].size(); });
  std::vector<std::vector<size_t>> batches;
  std::vector<size_t> batch;
  for (size_t i : order) {
    if (sources[i].empty()) continue;
    const int64_t longest = static_cast<int64_t>(sources[i].size());  // sorted: the last is longest
    const bool full = static_cast<int64_t>(batch.size()) >= options.batch_size ||
                      (options.batch_tokens > 0 && !batch.empty() &&
                       longest * static_cast<int64_t>(batch.size() + 1) > options.batch_tokens);
    if (full) batches.push_back(std::move(batch)), batch.clear();
    batch.push_back(i);
  }
  if (!batch.empty()) batches.push_back(std::move(batch));
  return batches;
}

// The pieces of each line, truncated (or failed) when over the limit.
std::vector<std::vector<int32_t>> encode_sources(const Vocab& vocab,
                                                 const std::vector<std::string>& lines,
                                                 const TranslateSettings& options,
                                                 std::vector<std::string>& warnings,
                                                 std::vector<std::string>& errors) {
  std::vector<std::vector<int32_t>> sources(lines.size());
  warnings.assign(lines.size(), "");
  errors.assign(lines.size(), "");
  for (size_t i = 0; i < lines.size(); ++i) {
    try {
      sources[i] = vocab.encode(lines[i]);
    } catch (const InputError& e) {  // invalid UTF-8: this line fails, the others go on
      errors[i] = e.what();
      continue;
    }
    const int64_t n = static_cast<int64_t>(sources[i].size());
    if (options.max_source_length > 0 && n > options.max_source_length) {
      const std::string what = std::to_string(n) + " pieces, over the limit of " +
                               std::to_string(options.max_source_length);
      if (options.reject_long) {
        errors[i] = what + " (--max-source-length)";
        sources[i].clear();
      } else {
        warnings[i] = what + ": truncated (--max-source-length; --reject-long fails it instead)";
        sources[i].resize(options.max_source_length);
      }
    }
  }
  return sources;
}

// Puts models in inference mode for a scope and restores what they were.
class InferenceMode {
 public:
  explicit InferenceMode(std::span<TranslationModel* const> models) : models_(models) {
    for (TranslationModel* m : models_) {
      was_training_.push_back(m->encoder->training());
      m->set_training(false);
    }
  }
  ~InferenceMode() {
    for (size_t i = 0; i < models_.size(); ++i)
      models_[i]->set_training(was_training_[i]);
  }

 private:
  std::span<TranslationModel* const> models_;
  std::vector<bool> was_training_;
};

}  // namespace

namespace {

// The padded ids [S, B] and mask of a batch (mask in the encoder's dtype), and its lengths.
std::pair<Tensor, Tensor> batch_ids_and_mask(TranslationModel& model,
                                             const std::vector<std::vector<int32_t>>& sources,
                                             const std::vector<size_t>& batch,
                                             std::vector<int64_t>& lengths) {
  const int64_t b = static_cast<int64_t>(batch.size());
  int64_t s = 0;
  for (size_t i : batch)
    s = std::max<int64_t>(s, static_cast<int64_t>(sources[i].size()));
  std::vector<int32_t> ids(s * b, Vocab::kPad);
  std::vector<float> mask(s * b, 0.f);
  lengths.clear();
  for (int64_t j = 0; j < b; ++j) {
    const auto& src = sources[batch[j]];
    lengths.push_back(static_cast<int64_t>(src.size()));
    for (size_t t = 0; t < src.size(); ++t) {
      ids[t * b + j] = src[t];
      mask[t * b + j] = 1.f;
    }
  }
  const Device device = model.encoder->options().device;
  Tensor ids_t = Tensor::from_vector(ids, {s, b}), mask_t = Tensor::from_vector(mask, {s, b});
  if (model.encoder->options().dtype == DType::f64) {
    std::vector<double> mask64(mask.begin(), mask.end());
    mask_t = Tensor::from_vector(mask64, {s, b});
  }
  if (!device.is_cpu()) ids_t = ids_t.to(device), mask_t = mask_t.to(device);
  return {ids_t, mask_t};
}

// A batch's memory from the encoder's stage: shaped here, filled by receive.
Memory receive_batch_memory(TranslationModel& model,
                            const std::vector<std::vector<int32_t>>& sources,
                            const std::vector<size_t>& batch, std::vector<int64_t>& lengths,
                            const std::function<void(Memory&)>& receive) {
  const auto [ids, mask] = batch_ids_and_mask(model, sources, batch, lengths);
  const DType dtype = model.encoder->options().dtype;
  const Device device = model.encoder->options().device;
  const int64_t s = ids.dim(0), b = ids.dim(1), summary = model.encoder->summary_size();
  Memory memory;
  memory.vectors = Tensor::empty({s, b, model.encoder->memory_size()}, dtype, Device::cpu());
  if (summary > 0) memory.summary = Tensor::empty({b, summary}, dtype, Device::cpu());
  receive(memory);
  if (!device.is_cpu()) {
    memory.vectors = memory.vectors.to(device);
    if (memory.summary.defined()) memory.summary = memory.summary.to(device);
  }
  memory.mask = mask;
  return memory;
}

}  // namespace

Memory encode_batch(TranslationModel& model, const std::vector<std::vector<int32_t>>& sources,
                    const std::vector<size_t>& batch, std::vector<int64_t>& lengths) {
  const auto [ids, mask] = batch_ids_and_mask(model, sources, batch, lengths);
  return model.encoder->encode(ids, mask, nullptr);
}

std::string join_pieces(const Vocab& vocab, const std::vector<int32_t>& ids) {
  std::string out;
  for (int32_t id : ids) {
    if (!out.empty()) out += ' ';
    out += vocab.piece(id);
  }
  return out;
}

std::vector<std::vector<double>> forced_log_probs(
    TranslationModel& model, const Memory& memory,
    const std::vector<const std::vector<int32_t>*>& targets) {
  const int64_t b = static_cast<int64_t>(targets.size());
  int64_t u = 0;
  for (const auto* y : targets)
    u = std::max<int64_t>(u, static_cast<int64_t>(y->size()) + 1);
  std::vector<int32_t> input(u * b, Vocab::kPad), output(u * b, Vocab::kPad);
  for (int64_t j = 0; j < b; ++j) {
    const std::vector<int32_t>& y = *targets[j];
    input[j] = Vocab::kBos;
    for (size_t t = 0; t < y.size(); ++t) {
      input[(t + 1) * b + j] = y[t];
      output[t * b + j] = y[t];
    }
    output[y.size() * b + j] = Vocab::kEos;
  }
  Tensor in = Tensor::from_vector(input, {u, b}), target = Tensor::from_vector(output, {u, b});
  const Device device = model.encoder->options().device;
  if (!device.is_cpu()) in = in.to(device), target = target.to(device);
  ops::XentOptions xent;
  xent.pad_id = Vocab::kPad;
  Tensor log_probs;
  model.decoder->loss(memory, in, target, xent, &log_probs);
  if (!log_probs.device().is_cpu()) log_probs = log_probs.to(Device::cpu());
  std::vector<std::vector<double>> out(b);
  for (int64_t j = 0; j < b; ++j)
    for (size_t t = 0; t <= targets[j]->size(); ++t)
      out[j].push_back(log_probs.dtype() == DType::f32 ? log_probs.data<float>()[t * b + j]
                                                       : log_probs.data<double>()[t * b + j]);
  return out;
}

TranslateSettings translate_settings(const Config& config) {
  TranslateSettings o;
  o.batch_size = config.get<int64_t>("translate.batch_size");
  o.batch_tokens = config.get<int64_t>("translate.batch_tokens");
  o.max_source_length = config.get<int64_t>("translate.max_source_length");
  o.search.beam_size = config.get<int>("translate.beam_size");
  o.search.length_penalty = config.get<double>("translate.normalize");
  o.search.coverage_penalty = config.get<double>("translate.coverage");
  o.search.max_length_factor = config.get<double>("translate.max_length_factor");
  o.search.bos_id = Vocab::kBos;
  o.search.eos_id = Vocab::kEos;
  o.search.pad_id = Vocab::kPad;
  return o;
}

void check_same_vocabulary(std::span<TranslationModel* const> models,
                           const std::vector<std::string>& names) {
  const Vocab& first = *models[0]->vocab;
  for (size_t m = 1; m < models.size(); ++m) {
    const Vocab& other = *models[m]->vocab;
    bool same = other.size() == first.size();
    for (int32_t id = 0; same && id < first.size(); ++id)
      same = other.piece(id) == first.piece(id);
    if (!same)
      throw InputError("ensemble: model '" + names[m] + "' has another vocabulary than '" +
                       names[0] + "'; ensemble members must share one");
  }
}

namespace {

// Limits every model's output to the pieces a batch's shortlist allows while it lives, and lifts
// the limit however the search ends. Without a shortlist it does nothing.
class OutputRestriction {
 public:
  OutputRestriction(std::span<TranslationModel* const> models, const Shortlist* shortlist,
                    const std::vector<std::vector<int32_t>>& sources,
                    const std::vector<size_t>& batch)
      : models_(shortlist ? models : std::span<TranslationModel* const>()) {
    if (!shortlist) return;
    std::vector<const std::vector<int32_t>*> batch_sources;
    for (size_t j : batch)
      batch_sources.push_back(&sources[j]);
    const std::vector<int32_t> allowed = shortlist->allowed(batch_sources);
    for (TranslationModel* m : models_)
      m->decoder->restrict_vocabulary(allowed);
  }
  ~OutputRestriction() {
    for (TranslationModel* m : models_)
      m->decoder->restrict_vocabulary({});
  }
  OutputRestriction(const OutputRestriction&) = delete;
  OutputRestriction& operator=(const OutputRestriction&) = delete;

 private:
  std::span<TranslationModel* const> models_;
};

}  // namespace

std::vector<TranslatedLine> translate(std::span<TranslationModel* const> models,
                                      const std::vector<std::string>& lines,
                                      const TranslateSettings& options) {
  S2S_CHECK(!models.empty(), "translate: no model");
  InferenceMode inference(models);
  std::vector<TranslatedLine> out(lines.size());
  std::vector<std::string> warnings, errors;
  const std::vector<std::vector<int32_t>> sources =
      encode_sources(*models[0]->vocab, lines, options, warnings, errors);
  for (size_t i = 0; i < lines.size(); ++i) {
    out[i].source = sources[i];
    out[i].warning = warnings[i];
    out[i].error = errors[i];
  }
  S2S_CHECK(!(options.send_memory || options.receive_memory) || models.size() == 1,
            "translate: decoding across pipeline stages takes one model, not an ensemble");
  for (const std::vector<size_t>& batch : make_batches(sources, options)) {
    std::vector<Memory> memories(models.size());
    std::vector<SearchModel> members;
    std::vector<int64_t> lengths;
    if (options.send_memory) {  // the encoder's stage: its memory goes on, nothing is searched
      // Owned copies on the CPU (the encoder may reuse its buffers); the mask stays: the
      // decoder's rank builds its own from the same batch.
      const Memory memory = encode_batch(*models[0], sources, batch, lengths);
      options.send_memory(
          Memory{memory.vectors.to(Device::cpu()), memory.mask,
                 memory.summary.defined() ? memory.summary.to(Device::cpu()) : Tensor()});
      continue;
    }
    for (size_t m = 0; m < models.size(); ++m) {
      memories[m] = options.receive_memory ? receive_batch_memory(*models[m], sources, batch,
                                                                  lengths, options.receive_memory)
                                           : encode_batch(*models[m], sources, batch, lengths);
      members.push_back(SearchModel{models[m]->decoder.get(), &memories[m]});
    }
    // The shortlist of the first model (an ensemble shares its vocabulary) for every member.
    const Shortlist* shortlist = options.use_shortlist ? models[0]->shortlist.get() : nullptr;
    const OutputRestriction restriction(models, shortlist, sources, batch);
    std::vector<std::vector<Hypothesis>> found = beam_search(members, lengths, options.search);
    for (size_t j = 0; j < batch.size(); ++j) {
      TranslatedLine& t = out[batch[j]];
      t.hypotheses = std::move(found[j]);
      for (const Hypothesis& h : t.hypotheses)
        t.texts.push_back(options.output_pieces ? join_pieces(*models[0]->vocab, h.tokens)
                                                : models[0]->vocab->decode(h.tokens));
    }
  }
  return out;
}

std::vector<std::string> translate_lines(TranslationModel& model,
                                         const std::vector<std::string>& lines,
                                         const TranslateSettings& options) {
  TranslationModel* models[] = {&model};
  std::vector<std::string> out;
  for (TranslatedLine& t : translate(models, lines, options))
    out.push_back(t.texts.empty() ? std::string() : std::move(t.texts[0]));
  return out;
}

std::vector<PairScore> score_pairs(std::span<TranslationModel* const> models,
                                   const std::vector<std::string>& sources_text,
                                   const std::vector<std::string>& targets_text,
                                   const TranslateSettings& options) {
  S2S_CHECK(!models.empty(), "score: no model");
  S2S_CHECK(sources_text.size() == targets_text.size(), "score: ", sources_text.size(),
            " sources but ", targets_text.size(), " targets");
  InferenceMode inference(models);
  const Vocab& vocab = *models[0]->vocab;
  std::vector<std::string> warnings, errors;
  std::vector<std::vector<int32_t>> sources =
      encode_sources(vocab, sources_text, options, warnings, errors);
  std::vector<PairScore> out(sources.size());
  std::vector<std::vector<int32_t>> targets(sources.size());
  for (size_t i = 0; i < sources.size(); ++i) {
    out[i].error = errors[i];
    out[i].warning = warnings[i];
    if (errors[i].empty() && sources[i].empty()) out[i].error = "the source is empty";
    if (!options.target_pieces) {
      try {
        targets[i] = vocab.encode(targets_text[i]);
      } catch (const InputError& e) {
        if (out[i].error.empty()) out[i].error = std::string("the target: ") + e.what();
        sources[i].clear();  // left out of the batches
      }
      continue;
    }
    // Pieces as the search emitted them (translate --pieces): re-encoding the detokenized text
    // could segment it differently and score another sequence.
    std::istringstream pieces(targets_text[i]);
    for (std::string piece; pieces >> piece;) {
      const int32_t id = vocab.piece_id(piece);
      if (id < 0 || id == Vocab::kPad || id == Vocab::kBos || id == Vocab::kEos) {
        if (out[i].error.empty()) out[i].error = "the target has no piece '" + piece + "'";
        targets[i].clear();
        break;
      }
      targets[i].push_back(id);
    }
    if (!out[i].error.empty()) sources[i].clear();  // left out of the batches
  }
  TranslateSettings by_sentences = options;
  by_sentences.batch_tokens = 0;
  for (const std::vector<size_t>& batch : make_batches(sources, by_sentences)) {
    std::vector<const std::vector<int32_t>*> batch_targets;
    for (size_t i : batch)
      batch_targets.push_back(&targets[i]);
    std::vector<std::vector<double>> sum(batch.size());
    for (TranslationModel* model : models) {
      std::vector<int64_t> lengths;
      const Memory memory = encode_batch(*model, sources, batch, lengths);
      const auto log_probs = forced_log_probs(*model, memory, batch_targets);
      for (size_t j = 0; j < batch.size(); ++j) {
        sum[j].resize(log_probs[j].size(), 0.0);
        for (size_t t = 0; t < log_probs[j].size(); ++t)
          sum[j][t] += log_probs[j][t];
      }
    }
    const double scale = 1.0 / static_cast<double>(models.size());
    for (size_t j = 0; j < batch.size(); ++j) {
      PairScore& s = out[batch[j]];
      for (double total : sum[j]) {
        const double lp = total * scale;
        s.token_log_probs.push_back(static_cast<float>(lp));
        s.log_prob += lp;
      }
    }
  }
  return out;
}

}  // namespace s2s::api
