// Greedy decoding over a shrinking batch.
#include "beam_search/greedy.h"

#include <algorithm>
#include <cmath>

#include "seq2seq/error.h"

namespace s2s {

std::vector<Hypothesis> greedy_decode(Decoder& decoder, const Memory& memory,
                                      const std::vector<int64_t>& source_lengths,
                                      const GreedyOptions& options) {
  const int64_t batch = memory.vectors.dim(1);
  S2S_CHECK(static_cast<int64_t>(source_lengths.size()) == batch,
            "greedy_decode: ", source_lengths.size(), " source lengths for a batch of ", batch);
  std::vector<Hypothesis> out(batch);
  std::vector<int64_t> limit(batch);
  int64_t longest = 0;
  for (int64_t b = 0; b < batch; ++b) {
    limit[b] = static_cast<int64_t>(
                   std::ceil(options.max_length_factor * static_cast<double>(source_lengths[b]))) +
               options.max_length_add;
    longest = std::max(longest, limit[b]);
  }
  std::unique_ptr<DecoderState> state = decoder.start(memory);
  std::vector<int32_t> live(batch);  // row r of the state is sentence live[r]
  for (int64_t b = 0; b < batch; ++b)
    live[b] = static_cast<int32_t>(b);
  std::vector<int32_t> previous(batch, options.bos_id);
  const Device device = memory.vectors.device();

  for (int64_t t = 0; t < longest && !live.empty(); ++t) {
    Tensor prev = Tensor::from_vector<int32_t>(previous, {static_cast<int64_t>(previous.size())});
    if (!device.is_cpu()) prev = prev.to(device);
    Tensor log_probs = decoder.step(*state, prev);  // [N, V]
    if (!log_probs.device().is_cpu()) log_probs = log_probs.to(Device::cpu());
    const int64_t v = log_probs.dim(1);
    std::vector<int32_t> keep, next;
    for (size_t r = 0; r < live.size(); ++r) {
      // The argmax; ties go to the lower id, so the output never depends on the batch.
      int64_t best = 0;
      double best_lp = -INFINITY;
      for (int64_t k = 0; k < v; ++k) {
        const double lp = log_probs.dtype() == DType::f32 ? log_probs.data<float>()[r * v + k]
                                                          : log_probs.data<double>()[r * v + k];
        if (lp > best_lp) best_lp = lp, best = k;
      }
      Hypothesis& h = out[live[r]];
      h.log_prob += best_lp;
      if (best == options.eos_id) {
        h.finished = true;
        continue;
      }
      h.tokens.push_back(static_cast<int32_t>(best));
      if (static_cast<int64_t>(h.tokens.size()) >= limit[live[r]]) continue;  // cut off
      keep.push_back(static_cast<int32_t>(r));
      next.push_back(static_cast<int32_t>(best));
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
