// Best-first trie search: per sentence a heap of open prefixes and a heap of finished sequences;
// every decoder state ever computed stays in one pool that each step gathers its rows from.
#include "beam_search/trie_search.h"

#include <algorithm>
#include <queue>

#include "seq2seq/error.h"

namespace s2s {
namespace {

struct OpenPrefix {
  double bound;  // log_prob + the largest bonus of a sequence through node
  double log_prob;
  Constraint::State node;  // the trie node the prefix reaches
  int32_t token;           // its last token, fed to the decoder when it is expanded
  int64_t parent_row;      // the pool row of the state before that token
  bool operator<(const OpenPrefix& other) const { return bound < other.bound; }
};

struct Finished {
  double score;  // log_prob + the sequence's bonus
  double log_prob;
  Constraint::State node;
  bool operator<(const Finished& other) const { return score < other.score; }
};

struct SentenceSearch {
  std::vector<OpenPrefix> open;            // a max-heap; a vector, so compaction can renumber
  std::priority_queue<Finished> finished;  // found, not yet known to be the next best
  std::vector<TrieHit> hits;
  bool done = false;

  const OpenPrefix& best_open() const { return open.front(); }
  void push_open(const OpenPrefix& prefix) {
    open.push_back(prefix);
    std::push_heap(open.begin(), open.end());
  }
  void pop_open() {
    std::pop_heap(open.begin(), open.end());
    open.pop_back();
  }
  void finish() {
    done = true;
    open = {};  // what is left is never expanded: free it and the pool rows it holds
    finished = {};
  }
};

}  // namespace

std::vector<std::vector<TrieHit>> trie_search(Decoder& decoder, const Memory& memory,
                                              const Constraint& trie,
                                              const TrieSearchEnough& enough,
                                              const TrieSearchOptions& options,
                                              TrieSearchStats* stats) {
  S2S_CHECK(options.expand_per_step >= 1, "trie search: expand_per_step must be at least 1, got ",
            options.expand_per_step);
  S2S_CHECK(!options.end_bonus == !options.subtree_bonus,
            "trie search: end_bonus and subtree_bonus come together");
  const auto bonus_at = [&](const std::vector<double>* bonus, Constraint::State node) {
    if (!bonus) return 0.0;
    S2S_CHECK(node >= 0 && static_cast<size_t>(node) < bonus->size(),
              "trie search: no bonus for trie node ", node);
    return (*bonus)[static_cast<size_t>(node)];
  };
  std::unique_ptr<DecoderState> pool = decoder.start(memory);
  const int64_t batch = pool->rows();
  const int64_t vocab = decoder.vocab_size();
  std::vector<SentenceSearch> sentences(batch);
  if (stats) stats->sentence_expansions.assign(batch, 0);
  for (int64_t b = 0; b < batch; ++b)
    sentences[b].push_open(
        {bonus_at(options.subtree_bonus, trie.start(b)), 0.0, trie.start(b), options.bos_id, b});
  int64_t compact_at = options.pool_rows;

  std::vector<int32_t> parent_rows, tokens;
  std::vector<OpenPrefix> expanded;
  std::vector<int64_t> owner;  // the sentence of each expanded prefix
  for (;;) {
    // Report what is known to be next best: a finished sequence scoring at least every open
    // prefix's bound, since extending a prefix never raises its probability and no sequence
    // through it has a larger bonus.
    for (int64_t b = 0; b < batch; ++b) {
      SentenceSearch& s = sentences[b];
      while (!s.done && !s.finished.empty() &&
             (s.open.empty() || s.finished.top().score >= s.best_open().bound)) {
        s.hits.push_back(
            {s.finished.top().node, s.finished.top().log_prob, s.finished.top().score});
        s.finished.pop();
        if (enough(b, s.hits)) s.finish();
      }
      if (!s.done && s.open.empty() && s.finished.empty()) s.finish();
    }
    parent_rows.clear(), tokens.clear(), expanded.clear(), owner.clear();
    for (int64_t b = 0; b < batch; ++b) {
      SentenceSearch& s = sentences[b];
      if (s.done) continue;
      // The best open prefix must be expanded; the next few usually will be, and batching them
      // into this step saves steps. None worse than a finished sequence: that one comes first.
      for (int taken = 0; taken < options.expand_per_step && !s.open.empty(); ++taken) {
        const OpenPrefix& best = s.best_open();
        if (taken > 0 && !s.finished.empty() && best.bound <= s.finished.top().score) break;
        expanded.push_back(best);
        owner.push_back(b);
        parent_rows.push_back(static_cast<int32_t>(best.parent_row));
        tokens.push_back(best.token);
        s.pop_open();
      }
    }
    if (expanded.empty()) break;
    std::unique_ptr<DecoderState> step_state = pool->gather(parent_rows);
    const Tensor previous = Tensor::from_vector(tokens, {static_cast<int64_t>(tokens.size())})
                                .to(memory.vectors.device());
    const Tensor log_probs = decoder.step(*step_state, previous);
    // Only the trie's children of each row are read: no copy of the whole [N, V] on the CPU.
    const Tensor on_host = log_probs.device().is_cpu() ? log_probs : log_probs.to(Device::cpu());
    const bool wide = on_host.dtype() == DType::f64;
    const float* narrow = wide ? nullptr : on_host.data<float>();
    const double* precise = wide ? on_host.data<double>() : nullptr;
    const int64_t first_row = pool->rows();
    pool->append(*step_state);
    if (stats) stats->expansions += static_cast<int64_t>(expanded.size()), ++stats->steps;

    for (size_t i = 0; i < expanded.size(); ++i) {
      const OpenPrefix& prefix = expanded[i];
      SentenceSearch& s = sentences[owner[i]];
      if (stats) ++stats->sentence_expansions[owner[i]];
      const int64_t row = static_cast<int64_t>(i) * vocab;
      for (const int32_t token : trie.allowed(prefix.node)) {
        S2S_CHECK(token >= 0 && token < vocab, "trie search: the trie allows token ", token,
                  " outside the decoder's vocabulary of ", vocab);
        const double log_prob = prefix.log_prob + (wide ? precise[row + token]
                                                        : static_cast<double>(narrow[row + token]));
        if (token == options.eos_id) {
          s.finished.push(
              {log_prob + bonus_at(options.end_bonus, prefix.node), log_prob, prefix.node});
        } else {
          const Constraint::State node = trie.advance(prefix.node, token);
          s.push_open({log_prob + bonus_at(options.subtree_bonus, node), log_prob, node, token,
                       first_row + static_cast<int64_t>(i)});
        }
      }
    }
    if (pool->rows() > compact_at) {
      // Keep only the states open prefixes still start from (expanded prefixes whose children
      // are all expanded, or whose sentence is done, need theirs no more).
      std::vector<int32_t> new_row(pool->rows(), -1), keep;
      for (SentenceSearch& s : sentences)
        for (OpenPrefix& prefix : s.open) {
          int32_t& row = new_row[prefix.parent_row];
          if (row < 0) {
            row = static_cast<int32_t>(keep.size());
            keep.push_back(static_cast<int32_t>(prefix.parent_row));
          }
          prefix.parent_row = row;
        }
      pool = pool->gather(keep);
      if (stats) ++stats->compactions;
      compact_at = std::max<int64_t>(options.pool_rows, 2 * pool->rows());
    }
  }
  std::vector<std::vector<TrieHit>> out(batch);
  for (int64_t b = 0; b < batch; ++b)
    out[b] = std::move(sentences[b].hits);
  return out;
}

}  // namespace s2s
