// Parameter: a named trainable tensor with its gradient, and the naming convention of s2s.
// Names are dot-separated paths, "decoder.lstm.0.w_hh", stable across versions because they are
// the keys of model.safetensors.
#pragma once

#include <string>
#include <vector>

#include "seq2seq/random.h"
#include "seq2seq/tensor.h"

namespace s2s {

struct Parameter {
  std::string name;       // full dotted name, "encoder.embedding.weight"
  Tensor value;           // the weights
  Tensor grad;            // same shape, dtype and device; backward() accumulates into it
  bool trainable = true;  // false: frozen (fine-tuning); optimizers skip it

  // Allocates value and a zeroed grad.
  static Parameter make(std::string name, Shape shape, DType dtype, Device device);
};

// "prefix.name", or "name" when prefix is empty.
std::string join_name(const std::string& prefix, const std::string& name);

// Initialisers, all drawing from rng in element order (reproducible for a seed); on CUDA they
// fill a host copy and upload it.
void init_uniform(Tensor& t, Rng& rng, double bound);  // U(-bound, bound)
void init_constant(Tensor& t, double value);
// Glorot/Xavier uniform for a [fan_out, fan_in] weight: bound sqrt(6 / (fan_in + fan_out)).
void init_glorot_uniform(Tensor& t, Rng& rng);

}  // namespace s2s
