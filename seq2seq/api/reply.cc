// ReplySuggester: ranker replicas in a pool; evaluate_replies: ranking metrics, the trigger
// calibration and the forced-decoding check on held-out pairs.
#include "seq2seq/api/reply.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "reply/evaluation.h"
#include "reply/intents.h"
#include "reply/pairs.h"
#include "seq2seq/api/replica_pool.h"
#include "seq2seq/api/reply_ranker.h"
#include "seq2seq/atomic_file.h"
#include "seq2seq/config.h"
#include "seq2seq/error.h"
#include "seq2seq/line_reader.h"
#include "seq2seq/manifest.h"

namespace fs = std::filesystem;

namespace s2s::api {

namespace {
constexpr const char* kReplyFile = "reply.yaml";
}  // namespace

std::vector<Response> read_responses(const std::string& path) {
  return reply::read_response_set(path);
}

ReplyTuning read_reply_tuning(const std::string& model) {
  const fs::path file = fs::path(model) / kReplyFile;
  ReplyTuning tuning;
  if (!fs::exists(file)) return tuning;
  const Config config = Config::from_yaml_file(file.string());
  tuning.lambda = config.get<double>("lambda");
  tuning.tfidf_weight = config.get<double>("tfidf_weight", 0.0);
  if (!std::isfinite(tuning.lambda) || !std::isfinite(tuning.tfidf_weight))
    throw ConfigError(file.string() + ": lambda and tfidf_weight must be finite numbers");
  return tuning;
}

void save_reply_tuning(const std::string& model, const ReplyTuning& tuning,
                       const std::string& how) {
  S2S_CHECK(std::isfinite(tuning.lambda) && std::isfinite(tuning.tfidf_weight),
            "save_reply_tuning: lambda and tfidf_weight must be finite");
  const fs::path dir(model);
  if (!fs::exists(dir / "model.safetensors") || !fs::exists(dir / "config.yaml"))
    throw InputError("reply: '" + model + "' is not a model folder");
  verify_folder(model);
  AtomicFile file((dir / kReplyFile).string());
  char values[128];
  std::snprintf(values, sizeof values, "lambda: %.17g\ntfidf_weight: %.17g\n", tuning.lambda,
                tuning.tfidf_weight);
  file.write(
      "# Smart reply with this model: score = log P(r | m) - lambda log P(r); tfidf_weight\n"
      "# is the ranking test's interpolation with TF-IDF. " +
      how + "\n" + values);
  file.commit();
  write_manifest(model);
}

namespace {
struct Replica {
  TranslationModel model;
  std::unique_ptr<ReplyRanker> ranker;
};
}  // namespace

struct ReplySuggester::Impl {
  ReplicaPool<Replica> pool;
  std::vector<Response> responses;
  ReplyOptions options;
};

ReplySuggester::ReplySuggester(const std::string& model, std::vector<Response> responses,
                               const ReplyOptions& reply, const ModelOptions& options)
    : impl_(std::make_unique<Impl>()) {
  S2S_CHECK(options.replicas >= 1, "ReplySuggester: replicas must be at least 1, got ",
            options.replicas);
  S2S_CHECK(options.threads >= 1, "ReplySuggester: threads must be at least 1, got ",
            options.threads);
  S2S_CHECK(reply.batch_size >= 1, "reply: batch_size must be at least 1, got ", reply.batch_size);
  impl_->responses = std::move(responses);
  impl_->options = reply;
  if (!impl_->options.lambda) impl_->options.lambda = read_reply_tuning(model).lambda;
  set_num_threads(std::max(1, options.threads / options.replicas));
  const Device device = Device::parse(options.device);
  for (int r = 0; r < options.replicas; ++r) {
    auto replica = std::make_unique<Replica>(Replica{TranslationModel::load(model, device), {}});
    replica->ranker =
        std::make_unique<ReplyRanker>(replica->model, impl_->responses, impl_->options);
    impl_->pool.add(std::move(replica));
  }
}

ReplySuggester::~ReplySuggester() = default;

const std::vector<Response>& ReplySuggester::responses() const {
  return impl_->responses;
}

const ReplyOptions& ReplySuggester::options() const {
  return impl_->options;
}

std::vector<ReplyResult> ReplySuggester::suggest(const std::vector<std::string>& messages) const {
  return suggest(messages, impl_->options);
}

std::vector<ReplyResult> ReplySuggester::suggest(const std::vector<std::string>& messages,
                                                 const ReplyOptions& reply) const {
  std::vector<ReplyResult> out(messages.size());
  // Slices as even as the replicas held allow: one per replica, whatever the batch size.
  impl_->pool.run(messages.size(), 1, [&](Replica& replica, size_t begin, size_t end) {
    const std::vector<std::string> part(messages.begin() + begin, messages.begin() + end);
    std::vector<ReplyResult> found = replica.ranker->suggest(part, reply);
    std::move(found.begin(), found.end(), out.begin() + begin);
  });
  return out;
}

std::vector<Suggestion> ReplySuggester::score_all(const std::string& message) const {
  std::vector<Suggestion> out;
  impl_->pool.run(
      1, 1, [&](Replica& replica, size_t, size_t) { out = replica.ranker->score_all(message); });
  return out;
}

std::vector<std::vector<double>> ReplySuggester::score_texts(
    const std::vector<std::string>& messages,
    const std::vector<std::vector<std::string>>& texts) const {
  S2S_CHECK(messages.size() == texts.size(), "score_texts: ", messages.size(), " messages but ",
            texts.size(), " lists of texts");
  std::vector<std::vector<double>> out(messages.size());
  impl_->pool.run(messages.size(), 1, [&](Replica& replica, size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i)
      out[i] = replica.ranker->score_texts(messages[i], texts[i]);
  });
  return out;
}

