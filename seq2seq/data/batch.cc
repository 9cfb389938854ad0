// make_batch: padding and BOS/EOS placement.
#include "seq2seq/data/batch.h"

#include <algorithm>
#include <utility>

#include "seq2seq/error.h"

namespace s2s::data {

int64_t padded_tokens(int64_t max_source_length, int64_t max_target_length, int64_t batch_size) {
  return std::max<int64_t>({max_source_length, max_target_length + 1, 1}) * batch_size;
}

Batch make_batch(const std::vector<const Example*>& examples, const SpecialIds& ids) {
  S2S_CHECK(!examples.empty(), "make_batch: no examples");
  const int64_t B = static_cast<int64_t>(examples.size());
  int64_t S = 1, U = 1;
  for (const Example* e : examples) {
    S = std::max<int64_t>(S, static_cast<int64_t>(e->source.size()));
    U = std::max<int64_t>(U, static_cast<int64_t>(e->target.size()) + 1);
  }
  Batch batch;
  batch.source = Tensor::empty({S, B}, DType::i32);
  batch.source_mask = Tensor::zeros({S, B}, DType::f32);
  batch.target_input = Tensor::empty({U, B}, DType::i32);
  batch.target_output = Tensor::empty({U, B}, DType::i32);
  batch.target_mask = Tensor::zeros({U, B}, DType::f32);
  int32_t* src = batch.source.data<int32_t>();
  float* src_mask = batch.source_mask.data<float>();
  int32_t* tgt_in = batch.target_input.data<int32_t>();
  int32_t* tgt_out = batch.target_output.data<int32_t>();
  float* tgt_mask = batch.target_mask.data<float>();
  std::fill(src, src + S * B, ids.pad);
  std::fill(tgt_in, tgt_in + U * B, ids.pad);
  std::fill(tgt_out, tgt_out + U * B, ids.pad);
  batch.indices.reserve(examples.size());
  for (int64_t b = 0; b < B; ++b) {
    const Example& e = *examples[b];
    const int64_t n = static_cast<int64_t>(e.source.size());
    for (int64_t t = 0; t < n; ++t) {
      src[t * B + b] = e.source[t];
      src_mask[t * B + b] = 1.0f;
    }
    const int64_t m = static_cast<int64_t>(e.target.size());
    tgt_in[b] = ids.bos;
    for (int64_t t = 0; t < m; ++t) {
      tgt_in[(t + 1) * B + b] = e.target[t];
      tgt_out[t * B + b] = e.target[t];
    }
    tgt_out[m * B + b] = ids.eos;
    for (int64_t t = 0; t <= m; ++t)
      tgt_mask[t * B + b] = 1.0f;
    batch.source_tokens += n;
    batch.target_tokens += m + 1;
    batch.indices.push_back(e.index);
  }
  return batch;
}

namespace {

// Rows [0, rows) of the given columns of a time-major [T, B] tensor, as a new [rows, columns].
template <typename T>
Tensor columns(const Tensor& x, int64_t rows, const std::vector<int64_t>& which) {
  const int64_t B = x.shape()[1], width = static_cast<int64_t>(which.size());
  Tensor out = Tensor::empty({rows, width}, x.dtype());
  const T* in = x.data<T>();
  T* to = out.data<T>();
  for (int64_t t = 0; t < rows; ++t)
    for (int64_t j = 0; j < width; ++j)
      to[t * width + j] = in[t * B + which[static_cast<size_t>(j)]];
  return out;
}

}  // namespace

std::vector<Batch> split_batch(const Batch& batch, int n) {
  S2S_CHECK(n >= 1, "split_batch: n must be at least 1, got ", n);
  const int64_t B = batch.size(), S = batch.source.shape()[0], U = batch.target_mask.shape()[0];
  S2S_CHECK(B >= 1 && batch.source.shape()[1] == B && batch.target_mask.shape()[1] == B,
            "split_batch: a batch of ", B, " sentences with tensors of ", batch.source.shape()[1],
            " and ", batch.target_mask.shape()[1], " columns");
  std::vector<int64_t> source_length(B, 0), target_length(B, 0);
  const float* source_mask = batch.source_mask.data<float>();
  const float* target_mask = batch.target_mask.data<float>();
  for (int64_t t = 0; t < S; ++t)
    for (int64_t b = 0; b < B; ++b)
      if (source_mask[t * B + b] != 0) source_length[b] = t + 1;
  for (int64_t t = 0; t < U; ++t)
    for (int64_t b = 0; b < B; ++b)
      if (target_mask[t * B + b] != 0) target_length[b] = t + 1;
  // The batcher sorts by source length, so targets of very different lengths share a batch; cut
  // at random, one shard would pad them all to the longest. Sorted by target length, each shard
  // pads little, and the cuts balance the padded work: a shard's decoder runs its longest target's
  // steps over all its sentences, its encoder (about half the cost a step) its longest source's,
  // and every step has a fixed cost besides.
  std::vector<int64_t> order(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b)
    order[static_cast<size_t>(b)] = b;
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return std::pair(target_length[a], source_length[a]) <
           std::pair(target_length[b], source_length[b]);
  });
  const int shards = static_cast<int>(std::min<int64_t>(n, B));
  // A time step costs about as much as this many more sentences in it, whatever its width (the
  // per-step launches of small GEMMs and element-wise passes; measured on the hour recipe).
  constexpr int64_t kStepCost = 8;
  // The fewest-shards cuts whose every shard costs at most `limit`, greedily from the left.
  auto cut = [&](double limit) {
    std::vector<int64_t> ends;
    int64_t begin = 0;
    while (begin < B) {
      int64_t end = begin, longest_target = 0, longest_source = 0;
      while (end < B) {
        const int64_t b = order[static_cast<size_t>(end)];
        const int64_t lt = std::max(longest_target, target_length[b]);
        const int64_t ls = std::max(longest_source, source_length[b]);
        const double cost = static_cast<double>(end + 1 - begin + kStepCost) * (lt + 0.5 * ls);
        if (end > begin && cost > limit) break;
        longest_target = lt, longest_source = ls, ++end;
      }
      ends.push_back(end);
      begin = end;
    }
    return ends;
  };
  // The smallest limit that `shards` shards meet (binary search on the limit).
  double low = 0, high = static_cast<double>(B + kStepCost) * (U + 0.5 * S) + 1;
  for (int i = 0; i < 50 && high - low > 0.25; ++i) {
    const double mid = (low + high) / 2;
    (static_cast<int>(cut(mid).size()) <= shards ? high : low) = mid;
  }
  std::vector<int64_t> ends = cut(high);
  // Fewer shards than asked (the limit fits all in fewer): split the largest until there are n.
  while (static_cast<int>(ends.size()) < shards) {
    int64_t begin = 0, best = -1, best_size = 1;
    for (size_t k = 0; k < ends.size(); begin = ends[k], ++k)
      if (ends[k] - begin > best_size) best = static_cast<int64_t>(k), best_size = ends[k] - begin;
    const int64_t from = best == 0 ? 0 : ends[static_cast<size_t>(best) - 1];
    ends.insert(ends.begin() + best, from + best_size / 2);
  }
  std::vector<Batch> out;
  int64_t begin = 0;
  for (const int64_t end : ends) {
    Batch shard;
    const std::vector<int64_t> which(order.begin() + begin, order.begin() + end);
    int64_t s = 1, u = 1;
    for (const int64_t b : which) {
      s = std::max(s, source_length[b]), u = std::max(u, target_length[b]);
      shard.source_tokens += source_length[b];
      shard.target_tokens += target_length[b];
      shard.indices.push_back(batch.indices[static_cast<size_t>(b)]);
    }
    shard.source = columns<int32_t>(batch.source, s, which);
    shard.source_mask = columns<float>(batch.source_mask, s, which);
    shard.target_input = columns<int32_t>(batch.target_input, u, which);
    shard.target_output = columns<int32_t>(batch.target_output, u, which);
    shard.target_mask = columns<float>(batch.target_mask, u, which);
    out.push_back(std::move(shard));
    begin = end;
  }
  return out;
}

Batch make_batch(const std::vector<Example>& examples, const SpecialIds& ids) {
  std::vector<const Example*> pointers;
  pointers.reserve(examples.size());
  for (const Example& e : examples)
    pointers.push_back(&e);
  return make_batch(pointers, ids);
}

}  // namespace s2s::data
