// ReplyRanker: trie-constrained search, diversity and triggering.
#include "seq2seq/api/reply_ranker.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "beam_search/trie_search.h"
#include "reply/pairs.h"
#include "seq2seq/api/translation_search.h"
#include "seq2seq/error.h"
#include "seq2seq/ops/index_select.h"

namespace s2s::api {

ReplyRanker::ReplyRanker(TranslationModel& model, const std::vector<reply::Response>& responses,
                         ReplyOptions options)
    : model_(model), responses_(responses), options_(options) {
  S2S_CHECK(options_.k >= 1, "reply: k must be at least 1, got ", options_.k);
  S2S_CHECK(options_.expand_per_step >= 1, "reply: expand_per_step must be at least 1, got ",
            options_.expand_per_step);
  S2S_CHECK(options_.ranked >= 0, "reply: ranked must not be negative, got ", options_.ranked);
  S2S_CHECK(options_.lambda.has_value(), "reply: the ranker needs a lambda");
  if (responses_.empty()) throw InputError("reply: the response set is empty");
  for (const reply::Response& r : responses_) {
    pieces_.push_back(model_.vocab->encode(r.text));
    if (pieces_.back().empty())
      throw InputError("reply: the response '" + r.text + "' has no pieces in the vocabulary");
  }
  trie_ = std::make_unique<TrieConstraint>(pieces_, Vocab::kEos);
  response_of_node_.assign(trie_->nodes(), -1);
  for (size_t i = 0; i < pieces_.size(); ++i) {
    const auto node = trie_->find(pieces_[i]);
    if (response_of_node_[node] < 0) response_of_node_[node] = static_cast<int>(i);
  }
}

const std::vector<double>& ReplyRanker::prior() {
  if (prior_.empty()) {
    model_.set_training(false);
    std::vector<const std::vector<int32_t>*> targets;
    for (const std::vector<int32_t>& pieces : pieces_)
      targets.push_back(&pieces);
    prior_ = score_pieces(encode_message(reply::kNoMessage), targets);
  }
  return prior_;
}

const ReplyRanker::Bonuses& ReplyRanker::bonuses(double lambda) {
  if (!bonuses_.end.empty() && bonuses_.lambda == lambda) return bonuses_;
  const std::vector<double>& p = prior();
  bonuses_.lambda = lambda;
  bonuses_.end.assign(trie_->nodes(), 0.0);
  bonuses_.subtree.assign(trie_->nodes(), -std::numeric_limits<double>::infinity());
  for (size_t r = 0; r < pieces_.size(); ++r) {
    const double bonus = -lambda * p[r];
    Constraint::State node = trie_->start(0);
    for (const int32_t token : pieces_[r]) {
      bonuses_.subtree[node] = std::max(bonuses_.subtree[node], bonus);
      node = trie_->advance(node, token);
    }
    bonuses_.subtree[node] = std::max(bonuses_.subtree[node], bonus);
    bonuses_.end[node] = bonus;
  }
  return bonuses_;
}

std::vector<ReplyResult> ReplyRanker::suggest(const std::vector<std::string>& messages,
                                              const ReplyOptions& options) {
  S2S_CHECK(options.k >= 1, "reply: k must be at least 1, got ", options.k);
  S2S_CHECK(options.expand_per_step >= 1, "reply: expand_per_step must be at least 1, got ",
            options.expand_per_step);
  S2S_CHECK(options.batch_size >= 1, "reply: batch_size must be at least 1, got ",
            options.batch_size);
  model_.set_training(false);
  const double lambda = options.lambda.value_or(*options_.lambda);
  std::vector<ReplyResult> out(messages.size());
  std::vector<std::vector<int32_t>> sources(messages.size());
  for (size_t i = 0; i < messages.size(); ++i)
    sources[i] = encode_message(messages[i]);
  std::vector<size_t> pending;
  for (size_t i = 0; i < messages.size(); ++i)
    if (!sources[i].empty()) pending.push_back(i);  // an empty message gets no suggestion
  if (options.exhaustive) {
    for (size_t i : pending) {
      out[i].ranked = score_all(sources[i]);
      if (lambda != 0) {
        for (Suggestion& s : out[i].ranked)
          s.score = s.log_prob - lambda * prior()[s.response];
        std::stable_sort(
            out[i].ranked.begin(), out[i].ranked.end(),
            [](const Suggestion& a, const Suggestion& b) { return a.score > b.score; });
      }
    }
    pending.clear();
  }
  // Messages of similar length share a batch, which keeps the memory's padding small.
  std::stable_sort(pending.begin(), pending.end(),
                   [&](size_t a, size_t b) { return sources[a].size() < sources[b].size(); });
  TrieSearchOptions search;
  search.bos_id = Vocab::kBos;
  search.eos_id = Vocab::kEos;
  search.expand_per_step = options.expand_per_step;
  if (lambda != 0) {
    const Bonuses& b = bonuses(lambda);
    search.end_bonus = &b.end, search.subtree_bonus = &b.subtree;
  }
  for (size_t begin = 0; begin < pending.size(); begin += options.batch_size) {
    const size_t end = std::min(pending.size(), begin + static_cast<size_t>(options.batch_size));
    const std::vector<size_t> batch(pending.begin() + begin, pending.begin() + end);
    std::vector<int64_t> lengths;
    const Memory memory = encode_batch(model_, sources, batch, lengths);
    // A message is done when its exact ranking holds k suggestions (k clusters when diverse)
    // and options.ranked responses.
    std::vector<std::set<std::string>> clusters(batch.size());
    const auto enough = [&](int64_t b, std::span<const TrieHit> hits) {
      const int response = response_of_node_[hits.back().node];
      clusters[b].insert(responses_[response].cluster);
      const size_t suggestions = options.diverse ? clusters[b].size() : hits.size();
      return suggestions >= static_cast<size_t>(options.k) &&
             hits.size() >= static_cast<size_t>(options.ranked);
    };
    TrieSearchStats stats;
    const auto found = trie_search(*model_.decoder, memory, *trie_, enough, search, &stats);
    for (size_t j = 0; j < batch.size(); ++j) {
      ReplyResult& r = out[batch[j]];
      for (const TrieHit& hit : found[j])
        r.ranked.push_back(Suggestion{response_of_node_[hit.node], hit.score, hit.log_prob});
      r.expansions = stats.sentence_expansions[j];
    }
  }
  for (ReplyResult& r : out) {
    r.triggered = !r.ranked.empty() && r.ranked[0].score >= options.threshold;
    if (!r.triggered) continue;
    std::set<std::string> used;
    for (const Suggestion& s : r.ranked) {
      if (static_cast<int>(r.suggestions.size()) == options.k) break;
      if (options.diverse && !used.insert(responses_[s.response].cluster).second) continue;
      r.suggestions.push_back(s);
    }
  }
  return out;
}

std::vector<int32_t> ReplyRanker::encode_message(const std::string& message) const {
  const std::string text =
      reply::first_words(reply::collapse_whitespace(message), options_.max_message_words);
  std::vector<int32_t> source = model_.vocab->encode(text);
  if (options_.max_source_length > 0 &&
      static_cast<int64_t>(source.size()) > options_.max_source_length)
    source.resize(options_.max_source_length);
  return source;
}

std::vector<Suggestion> ReplyRanker::score_all(const std::string& message) {
  model_.set_training(false);
  const std::vector<int32_t> source = encode_message(message);
  S2S_CHECK(!source.empty(), "reply: the message is empty");
  return score_all(source);
}

std::vector<double> ReplyRanker::score_pieces(
    const std::vector<int32_t>& message, const std::vector<const std::vector<int32_t>*>& targets) {
  const std::vector<std::vector<int32_t>> source = {message};
  std::vector<int64_t> lengths;
  const Memory one = encode_batch(model_, source, {0}, lengths);
  std::vector<double> out;
  out.reserve(targets.size());
  const size_t chunk = 256;
  for (size_t begin = 0; begin < targets.size(); begin += chunk) {
    const size_t end = std::min(targets.size(), begin + chunk);
    // The message's memory, once per target of the chunk.
    const std::vector<int32_t> repeat(end - begin, 0);
    const Memory memory{
        ops::index_select(one.vectors, 1, repeat), ops::index_select(one.mask, 1, repeat),
        one.summary.defined() ? ops::index_select(one.summary, 0, repeat) : Tensor()};
    const std::vector<const std::vector<int32_t>*> part(targets.begin() + begin,
                                                        targets.begin() + end);
    for (const std::vector<double>& log_probs : forced_log_probs(model_, memory, part)) {
      double total = 0;
      for (double lp : log_probs)
        total += lp;
      out.push_back(total);
    }
  }
  return out;
}

std::vector<Suggestion> ReplyRanker::score_all(const std::vector<int32_t>& message) {
  std::vector<const std::vector<int32_t>*> targets;
  for (const std::vector<int32_t>& pieces : pieces_)
    targets.push_back(&pieces);
  const std::vector<double> scores = score_pieces(message, targets);
  std::vector<Suggestion> out;
  for (size_t i = 0; i < scores.size(); ++i)
    out.push_back(Suggestion{static_cast<int>(i), scores[i], scores[i]});
  std::stable_sort(out.begin(), out.end(),
                   [](const Suggestion& a, const Suggestion& b) { return a.score > b.score; });
  return out;
}

std::vector<double> ReplyRanker::score_texts(const std::string& message,
                                             const std::vector<std::string>& texts) {
  model_.set_training(false);
  const std::vector<int32_t> source = encode_message(message);
  S2S_CHECK(!source.empty(), "reply: the message is empty");
  std::vector<std::vector<int32_t>> pieces;
  pieces.reserve(texts.size());
  std::vector<const std::vector<int32_t>*> targets;
  std::vector<size_t> scored;
  for (size_t i = 0; i < texts.size(); ++i) {
    pieces.push_back(model_.vocab->encode(reply::collapse_whitespace(texts[i])));
    if (!pieces.back().empty()) scored.push_back(i);
  }
  for (size_t i : scored)
    targets.push_back(&pieces[i]);
  const std::vector<double> scores = score_pieces(source, targets);
  std::vector<double> out(texts.size(), -std::numeric_limits<double>::infinity());
  for (size_t j = 0; j < scored.size(); ++j)
    out[scored[j]] = scores[j];
  return out;
}

}  // namespace s2s::api