void read_reply_pairs(const std::string& path, std::vector<std::string>& messages,
                      std::vector<std::string>& replies) {
  LineReader pairs(path);
  std::string line;
  while (pairs.next(line)) {
    const size_t tab = line.find('\t');
    if (tab == std::string::npos)
      throw InputError(pairs.location() + ": expected message<TAB>reply");
    messages.push_back(reply::unescape_field(line.substr(0, tab)));
    replies.push_back(reply::unescape_field(line.substr(tab + 1)));
  }
}

namespace {

// Clusters ordered by P(cluster | message): the sum of P(response | message) over the cluster's
// responses among `ranked` (exact ones, best first; a cluster's responses ranked lower add less
// than the last ranked one each). An intent many responses express outranks one said one way.
std::vector<std::string> clusters_by_mass(const std::vector<Suggestion>& ranked,
                                          const std::vector<Response>& responses) {
  std::vector<std::string> names;
  std::vector<double> best, sum;  // log-sum-exp per cluster, relative to its best score
  for (const Suggestion& s : ranked) {
    const std::string& cluster = responses[s.response].cluster;
    const auto it = std::find(names.begin(), names.end(), cluster);
    if (it == names.end()) {
      names.push_back(cluster), best.push_back(s.score), sum.push_back(1.0);
    } else {
      const size_t i = static_cast<size_t>(it - names.begin());
      sum[i] += std::exp(s.score - best[i]);  // ranked best first: best[i] >= s.score
    }
  }
  std::vector<size_t> order(names.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  const auto log_mass = [&](size_t i) { return best[i] + std::log(sum[i]); };
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return log_mass(a) > log_mass(b); });
  std::vector<std::string> out;
  for (size_t i : order)
    out.push_back(names[i]);
  return out;
}

RankingFigures figures(const reply::RankingMetrics& m) {
  return {m.recall(), m.mrr(), m.count()};
}

}  // namespace

