// ReplySuggester: trie-constrained search, diversity and triggering.
#include "seq2seq/cli/reply_suggester.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "beam_search/beam_search.h"
#include "seq2seq/cli/translator.h"
#include "seq2seq/error.h"
#include "seq2seq/ops/index_select.h"

namespace s2s::cli {

ReplySuggester::ReplySuggester(TranslationModel& model,
                               const std::vector<reply::Response>& responses, ReplyOptions options)
    : model_(model), responses_(responses), options_(options) {
  S2S_CHECK(options_.k >= 1, "reply: k must be at least 1, got ", options_.k);
  S2S_CHECK(options_.beam >= 1, "reply: the beam must be at least 1, got ", options_.beam);
  options_.candidates = std::clamp(options_.candidates, 1, options_.beam);
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

std::vector<ReplyResult> ReplySuggester::suggest(const std::vector<std::string>& messages) {
  model_.set_training(false);
  std::vector<ReplyResult> out(messages.size());
  std::vector<std::vector<int32_t>> sources(messages.size());
  for (size_t i = 0; i < messages.size(); ++i) {
    sources[i] = model_.vocab->encode(messages[i]);
    if (options_.max_source_length > 0 &&
        static_cast<int64_t>(sources[i].size()) > options_.max_source_length)
      sources[i].resize(options_.max_source_length);
  }
  std::vector<size_t> pending;
  for (size_t i = 0; i < messages.size(); ++i)
    if (!sources[i].empty()) pending.push_back(i);  // an empty message gets no suggestion
  std::stable_sort(pending.begin(), pending.end(),
                   [&](size_t a, size_t b) { return sources[a].size() < sources[b].size(); });
  size_t longest = 0;
  for (const auto& p : pieces_)
    longest = std::max(longest, p.size());
  BeamSearchOptions search;
  search.n_best = options_.candidates;
  search.length_penalty = 0;  // rank by log P(response | message)
  search.max_length_factor = 0;
  search.max_length_add = static_cast<int64_t>(longest);
  search.bos_id = Vocab::kBos;
  search.eos_id = Vocab::kEos;
  search.pad_id = Vocab::kPad;
  // The trie search must rank exactly as forced decoding of every response would. The beam
  // search says how good a hypothesis it left unexplored; the ranking is exact down to the last
  // response that scores at least that much, and the suggestions are exact when that prefix
  // holds k clusters (or every response). Messages for which it does not are searched again
  // with a 4x wider beam; a beam as wide as the response set prunes nothing.
  const int widest = static_cast<int>(responses_.size());
  for (int beam = std::min(options_.beam, widest); !pending.empty();
       beam = std::min(beam * 4, widest)) {
    search.beam_size = beam;
    search.n_best = std::min(options_.candidates, beam);
    std::vector<size_t> unsure;
    for (size_t begin = 0; begin < pending.size(); begin += options_.batch_size) {
      const size_t end = std::min(pending.size(), begin + static_cast<size_t>(options_.batch_size));
      const std::vector<size_t> batch(pending.begin() + begin, pending.begin() + end);
      std::vector<int64_t> lengths;
      const Memory memory = encode_batch(model_, sources, batch, lengths);
      const SearchModel member{model_.decoder.get(), &memory};
      std::vector<double> pruned;
      const auto found = beam_search(std::span(&member, 1), lengths, search, trie_.get(), &pruned);
      for (size_t j = 0; j < batch.size(); ++j) {
        ReplyResult& r = out[batch[j]];
        r.ranked.clear();
        std::set<std::string> clusters;
        bool certain = false;
        for (const Hypothesis& h : found[j]) {
          const auto node = trie_->find(h.tokens);
          r.ranked.push_back(Suggestion{response_of_node_[node], h.log_prob});
          if (h.log_prob < pruned[j]) break;  // from here on something unexplored may be better
          clusters.insert(responses_[response_of_node_[node]].cluster);
          if (static_cast<int>(options_.diverse ? clusters.size() : r.ranked.size()) >= options_.k)
            certain = true;
        }
        if (pruned[j] == -INFINITY) certain = true;  // nothing was left unexplored
        r.searched_beam = beam;
        if (!certain && beam < widest) unsure.push_back(batch[j]);
      }
    }
    pending = std::move(unsure);
  }
  for (ReplyResult& r : out) {
    r.triggered = !r.ranked.empty() && r.ranked[0].score >= options_.threshold;
    if (!r.triggered) continue;
    std::set<std::string> used;
    for (const Suggestion& s : r.ranked) {
      if (static_cast<int>(r.suggestions.size()) == options_.k) break;
      if (options_.diverse && !used.insert(responses_[s.response].cluster).second) continue;
      r.suggestions.push_back(s);
    }
  }
  return out;
}

std::vector<Suggestion> ReplySuggester::score_all(const std::string& message) {
  model_.set_training(false);
  std::vector<std::vector<int32_t>> source = {model_.vocab->encode(message)};
  if (options_.max_source_length > 0 &&
      static_cast<int64_t>(source[0].size()) > options_.max_source_length)
    source[0].resize(options_.max_source_length);
  S2S_CHECK(!source[0].empty(), "reply: the message is empty");
  std::vector<int64_t> lengths;
  const Memory one = encode_batch(model_, source, {0}, lengths);
  std::vector<Suggestion> out;
  const size_t chunk = 256;
  for (size_t begin = 0; begin < pieces_.size(); begin += chunk) {
    const size_t end = std::min(pieces_.size(), begin + chunk);
    // The message's memory, once per response of the chunk.
    const std::vector<int32_t> repeat(end - begin, 0);
    const Memory memory{
        ops::index_select(one.vectors, 1, repeat), ops::index_select(one.mask, 1, repeat),
        one.summary.defined() ? ops::index_select(one.summary, 0, repeat) : Tensor()};
    std::vector<const std::vector<int32_t>*> targets;
    for (size_t i = begin; i < end; ++i)
      targets.push_back(&pieces_[i]);
    const auto log_probs = forced_log_probs(model_, memory, targets);
    for (size_t j = 0; j < targets.size(); ++j) {
      double total = 0;
      for (double lp : log_probs[j])
        total += lp;
      out.push_back(Suggestion{static_cast<int>(begin + j), total});
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Suggestion& a, const Suggestion& b) { return a.score > b.score; });
  return out;
}

}  // namespace s2s::cli
