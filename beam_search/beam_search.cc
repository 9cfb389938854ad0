// Batched beam search. Rows of the decoder states are live hypotheses, grouped by sentence and
// ordered by rank within each group; the history of every hypothesis is a chain of nodes in one
// arena (parent links), so reordering beams moves a few integers, never token lists.
#include "beam_search/beam_search.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>

#include "beam_search/greedy.h"
#include "seq2seq/error.h"
#include "seq2seq/parallel_for.h"
#include "seq2seq/profiler.h"

namespace s2s {

double length_penalty(int64_t length, double alpha) {
  if (alpha == 0) return 1.0;
  return std::pow((5.0 + static_cast<double>(length)) / 6.0, alpha);
}

namespace {

struct Node {      // one emitted token (EOS included) of some hypothesis
  int32_t parent;  // the node before it; -1 for the first token
  int32_t token;
  float log_prob;     // log P(token | prefix, x)
  int64_t attention;  // offset into the attention arena; -1 if not kept
};

struct Row {  // a live hypothesis, one row of every decoder state
  int32_t sentence;
  int32_t node;     // its last token; -1 before the first
  int64_t length;   // tokens emitted so far
  double log_prob;  // their joint log-probability
  Constraint::State constraint;
};

struct Final {
  double score;
  int64_t order;  // when it was found: ties go to the earlier
  int32_t node;   // its EOS node
  double log_prob;
  bool finished;
};

struct Candidate {
  double log_prob;  // of the whole extended hypothesis
  int32_t rank;     // of its row within the sentence
  int32_t token;
  float token_log_prob;
  int32_t row;
};

bool better(const Candidate& a, const Candidate& b) {
  if (a.log_prob != b.log_prob) return a.log_prob > b.log_prob;
  if (a.rank != b.rank) return a.rank < b.rank;
  return a.token < b.token;
}

// The `take` best tokens of one row among those allowed, appended to out. Tokens are visited in
// ascending order and only a strictly better one displaces another, so ties keep the lower id.
// `pruned` rises to the best allowed token left out: the (take + 1)-th best, which the list keeps
// as its last entry while it scans, so the hot loop only compares a value with the list's worst.
// Over the whole vocabulary it compares a block of 16 at once: once the list is full, a block
// whose best is no better than the worst kept is skipped whole (most of them, after the first few
// hundred tokens), which finds the same tokens as visiting each one.
template <typename T>
void row_candidates(const T* log_probs, int64_t vocab, const Row& row, int32_t rank,
                    int32_t row_index, int take, bool force_eos, const Constraint* constraint,
                    const BeamSearchOptions& o, std::vector<Candidate>& best,
                    std::vector<Candidate>& out, double& pruned) {
  best.clear();
  const int keep = take + 1;  // the take best, and the best left out
  T worst = -std::numeric_limits<T>::infinity();
  bool full = false;
  auto consider = [&](int32_t token) {
    const T lp = log_probs[token];
    if (full && !(lp > worst)) return;
    if (token == o.pad_id || token == o.bos_id) return;
    if (token == o.eos_id && row.length < o.min_length) return;
    Candidate c{row.log_prob + static_cast<double>(lp), rank, token, static_cast<float>(lp),
                row_index};
    auto at = std::upper_bound(
        best.begin(), best.end(), c,
        [](const Candidate& a, const Candidate& b) { return a.token_log_prob > b.token_log_prob; });
    best.insert(at, c);
    if (static_cast<int>(best.size()) > keep) best.pop_back();
    full = static_cast<int>(best.size()) == keep;
    if (full) worst = static_cast<T>(best.back().token_log_prob);
  };
  auto allowed_by_constraint = [&](int32_t token) {
    const auto allowed = constraint->allowed(row.constraint);
    return std::binary_search(allowed.begin(), allowed.end(), token);
  };
  if (force_eos) {
    if (!constraint || allowed_by_constraint(o.eos_id)) consider(o.eos_id);
  } else if (constraint) {
    for (int32_t token : constraint->allowed(row.constraint))
      if (token >= 0 && token < vocab) consider(token);
  } else {
    constexpr int32_t kBlock = 16;
    using Block = Eigen::Map<const Eigen::Array<T, kBlock, 1>>;
    const int32_t whole = static_cast<int32_t>(vocab / kBlock * kBlock);
    for (int32_t begin = 0; begin < whole; begin += kBlock) {
      if (full && !(Block(log_probs + begin).maxCoeff() > worst)) continue;
      for (int32_t token = begin; token < begin + kBlock; ++token)
        consider(token);
    }
    for (int32_t token = whole; token < vocab; ++token)
      consider(token);
  }
  if (static_cast<int>(best.size()) > take) {
    pruned = std::max(pruned, row.log_prob + static_cast<double>(best.back().token_log_prob));
    best.pop_back();
  }
  out.insert(out.end(), best.begin(), best.end());
}

void check_options(const BeamSearchOptions& o) {
  S2S_CHECK(o.beam_size >= 1, "beam search: beam size must be at least 1, got ", o.beam_size);
  S2S_CHECK(o.n_best >= 1 && o.n_best <= o.beam_size, "beam search: n-best must be in [1, ",
            o.beam_size, "] (the beam size), got ", o.n_best);
  S2S_CHECK(o.length_penalty >= 0, "beam search: the length penalty alpha must be >= 0, got ",
            o.length_penalty);
  S2S_CHECK(o.coverage_penalty >= 0, "beam search: the coverage penalty beta must be >= 0, got ",
            o.coverage_penalty);
  S2S_CHECK(o.max_length_factor >= 0 && o.max_length_add >= 0 && o.min_length >= 0,
            "beam search: length limits must not be negative");
}

}  // namespace

std::vector<std::vector<Hypothesis>> beam_search(std::span<const SearchModel> models,
                                                 const std::vector<int64_t>& source_lengths,
                                                 const BeamSearchOptions& o,
                                                 const Constraint* constraint,
                                                 std::vector<double>* pruned_bounds) {
  check_options(o);
  S2S_CHECK(!models.empty(), "beam search: no model");
  const int64_t batch = models[0].memory->vectors.dim(1);
  S2S_CHECK(static_cast<int64_t>(source_lengths.size()) == batch,
            "beam search: ", source_lengths.size(), " source lengths for a batch of ", batch);
  const int64_t vocab = models[0].decoder->vocab_size();
  for (const SearchModel& m : models) {
    S2S_CHECK(m.memory->vectors.dim(1) == batch, "beam search: ensemble members disagree on the",
              " batch size");
    S2S_CHECK(m.decoder->vocab_size() == vocab, "beam search: ensemble members have target",
              " vocabularies of ", vocab, " and ", m.decoder->vocab_size(), " tokens");
  }
  const int k = o.beam_size;
  const bool need_attention = o.keep_attention || o.coverage_penalty > 0;
  const int64_t source_width = models[0].memory->vectors.dim(0);

  std::vector<int64_t> limit(batch);
  for (int64_t b = 0; b < batch; ++b)
    limit[b] = output_length_limit(source_lengths[b], o.max_length_factor, o.max_length_add);

  std::vector<std::unique_ptr<DecoderState>> states;
  for (const SearchModel& m : models)
    states.push_back(m.decoder->start(*m.memory));

  std::vector<Node> nodes;
  std::vector<float> attention_arena;
  std::vector<std::vector<Final>> finals(batch);
  // Per sentence, the best raw log-probability of any hypothesis the search let go unexplored:
  // an upper bound of everything it did not look at (log-probabilities only fall).
  std::vector<double> pruned(batch, -INFINITY);
  int64_t found = 0;

  std::vector<Row> rows(batch);
  for (int64_t b = 0; b < batch; ++b)
    rows[b] = Row{static_cast<int32_t>(b), -1, 0, 0.0,
                  constraint ? constraint->start(b) : Constraint::State{0}};
  std::vector<double> coverage;  // [rows, source_width] summed attention, when cp is on
  if (o.coverage_penalty > 0) coverage.assign(rows.size() * source_width, 0.0);
  std::vector<int32_t> previous(batch, o.bos_id);
  const Device device = models[0].memory->vectors.device();

  std::vector<std::pair<int64_t, int64_t>> spans;  // per sentence, its rows [begin, end)
  std::vector<std::vector<Candidate>> groups;      // per sentence, its best candidates
  while (!rows.empty()) {
    const int64_t n = static_cast<int64_t>(rows.size());
    Tensor prev = Tensor::from_vector<int32_t>(previous, {n});
    if (!device.is_cpu()) prev = prev.to(device);
    Tensor attention;
    Tensor log_probs =
        models[0].decoder->step(*states[0], prev, need_attention ? &attention : nullptr);
    if (!log_probs.device().is_cpu()) log_probs = log_probs.to(Device::cpu());
    if (attention.defined() && !attention.device().is_cpu())
      attention = attention.to(Device::cpu());
    if (models.size() > 1) {
      // The ensemble's log-probability is the mean of its members'.
      for (size_t m = 1; m < models.size(); ++m) {
        Tensor other = models[m].decoder->step(*states[m], prev);
        if (!other.device().is_cpu()) other = other.to(Device::cpu());
        S2S_CHECK(other.dtype() == log_probs.dtype(), "beam search: ensemble members must",
                  " share a dtype");
        if (log_probs.dtype() == DType::f32) {
          float* a = log_probs.data<float>();
          const float* x = other.data<float>();
          for (int64_t i = 0; i < n * vocab; ++i)
            a[i] += x[i];
        } else {
          double* a = log_probs.data<double>();
          const double* x = other.data<double>();
          for (int64_t i = 0; i < n * vocab; ++i)
            a[i] += x[i];
        }
      }
      const double scale = 1.0 / static_cast<double>(models.size());
      if (log_probs.dtype() == DType::f32) {
        float* a = log_probs.data<float>();
        for (int64_t i = 0; i < n * vocab; ++i)
          a[i] = static_cast<float>(a[i] * scale);
      } else {
        double* a = log_probs.data<double>();
        for (int64_t i = 0; i < n * vocab; ++i)
          a[i] *= scale;
      }
    }
    auto attention_row = [&](int32_t r, int64_t s, int64_t i) -> double {
      return attention.dtype() == DType::f32 ? attention.data<float>()[r * s + i]
                                             : attention.data<double>()[r * s + i];
    };
    const int64_t att_width = attention.defined() ? attention.dim(1) : 0;

    std::optional<profile::Scope> selecting;
    selecting.emplace("beam_select");
    std::vector<Row> next_rows;
    std::vector<int32_t> parents, next_tokens;
    std::vector<double> next_coverage;
    // Adds a node for candidate c (keeping its attention row if asked) and returns its index.
    auto add_node = [&](const Candidate& c) {
      const Row& row = rows[c.row];
      int64_t offset = -1;
      if (o.keep_attention) {
        offset = static_cast<int64_t>(attention_arena.size());
        const int64_t len = source_lengths[row.sentence];
        for (int64_t i = 0; i < len; ++i)
          attention_arena.push_back(static_cast<float>(attention_row(c.row, att_width, i)));
      }
      nodes.push_back(Node{row.node, c.token, c.token_log_prob, offset});
      return static_cast<int32_t>(nodes.size() - 1);
    };
    auto coverage_after = [&](const Candidate& c, std::vector<double>& out) {
      const size_t base = out.size();
      out.resize(base + source_width);
      for (int64_t i = 0; i < source_width; ++i)
        out[base + i] = coverage[c.row * source_width + i] +
                        (i < att_width ? attention_row(c.row, att_width, i) : 0.0);
    };

    // The rows of each sentence, and its best 2K candidates: sentences in parallel, since this
    // V-wide scan of every row is most of the selection's time; each writes only its own group
    // and its own pruned[sentence], so the result does not depend on the threads. The
    // bookkeeping below then runs in sentence order.
    const int take = 2 * k;
    spans.clear();
    for (int64_t begin = 0; begin < n;) {
      int64_t end = begin;
      while (end < n && rows[end].sentence == rows[begin].sentence)
        ++end;
      spans.emplace_back(begin, end);
      begin = end;
    }
    if (groups.size() < spans.size()) groups.resize(spans.size());
    const int64_t spans_count = static_cast<int64_t>(spans.size());
    parallel_for(spans_count, 2, [&](int64_t first, int64_t last) {
      std::vector<Candidate> row_best;
      for (int64_t g = first; g < last; ++g) {
        const auto [begin, end] = spans[g];
        const int32_t sentence = rows[begin].sentence;
        const bool force_eos = rows[begin].length >= limit[sentence];
        std::vector<Candidate>& group = groups[g];
        group.clear();
        for (int64_t r = begin; r < end; ++r) {
          const int32_t rank = static_cast<int32_t>(r - begin);
          if (log_probs.dtype() == DType::f32)
            row_candidates(log_probs.data<float>() + r * vocab, vocab, rows[r], rank,
                           static_cast<int32_t>(r), take, force_eos, constraint, o, row_best, group,
                           pruned[sentence]);
          else
            row_candidates(log_probs.data<double>() + r * vocab, vocab, rows[r], rank,
                           static_cast<int32_t>(r), take, force_eos, constraint, o, row_best, group,
                           pruned[sentence]);
        }
        const size_t keep = std::min<size_t>(group.size(), static_cast<size_t>(take));
        std::partial_sort(group.begin(), group.begin() + keep, group.end(), better);
        for (size_t i = keep; i < group.size(); ++i)
          pruned[sentence] = std::max(pruned[sentence], group[i].log_prob);
        group.resize(keep);
      }
    });

    for (int64_t g = 0; g < spans_count; ++g) {
      const auto [begin, end] = spans[g];
      const int32_t sentence = rows[begin].sentence;
      const bool force_eos = rows[begin].length >= limit[sentence];
      const std::vector<Candidate>& group = groups[g];
      const size_t keep = group.size();

      std::vector<Final>& done = finals[sentence];
      const size_t first_new = next_rows.size();
      int live = 0;
      for (size_t position = 0; position < keep; ++position) {
        const Candidate& c = group[position];
        const Row& row = rows[c.row];
        if (c.token == o.eos_id) {
          // A final hypothesis, if it ranks within the beam (the rest of the top 2K only stand in
          // for beams that ended, so the beam never runs short of live hypotheses).
          if (static_cast<int>(position) >= k || static_cast<int>(done.size()) >= k) {
            pruned[sentence] = std::max(pruned[sentence], c.log_prob);
            continue;
          }
          double score = c.log_prob / length_penalty(row.length + 1, o.length_penalty);
          if (o.coverage_penalty > 0) {
            std::vector<double> cov;
            coverage_after(c, cov);
            double cp = 0;
            for (int64_t i = 0; i < source_lengths[sentence]; ++i)
              cp += std::log(std::clamp(cov[i], 1e-20, 1.0));
            score += o.coverage_penalty * cp;
          }
          done.push_back(Final{score, found++, add_node(c), c.log_prob, !force_eos});
          continue;
        }
        if (live == k) {
          pruned[sentence] = std::max(pruned[sentence], c.log_prob);
          continue;
        }
        ++live;
        const int32_t node = add_node(c);
        next_rows.push_back(Row{sentence, node, row.length + 1, c.log_prob,
                                constraint ? constraint->advance(row.constraint, c.token) : 0});
        parents.push_back(c.row);
        next_tokens.push_back(c.token);
        if (o.coverage_penalty > 0) coverage_after(c, next_coverage);
      }
      // Is the sentence done? Its beam is full of finals, nothing is live, or no live hypothesis
      // can still beat the n-th best final: a live score can only fall to log_prob / lp(longest)
      // at best (log-probabilities only fall, lp only grows, cp <= 0).
      bool finished = static_cast<int>(done.size()) >= k || live == 0;
      if (!finished && static_cast<int>(done.size()) >= o.n_best) {
        std::vector<double> scores;
        for (const Final& f : done)
          scores.push_back(f.score);
        std::nth_element(scores.begin(), scores.begin() + (o.n_best - 1), scores.end(),
                         std::greater<double>());
        const double nth = scores[o.n_best - 1];
        const double longest = length_penalty(limit[sentence] + 1, o.length_penalty);
        double bound = -INFINITY;
        for (size_t r = first_new; r < next_rows.size(); ++r)
          bound = std::max(bound, next_rows[r].log_prob / longest);
        finished = nth >= bound;
      }
      if (finished) {
        for (size_t r = first_new; r < next_rows.size(); ++r)
          pruned[sentence] = std::max(pruned[sentence], next_rows[r].log_prob);
        next_rows.resize(first_new);
        parents.resize(first_new);
        next_tokens.resize(first_new);
        if (o.coverage_penalty > 0) next_coverage.resize(first_new * source_width);
      }
    }
    selecting.reset();
    if (next_rows.empty()) break;
    for (auto& state : states)
      state->select(parents);
    rows = std::move(next_rows);
    previous = std::move(next_tokens);
    coverage = std::move(next_coverage);
  }

  if (pruned_bounds) *pruned_bounds = pruned;
  std::vector<std::vector<Hypothesis>> out(batch);
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<Final>& done = finals[b];
    std::sort(done.begin(), done.end(), [](const Final& a, const Final& c) {
      return a.score != c.score ? a.score > c.score : a.order < c.order;
    });
    for (size_t i = 0; i < done.size() && static_cast<int>(i) < o.n_best; ++i) {
      Hypothesis h;
      h.log_prob = done[i].log_prob;
      h.score = done[i].score;
      h.finished = done[i].finished;
      for (int32_t node = done[i].node; node >= 0; node = nodes[node].parent) {
        const Node& x = nodes[node];
        if (node != done[i].node) h.tokens.push_back(x.token);  // all but EOS
        h.token_log_probs.push_back(x.log_prob);
        if (o.keep_attention) {
          const float* a = attention_arena.data() + x.attention;
          h.attention.emplace_back(a, a + source_lengths[b]);
        }
      }
      std::reverse(h.tokens.begin(), h.tokens.end());
      std::reverse(h.token_log_probs.begin(), h.token_log_probs.end());
      std::reverse(h.attention.begin(), h.attention.end());
      out[b].push_back(std::move(h));
    }
  }
  return out;
}

}  // namespace s2s