ReplyEvaluation evaluate_replies(const ReplySuggester& suggester,
                                 const std::vector<std::string>& messages,
                                 const std::vector<std::string>& replies,
                                 const ReplyEvaluationOptions& options) {
  S2S_CHECK(messages.size() == replies.size(), "evaluate_replies: ", messages.size(),
            " messages but ", replies.size(), " replies");
  const std::vector<Response>& responses = suggester.responses();
  const ReplyOptions& reply = suggester.options();
  const size_t k = static_cast<size_t>(reply.k);
  const reply::CandidateMode candidate_mode = reply::parse_candidate_mode(options.candidate);
  const reply::ResponseMatcher matcher(responses);
  S2S_CHECK(options.truth == "nearest" || options.truth == "intent",
            "evaluation truth must be nearest or intent, got '", options.truth, "'");
  const std::optional<reply::IntentClassifier> classifier =
      options.truth == "intent" ? std::optional<reply::IntentClassifier>(std::in_place, responses)
                                : std::nullopt;
  size_t model_hits = 0, frequency_hits = 0, model_only = 0, frequency_only = 0;
  const std::vector<std::string> frequent = reply::clusters_by_prior(responses);
  // As `s2s reply-data baseline`: pairs whose true reply gives no candidate or matches no
  // response count as misses in the all-pairs figures and are left out of the mapped ones.
  reply::RankingMetrics model_metrics(k), baseline(k), model_all(k), baseline_all(k),
      mass_metrics(k);
  std::vector<std::pair<double, bool>> best_and_hit;  // per message: best score, true cluster in k
  const size_t chunk = 256;
  for (size_t begin = 0; begin < messages.size(); begin += chunk) {
    const size_t end = std::min(messages.size(), begin + chunk);
    const std::vector<std::string> part(messages.begin() + begin, messages.begin() + end);
    const std::vector<ReplyResult> results = suggester.suggest(part);
    for (size_t i = 0; i < results.size(); ++i) {
      const std::string truth_text =
          reply::candidate_response(replies[begin + i], candidate_mode, options.max_tokens);
      std::string truth;
      if (!truth_text.empty()) {
        if (classifier) {
          truth = classifier->classify(truth_text).intent;
        } else {
          const auto match = matcher.nearest(truth_text);
          if (match.index >= 0) truth = responses[match.index].cluster;
        }
      }
      if (truth.empty()) {
        model_all.add(0);
        baseline_all.add(0);
        continue;
      }
      // The model's ranking of clusters: by their best response.
      std::vector<std::string> clusters;
      for (const Suggestion& s : results[i].ranked)
        if (std::find(clusters.begin(), clusters.end(), responses[s.response].cluster) ==
            clusters.end())
          clusters.push_back(responses[s.response].cluster);
      const auto rank_of = [&](const std::vector<std::string>& ranking) {
        const auto it = std::find(ranking.begin(), ranking.end(), truth);
        return it == ranking.end() ? size_t{0} : static_cast<size_t>(it - ranking.begin()) + 1;
      };
      const size_t rank = rank_of(clusters);
      model_metrics.add(rank);
      mass_metrics.add(rank_of(clusters_by_mass(results[i].ranked, responses)));
      const size_t frequency_rank = rank_of(frequent);
      baseline.add(frequency_rank);
      const bool model_hit = rank > 0 && rank <= k,
                 frequency_hit = frequency_rank > 0 && frequency_rank <= k;
      model_hits += model_hit;
      frequency_hits += frequency_hit;
      model_only += model_hit && !frequency_hit;
      frequency_only += frequency_hit && !model_hit;
      model_all.add(rank);
      baseline_all.add(frequency_rank);
      if (!results[i].ranked.empty())
        best_and_hit.emplace_back(results[i].ranked[0].score, rank > 0 && rank <= k);
    }
    if (options.on_progress) options.on_progress(end, messages.size());
  }
  ReplyEvaluation e;
  e.pairs = messages.size();
  e.clusters = frequent.size();
  e.k = reply.k;
  e.ranked = reply.ranked;
  e.model = figures(model_metrics);
  e.model_all = figures(model_all);
  e.model_by_mass = figures(mass_metrics);
  e.frequency = figures(baseline);
  e.frequency_all = figures(baseline_all);
  e.model_hits = model_hits;
  e.frequency_hits = frequency_hits;
  e.model_only = model_only;
  e.frequency_only = frequency_only;

  // Triggering: the messages whose best score is highest get suggestions first.
  std::sort(best_and_hit.begin(), best_and_hit.end(), std::greater<>());
  for (int step = 1; step <= 10 && !best_and_hit.empty(); ++step) {
    const double share = step / 10.0;
    const size_t n = std::max<size_t>(
        1, static_cast<size_t>(std::llround(share * static_cast<double>(best_and_hit.size()))));
    size_t hits = 0;
    for (size_t i = 0; i < n && i < best_and_hit.size(); ++i)
      hits += best_and_hit[i].second;
    const double threshold = best_and_hit[std::min(n, best_and_hit.size()) - 1].first;
    e.calibration.push_back({share, static_cast<double>(hits) / static_cast<double>(n), threshold});
    if (share <= options.coverage + 1e-9) e.threshold_for_coverage = threshold;
  }

  const int64_t forced =
      std::min<int64_t>(options.forced_check, static_cast<int64_t>(messages.size()));
  if (forced > 0) {
    // The same messages both ways: trie search (batched) and forced decoding of every response,
    // at the top k the batch job searches for (what the speeds compare).
    std::vector<std::string> sample;
    for (int64_t i = 0; i < forced; ++i)
      if (!messages[i].empty()) sample.push_back(messages[i]);
    ReplyOptions plain = reply;
    plain.diverse = false;
    plain.threshold = -1e30;
    plain.ranked = 0;
    const auto t0 = std::chrono::steady_clock::now();
    const std::vector<ReplyResult> searched = suggester.suggest(sample, plain);
    const auto t1 = std::chrono::steady_clock::now();
    // Forced decoding of every response, ranked by the same score (with lambda's prior term).
    ReplyOptions exhaustive = plain;
    exhaustive.exhaustive = true;
    std::vector<ReplyResult> forced_results;
    for (const std::string& message : sample)
      forced_results.push_back(std::move(suggester.suggest({message}, exhaustive)[0]));
    for (size_t i = 0; i < sample.size(); ++i) {
      e.forced_expansions += searched[i].expansions;
      const std::vector<Suggestion>& all = forced_results[i].suggestions;
      bool same = searched[i].suggestions.size() == all.size();
      for (size_t j = 0; same && j < all.size(); ++j)
        same = searched[i].suggestions[j].response == all[j].response;
      e.forced_agree += same;
    }
    const auto t2 = std::chrono::steady_clock::now();
    e.forced_checked = sample.size();
    e.search_seconds = std::chrono::duration<double>(t1 - t0).count();
    e.forced_seconds = std::chrono::duration<double>(t2 - t1).count();
  }
  return e;
}

}  // namespace s2s::api
