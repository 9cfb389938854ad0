// The intent seeds file, response features, hard-label propagation over the response-feature
// graph and the intent classifier of reply/intents.h.
#include "reply/intents.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_map>

#include "reply/threads.h"
#include "seq2seq/error.h"
#include "seq2seq/line_reader.h"

namespace s2s::reply {
namespace {

// Words of a key with ASCII punctuation trimmed from both ends ("thanks," -> "thanks").
std::vector<std::string> feature_words(std::string_view key) {
  const auto punct = [](char c) {
    return static_cast<unsigned char>(c) < 0x80 && std::ispunct(static_cast<unsigned char>(c));
  };
  std::vector<std::string> words;
  for (size_t start = 0; start < key.size();) {
    size_t end = key.find(' ', start);
    if (end == std::string_view::npos) end = key.size();
    size_t b = start, e = end;
    while (b < e && punct(key[b]))
      ++b;
    while (e > b && punct(key[e - 1]))
      --e;
    if (e > b) words.emplace_back(key.substr(b, e - b));
    start = end + 1;
  }
  return words;
}

// The feature's kind in the top three bits (its weight), a hash of kind and text in the rest.
enum Kind : uint64_t { kTrigram = 0, kWord = 1, kBigram = 2, kSkipGram = 3, kOpening = 4 };
uint64_t feature_id(Kind kind, std::string_view text) {
  std::string bytes;
  bytes.reserve(text.size() + 2);
  bytes.push_back(static_cast<char>('0' + kind));
  bytes.push_back(':');
  bytes.append(text);
  return (fnv1a64(bytes) >> 3) | (static_cast<uint64_t>(kind) << 61);
}

// Words carry intents ("thanks", "sorry"), trigrams mostly spelling ("thx", "thank"): a trigram
// weighs a quarter of a word, a skip-gram half. A reply says its intent first ("Thanks for ...",
// "Sorry, I ...", "Yes, it ..."): its opening word and opening two words weigh double.
double kind_weight(uint64_t feature) {
  static constexpr double weights[8] = {0.25, 1.0, 1.0, 0.5, 2.0, 0, 0, 0};
  return weights[feature >> 61];
}

double idf_of(size_t nodes, size_t df) {
  return std::log(1.0 + static_cast<double>(nodes) / static_cast<double>(std::max<size_t>(df, 1)));
}

// The rule of the header: the best intent's evidence against the whole weight and the others.
int decide(const std::vector<double>& evidence, double total_weight, double unit,
           const IntentOptions& options, double* share_out) {
  int best = -1;
  double best_evidence = 0, sum = 0;
  for (size_t l = 0; l < evidence.size(); ++l) {
    sum += evidence[l];
    if (evidence[l] > best_evidence + 1e-12) {
      best = static_cast<int>(l);
      best_evidence = evidence[l];
    }
  }
  const double share = total_weight > 0 ? best_evidence / total_weight : 0;
  if (share_out) *share_out = share;
  if (best < 0 || share < options.min_share || best_evidence < options.min_evidence * unit ||
      best_evidence < options.dominance * sum)
    return -1;
  return best;
}

}  // namespace

IntentSeeds read_intent_seeds(const std::string& path) {
  LineReader reader(path);
  IntentSeeds seeds;
  std::unordered_map<std::string, size_t> seen;  // key -> line
  std::string line;
  while (reader.next(line)) {
    if (line.empty() || line[0] == '#' || line.find_first_not_of(" \t\r") == std::string::npos)
      continue;
    const std::string at = reader.location();
    const size_t tab = line.find('\t');
    if (tab == std::string::npos || line.find('\t', tab + 1) != std::string::npos)
      throw InputError(at + ": expected intent<TAB>response");
    IntentSeed seed;
    seed.intent = collapse_whitespace(line.substr(0, tab));
    seed.text = collapse_whitespace(line.substr(tab + 1));
    if (seed.intent.empty()) throw InputError(at + ": empty intent");
    if (seed.text.empty()) throw InputError(at + ": empty response");
    seed.key = normalize_response(seed.text);
    if (!looks_like_text(seed.key))
      throw InputError(at + ": response '" + seed.text + "' does not read as text");
    const auto [it, inserted] = seen.emplace(seed.key, reader.line_number());
    if (!inserted)
      throw InputError(at + ": response '" + seed.text + "' is seeded on line " +
                       std::to_string(it->second) + " already (same text after normalization)");
    if (std::find(seeds.intents.begin(), seeds.intents.end(), seed.intent) == seeds.intents.end())
      seeds.intents.push_back(seed.intent);
    seeds.seeds.push_back(std::move(seed));
  }
  if (seeds.seeds.empty()) throw InputError(path + ": no intent seeds");
  return seeds;
}

std::vector<uint64_t> response_features(std::string_view key) {
  std::vector<uint64_t> features;
  std::string padded;  // built by appends (GCC 12's -Wrestrict misfires on " " + key + " ")
  padded.push_back(' ');
  padded.append(key);
  padded.push_back(' ');
  for (size_t i = 0; i + 3 <= padded.size(); ++i)
    features.push_back(feature_id(kTrigram, std::string_view(padded).substr(i, 3)));
  const std::vector<std::string> words = feature_words(key);
  if (!words.empty()) {
    features.push_back(feature_id(kOpening, words[0]));
    if (words.size() > 1) {
      std::string opening = words[0];
      opening.push_back(' ');
      opening.append(words[1]);
      features.push_back(feature_id(kOpening, opening));
    }
  }
  for (size_t i = 0; i < words.size(); ++i) {
    features.push_back(feature_id(kWord, words[i]));
    std::string pair = words[i];
    if (i + 1 < words.size()) {
      pair.push_back(' ');
      pair.append(words[i + 1]);
      features.push_back(feature_id(kBigram, pair));
    }
    if (i + 2 < words.size()) {
      std::string skip = words[i];
      skip.push_back(' ');
      skip.append(words[i + 2]);
      features.push_back(feature_id(kSkipGram, skip));
    }
  }
  std::sort(features.begin(), features.end());
  features.erase(std::unique(features.begin(), features.end()), features.end());
  return features;
}

std::vector<int> propagate_intents(const std::vector<std::string>& response_keys,
                                   const IntentSeeds& seeds, const IntentOptions& options) {
  S2S_CHECK(options.min_share > 0 && options.min_share <= 1, "intent min_share must be in (0, 1]");
  S2S_CHECK(options.dominance >= 0 && options.dominance <= 1, "intent dominance must be in [0, 1]");
  const size_t labels = seeds.intents.size();
  // Nodes: the responses, then the seeds that are none of them.
  std::vector<std::vector<uint64_t>> node_features;
  std::vector<int> label, clamped;
  std::unordered_map<std::string, size_t> node_of_key;
  for (const std::string& key : response_keys) {
    node_of_key.emplace(key, node_features.size());
    node_features.push_back(response_features(key));
    label.push_back(-1);
    clamped.push_back(0);
  }
  for (const IntentSeed& seed : seeds.seeds) {
    const int intent = static_cast<int>(
        std::find(seeds.intents.begin(), seeds.intents.end(), seed.intent) - seeds.intents.begin());
    auto it = node_of_key.find(seed.key);
    if (it == node_of_key.end()) {
      it = node_of_key.emplace(seed.key, node_features.size()).first;
      node_features.push_back(response_features(seed.key));
      label.push_back(-1);
      clamped.push_back(0);
    }
    label[it->second] = intent;
    clamped[it->second] = 1;
  }
  const size_t nodes = node_features.size();
  // Feature index: id -> nodes holding it.
  std::map<uint64_t, std::vector<size_t>> holders;
  for (size_t n = 0; n < nodes; ++n)
    for (const uint64_t f : node_features[n])
      holders[f].push_back(n);
  std::unordered_map<uint64_t, double> idf;
  for (const auto& [f, ns] : holders)
    idf[f] = kind_weight(f) * idf_of(nodes, ns.size());
  // A node labelled in round r speaks with weight generation_decay^r (seeds: 1): a label that
  // came over a shared content word must not travel on as far as a seed's ("sorry, I missed
  // the patch" -> "the patch is in CVS" -> ...).
  const double unit = idf_of(nodes, 1);  // min_evidence's unit: a word seen once
  std::vector<double> weight(nodes, 0.0);
  for (size_t n = 0; n < nodes; ++n)
    weight[n] = clamped[n] ? 1.0 : 0.0;
  for (int round = 0; round < options.max_rounds; ++round) {
    // Each feature's share of holders per intent, from this round's labels.
    std::unordered_map<uint64_t, std::vector<double>> share;
    for (const auto& [f, ns] : holders) {
      std::vector<double> s(labels, 0.0);
      size_t labelled_nodes = 0;
      for (const size_t n : ns)
        if (label[n] >= 0) {
          s[static_cast<size_t>(label[n])] += weight[n];
          ++labelled_nodes;
        }
      if (labelled_nodes == 0) continue;
      // What a propagated label lost counts fully against the shares, unlike an unlabelled node.
      const double denominator =
          static_cast<double>(labelled_nodes) +
          options.unlabelled_weight * static_cast<double>(ns.size() - labelled_nodes);
      for (double& v : s)
        v /= denominator;
      share.emplace(f, std::move(s));
    }
    std::vector<int> next = label;
    bool changed = false;
    for (size_t n = 0; n < nodes; ++n) {
      if (clamped[n]) continue;
      std::vector<double> evidence(labels, 0.0);
      double total = 0;
      for (const uint64_t f : node_features[n]) {
        const double w = idf.at(f);
        total += w;
        const auto it = share.find(f);
        if (it == share.end()) continue;
        for (size_t l = 0; l < labels; ++l)
          evidence[l] += w * it->second[l];
      }
      next[n] = decide(evidence, total, unit, options, nullptr);
      if (next[n] != label[n])
        weight[n] = next[n] < 0 ? 0.0 : std::pow(options.generation_decay, round + 1);
      changed = changed || next[n] != label[n];
    }
    label = std::move(next);
    if (!changed) break;
  }
  label.resize(response_keys.size());
  return label;
}

std::vector<Response> label_intents(const std::vector<Response>& responses,
                                    const IntentSeeds& seeds, const IntentOptions& options,
                                    IntentStats* stats) {
  std::vector<std::string> keys;
  for (const Response& r : responses)
    keys.push_back(normalize_response(r.text));
  const std::vector<int> labels = propagate_intents(keys, seeds, options);
  IntentStats s;
  s.intents = seeds.intents;
  s.responses = responses.size();
  s.per_intent.assign(seeds.intents.size(), 0);
  for (const IntentSeed& seed : seeds.seeds)
    (std::find(keys.begin(), keys.end(), seed.key) != keys.end() ? s.seeds_matched
                                                                 : s.seeds_unmatched) += 1;
  std::vector<Response> kept;
  double mass = 0;
  for (size_t i = 0; i < responses.size(); ++i) {
    if (labels[i] < 0) continue;
    Response r = responses[i];
    r.cluster = seeds.intents[static_cast<size_t>(labels[i])];
    ++s.per_intent[static_cast<size_t>(labels[i])];
    mass += r.count > 0 ? static_cast<double>(r.count) : std::exp(r.prior);
    kept.push_back(std::move(r));
  }
  for (Response& r : kept)
    r.prior = std::log((r.count > 0 ? static_cast<double>(r.count) : std::exp(r.prior)) / mass);
  s.labelled = kept.size();
  if (stats) *stats = s;
  return kept;
}

IntentClassifier::IntentClassifier(const std::vector<Response>& responses,
                                   const IntentOptions& options)
    : options_(options) {
  std::map<uint64_t, std::vector<size_t>> holders;  // feature -> responses
  std::vector<size_t> intent_of;
  for (const Response& r : responses) {
    auto it = std::find(intents_.begin(), intents_.end(), r.cluster);
    if (it == intents_.end()) it = intents_.insert(intents_.end(), r.cluster);
    intent_of.push_back(static_cast<size_t>(it - intents_.begin()));
  }
  for (size_t i = 0; i < responses.size(); ++i)
    for (const uint64_t f : response_features(normalize_response(responses[i].text)))
      holders[f].push_back(i);
  // A held-out text is one more node of the graph.
  const size_t nodes = responses.size() + 1;
  unseen_idf_ = idf_of(nodes, 1);
  for (const auto& [f, rs] : holders) {
    FeatureLabels labels;
    labels.idf = kind_weight(f) * idf_of(nodes, rs.size() + 1);
    labels.share.assign(intents_.size(), 0.0f);
    // The text is an unlabelled holder too, as a response is in the propagation.
    const double denominator = static_cast<double>(rs.size()) + options_.unlabelled_weight;
    for (const size_t r : rs)
      labels.share[intent_of[r]] += static_cast<float>(1.0 / denominator);
    features_.emplace_back(f, std::move(labels));
  }
}

IntentClassifier::Result IntentClassifier::classify(std::string_view text) const {
  const std::string key = normalize_response(text);
  std::vector<double> evidence(intents_.size(), 0.0);
  double total = 0;
  for (const uint64_t f : response_features(key)) {
    const auto it =
        std::lower_bound(features_.begin(), features_.end(), f,
                         [](const auto& entry, uint64_t id) { return entry.first < id; });
    if (it == features_.end() || it->first != f) {
      total += kind_weight(f) * unseen_idf_;
      continue;
    }
    total += it->second.idf;
    for (size_t l = 0; l < intents_.size(); ++l)
      evidence[l] += it->second.idf * it->second.share[l];
  }
  Result result;
  const int best = decide(evidence, total, unseen_idf_, options_, &result.share);
  if (best >= 0) result.intent = intents_[static_cast<size_t>(best)];
  return result;
}

}  // namespace s2s::reply
