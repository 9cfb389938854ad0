// make_batch: padding and BOS/EOS placement.
#include "seq2seq/data/batch.h"

#include <algorithm>

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

Batch make_batch(const std::vector<Example>& examples, const SpecialIds& ids) {
  std::vector<const Example*> pointers;
  pointers.reserve(examples.size());
  for (const Example& e : examples)
    pointers.push_back(&e);
  return make_batch(pointers, ids);
}

}  // namespace s2s::data
