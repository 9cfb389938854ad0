// Greedy decoding over a shrinking batch.
#include "beam_search/greedy.h"

#include <algorithm>
#include <cmath>

#include "seq2seq/error.h"

namespace s2s {

int64_t output_length_limit(int64_t source_length, double factor, int64_t add) {
  return std::max<int64_t>(
      1, static_cast<int64_t>(std::ceil(factor * static_cast<double>(source_length))) + add);
}

namespace {

template <typename T>
void take_best(const T* log_probs, int64_t v, const GreedyOptions& options, bool force_eos,
               int32_t& best, double& best_lp) {
  if (force_eos) {
    best = options.eos_id;
    best_lp = log_probs[options.eos_id];
    return;
  }
  // The argmax; ties go to the lower id, so the output never depends on the batch.
  best = -1;
  best_lp = -INFINITY;
  for (int64_t k = 0; k < v; ++k) {
    if (k == options.pad_id || k == options.bos_id) continue;
    if (best < 0 || log_probs[k] > best_lp) best_lp = log_probs[k], best = static_cast<int32_t>(k);
  }
}

}  // namespace

std::vector<Hypothesis> greedy_decode(Decoder& decoder, const Memory& memory,
                                      const std::vector<int64_t>& source_lengths,
                                      const GreedyOptions& options) {
  const int64_t batch = memory.vectors.dim(1);
  S2S_CHECK(static_cast<int64_t>(source_lengths.size()) == batch,
            "greedy_decode: ", source_lengths.size(), " source lengths for a batch of ", batch);
  std::vector<Hypothesis> out(batch);
  std::vector<int64_t> limit(batch);
  for (int64_t b = 0; b < batch; ++b)
    limit[b] =
        output_length_limit(source_lengths[b], options.max_length_factor, options.max_length_add);
  std::unique_ptr<DecoderState> state = decoder.start(memory);
  std::vector<int32_t> live(batch);  // row r of the state is sentence live[r]
  for (int64_t b = 0; b < batch; ++b)
    live[b] = static_cast<int32_t>(b);
  std::vector<int32_t> previous(batch, options.bos_id);
  const Device device = memory.vectors.device();

  while (!live.empty()) {
    Tensor prev = Tensor::from_vector<int32_t>(previous, {static_cast<int64_t>(previous.size())});
    if (!device.is_cpu()) prev = prev.to(device);
    Tensor log_probs = decoder.step(*state, prev);  // [N, V]
    if (!log_probs.device().is_cpu()) log_probs = log_probs.to(Device::cpu());
    const int64_t v = log_probs.dim(1);
    std::vector<int32_t> keep, next;
    for (size_t r = 0; r < live.size(); ++r) {
      Hypothesis& h = out[live[r]];
      const bool force_eos = static_cast<int64_t>(h.tokens.size()) >= limit[live[r]];
      int32_t best;
      double best_lp;
      if (log_probs.dtype() == DType::f32)
        take_best(log_probs.data<float>() + r * v, v, options, force_eos, best, best_lp);
      else
        take_best(log_probs.data<double>() + r * v, v, options, force_eos, best, best_lp);
      h.log_prob += best_lp;
      h.token_log_probs.push_back(static_cast<float>(best_lp));
      if (best == options.eos_id) {
        h.finished = !force_eos;
        h.score = h.log_prob;
        continue;
      }
      h.tokens.push_back(best);
      keep.push_back(static_cast<int32_t>(r));
      next.push_back(best);
    }
    if (keep.size() != live.size()) {
      std::vector<int32_t> still;
      for (int32_t r : keep)
        still.push_back(live[r]);
      live = std::move(still);
      if (!live.empty()) state->select(keep);
    }
    previous = std::move(next);
  }
  return out;
}

}  // namespace s2s
