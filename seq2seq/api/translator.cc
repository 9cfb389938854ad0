// Translator: model replicas in a pool, options converted to the search's, results converted to
// the API's types.
#include "seq2seq/api/translator.h"

#include <algorithm>

#include "seq2seq/api/replica_pool.h"
#include "seq2seq/api/translation_search.h"
#include "seq2seq/error.h"

namespace s2s::api {

void TranslateOptions::validate() const {
  S2S_CHECK(beam_size >= 1, "translate: beam_size must be at least 1, got ", beam_size);
  S2S_CHECK(n_best >= 1 && n_best <= beam_size, "translate: n_best must be between 1 and the beam ",
            "size (", beam_size, "), got ", n_best);
  S2S_CHECK(batch_size >= 1, "translate: batch_size must be at least 1, got ", batch_size);
  S2S_CHECK(batch_tokens >= 0, "translate: batch_tokens must not be negative, got ", batch_tokens);
  S2S_CHECK(max_length_factor >= 0, "translate: max_length_factor must not be negative");
  S2S_CHECK(min_length >= 0, "translate: min_length must not be negative");
}

std::vector<int32_t> Translation::hard_alignment() const {
  std::vector<int32_t> out;
  for (size_t u = 0; u < pieces.size() && u < attention.size(); ++u) {
    const std::vector<float>& a = attention[u];
    out.push_back(static_cast<int32_t>(std::max_element(a.begin(), a.end()) - a.begin()));
  }
  return out;
}

namespace {

struct Replica {
  std::vector<TranslationModel> models;
  std::vector<TranslationModel*> pointers;
};

TranslateSettings to_settings(const TranslateOptions& o) {
  o.validate();
  TranslateSettings s;
  s.batch_size = o.batch_size;
  s.batch_tokens = o.batch_tokens;
  s.max_source_length = o.max_source_length;
  s.reject_long = o.reject_long;
  s.output_pieces = o.output_pieces;
  s.target_pieces = o.target_pieces;
  s.use_shortlist = o.shortlist;
  s.send_memory = o.send_memory;
  s.receive_memory = o.receive_memory;
  s.search.beam_size = o.beam_size;
  s.search.n_best = o.n_best;
  s.search.length_penalty = o.length_penalty;
  s.search.coverage_penalty = o.coverage_penalty;
  s.search.max_length_factor = o.max_length_factor;
  s.search.min_length = o.min_length;
  s.search.keep_attention = o.alignment != Alignment::none;
  s.search.bos_id = Vocab::kBos;
  s.search.eos_id = Vocab::kEos;
  s.search.pad_id = Vocab::kPad;
  return s;
}

TranslateOptions from_settings(const TranslateSettings& s) {
  TranslateOptions o;
  o.batch_size = s.batch_size;
  o.batch_tokens = s.batch_tokens;
  o.max_source_length = s.max_source_length;
  o.beam_size = s.search.beam_size;
  o.length_penalty = s.search.length_penalty;
  o.coverage_penalty = s.search.coverage_penalty;
  o.max_length_factor = s.search.max_length_factor;
  return o;
}

std::vector<std::string> pieces_of(const Vocab& vocab, const std::vector<int32_t>& ids) {
  std::vector<std::string> out;
  out.reserve(ids.size());
  for (int32_t id : ids)
    out.push_back(vocab.piece(id));
  return out;
}

}  // namespace

struct Translator::Impl {
  ReplicaPool<Replica> pool;
  TranslateOptions defaults;
  Config config;
  std::shared_ptr<Vocab> vocab;
};

Translator::Translator(const std::string& model, const ModelOptions& options)
    : Translator(std::vector<std::string>{model}, options) {}

Translator::Translator(const std::vector<std::string>& models, const ModelOptions& options)
    : impl_(std::make_unique<Impl>()) {
  S2S_CHECK(!models.empty(), "Translator: no model folder given");
  S2S_CHECK(options.replicas >= 1, "Translator: replicas must be at least 1, got ",
            options.replicas);
  S2S_CHECK(options.threads >= 1, "Translator: threads must be at least 1, got ", options.threads);
  // Math threads are per process (OpenBLAS): each replica gets its share of them.
  set_num_threads(std::max(1, options.threads / options.replicas));
  const Device device = Device::parse(options.device);
  for (int r = 0; r < options.replicas; ++r) {
    auto replica = std::make_unique<Replica>();
    replica->models.reserve(models.size());
    for (const std::string& path : models)
      replica->models.push_back(TranslationModel::load(path, device));
    for (TranslationModel& m : replica->models)
      replica->pointers.push_back(&m);
    if (r == 0) check_same_vocabulary(replica->pointers, models);
    impl_->pool.add(std::move(replica));
  }
  const TranslationModel& first = impl_->pool.first().models.front();
  impl_->config = first.config;
  impl_->vocab = first.vocab;
  impl_->defaults = from_settings(translate_settings(first.config));
}

Translator::~Translator() = default;

const TranslateOptions& Translator::default_options() const {
  return impl_->defaults;
}

const Config& Translator::config() const {
  return impl_->config;
}

int Translator::replicas() const {
  return static_cast<int>(impl_->pool.size());
}

std::vector<TranslationResult> Translator::translate(const std::vector<std::string>& lines,
                                                     const TranslateOptions& options) const {
  const TranslateSettings settings = to_settings(options);
  std::vector<TranslationResult> out(lines.size());
  const Vocab& vocab = *impl_->vocab;
  impl_->pool.run(lines.size(), static_cast<size_t>(options.batch_size),
                  [&](Replica& replica, size_t begin, size_t end) {
                    const std::vector<std::string> part(lines.begin() + begin, lines.begin() + end);
                    std::vector<TranslatedLine> found =
                        api::translate(replica.pointers, part, settings);
                    for (size_t i = 0; i < found.size(); ++i) {
                      TranslatedLine& line = found[i];
                      TranslationResult& r = out[begin + i];
                      r.source_pieces = pieces_of(vocab, line.source);
                      r.warning = std::move(line.warning);
                      r.error = std::move(line.error);
                      for (size_t k = 0; k < line.hypotheses.size(); ++k) {
                        Hypothesis& h = line.hypotheses[k];
                        Translation t;
                        t.text = std::move(line.texts[k]);
                        t.pieces = pieces_of(vocab, h.tokens);
                        t.score = h.score;
                        t.log_prob = h.log_prob;
                        t.token_log_probs = std::move(h.token_log_probs);
                        t.attention = std::move(h.attention);
                        r.hypotheses.push_back(std::move(t));
                      }
                    }
                  });
  return out;
}

std::vector<ScoreResult> Translator::score(const std::vector<std::string>& sources,
                                           const std::vector<std::string>& targets,
                                           const TranslateOptions& options) const {
  S2S_CHECK(sources.size() == targets.size(), "score: ", sources.size(), " sources but ",
            targets.size(), " targets");
  const TranslateSettings settings = to_settings(options);
  std::vector<ScoreResult> out(sources.size());
  impl_->pool.run(
      sources.size(), static_cast<size_t>(options.batch_size),
      [&](Replica& replica, size_t begin, size_t end) {
        const std::vector<std::string> s(sources.begin() + begin, sources.begin() + end);
        const std::vector<std::string> t(targets.begin() + begin, targets.begin() + end);
        std::vector<PairScore> found = score_pairs(replica.pointers, s, t, settings);
        for (size_t i = 0; i < found.size(); ++i) {
          ScoreResult& r = out[begin + i];
          r.log_prob = found[i].log_prob;
          r.token_log_probs = std::move(found[i].token_log_probs);
          r.warning = std::move(found[i].warning);
          r.error = std::move(found[i].error);
        }
      });
  return out;
}

}  // namespace s2s::api
