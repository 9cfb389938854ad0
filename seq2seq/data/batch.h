// Example and Batch: the data pipeline's output types, and make_batch, which pads a set of
// encoded examples into the time-major tensors the encoders and decoders consume. Owns where
// BOS, EOS and padding go.
#pragma once

#include <cstdint>
#include <vector>

#include "seq2seq/tensor.h"

namespace s2s::data {

// The special ids of a vocabulary; vocab/ decides them, the data pipeline only places them.
struct SpecialIds {
  int32_t pad = 0;  // fills the positions past a sequence's end; default 0
  int32_t bos = 2;  // first decoder input; default 2
  int32_t eos = 3;  // last decoder output; default 3
};

// One encoded sentence pair, without BOS or EOS.
struct Example {
  std::vector<int32_t> source;
  std::vector<int32_t> target;
  uint64_t index = 0;  // position in the corpus (SentencePair::index)
};

// B examples, time-major. U = longest target + 1 (for BOS/EOS); S = longest source, at least 1
// so that no tensor is empty (a source column of length 0 has an all-zero mask).
struct Batch {
  Tensor source;                  // [S, B] i32, pad id past each source's end
  Tensor source_mask;             // [S, B] f32, 1 real token, 0 padding
  Tensor target_input;            // [U, B] i32: BOS y1 .. yn, then pad
  Tensor target_output;           // [U, B] i32: y1 .. yn EOS, then pad
  Tensor target_mask;             // [U, B] f32, 1 for BOS/y/EOS positions, 0 padding
  int64_t source_tokens = 0;      // real source tokens
  int64_t target_tokens = 0;      // real target_output tokens, EOS included
  std::vector<uint64_t> indices;  // [B] Example::index of each column

  int64_t size() const { return static_cast<int64_t>(indices.size()); }  // B
};

// Pads examples (at least one) into a CPU batch, column b holding examples[b].
Batch make_batch(const std::vector<const Example*>& examples, const SpecialIds& ids = {});
Batch make_batch(const std::vector<Example>& examples, const SpecialIds& ids = {});

// The batch cut into min(n, B) shards of sentences for workers that compute one update together:
// the sentences sorted by target length (then source length), cut where the shards' padded work
// ((sentences + 8) x (longest target + half the longest source): a step's fixed cost is about
// that of 8 sentences) comes most even. Each shard is the
// batch make_batch would build from its sentences in that order (trimmed to its own longest
// source and target); every sentence is in exactly one shard.
std::vector<Batch> split_batch(const Batch& batch, int n);

// max(S, U) * B of the batch these examples would make: the padded size batch_tokens bounds.
int64_t padded_tokens(int64_t max_source_length, int64_t max_target_length, int64_t batch_size);

}  // namespace s2s::data
