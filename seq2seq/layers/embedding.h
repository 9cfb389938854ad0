// Embedding: the token lookup table, weight [V, E], with an optional padding id whose rows are
// zeros and receive no gradient.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "seq2seq/layers/layer.h"

namespace s2s {

struct EmbeddingOptions {
  int64_t vocab_size = 0;          // V; required (> 0)
  int64_t embed_size = 0;          // E; required (> 0)
  int32_t pad_id = -1;             // id that embeds to zeros (its row stays zero); -1: none
  DType dtype = DType::f32;        // f32, or f64 for gradient checks
  Device device = Device::cpu();   // where the table lives; ids must live there too
  std::string name = "embedding";  // parameter prefix: "<name>.weight"
  uint64_t seed = 0;               // stream for the Glorot-uniform initialisation
};

class Embedding : public Layer {
 public:
  explicit Embedding(EmbeddingOptions options);

  // Rows of the table for each id; ids of any rank up to 3 ([N] or [T, B] typically). Keeps a
  // view of ids for backward. An id outside [0, V) other than pad_id throws InvalidArgument.
  Tensor forward(const Tensor& ids);  // i32 [...] -> [..., E]
  // Accumulates weight.grad (rows of pad_id untouched). The input gradient of ids is nothing.
  void backward(const Tensor& dout);  // [..., E]

  void collect_parameters(std::vector<Parameter*>& out) override;
  const EmbeddingOptions& options() const { return options_; }
  Parameter& weight() { return weight_; }  // [V, E]

 private:
  EmbeddingOptions options_;
  Parameter weight_;
  Tensor ids_;  // forward's ids, flattened to [N]
};

}  // namespace s2s
