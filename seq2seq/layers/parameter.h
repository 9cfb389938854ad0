// Parameter: a named trainable tensor with its gradient, and the naming convention of s2s.
// Names are dot-separated paths, "decoder.lstm.0.w_hh", stable across versions because they are
// the keys of model.safetensors.
#pragma once

#include <string>
#include <vector>

#include "seq2seq/ops/gemm_int8.h"
#include "seq2seq/random.h"
#include "seq2seq/tensor.h"

namespace s2s {

struct Parameter {
  std::string name;       // full dotted name, "encoder.embedding.weight"
  Tensor value;           // the weights; undefined when the weight is int8 (below)
  Tensor grad;            // same shape, dtype and device; backward() accumulates into it
  bool trainable = true;  // false: frozen (fine-tuning); optimizers skip it
  // A weight matrix of an int8 model (s2s quantize), loaded for inference on the CPU: value and
  // grad are then undefined and the layers' products go through ops::gemm_int8.
  ops::Int8Weight int8;

  bool quantized() const { return int8.defined(); }

  // Allocates value and a zeroed grad (no grad inside a NoGradients scope).
  static Parameter make(std::string name, Shape shape, DType dtype, Device device);
};

// While one is alive on this thread, Parameter::make allocates no gradient: a model built only
// to load a folder for inference (TranslationModel::load, CaptionModel::load) does not hold the
// memory of a gradient per weight, which backward would need and search never touches.
class NoGradients {
 public:
  NoGradients();
  ~NoGradients();
  NoGradients(const NoGradients&) = delete;
  NoGradients& operator=(const NoGradients&) = delete;

 private:
  bool previous_;
};

// y = x·wᵀ + beta·y for a weight w [out, in]: ops::gemm, or ops::gemm_int8 when w is int8. The
// one call every forward product with a weight goes through, so an int8 model needs no other
// change in the layers.
void weight_product(const Tensor& x, const Parameter& w, Tensor& y, double beta = 0.0);

// "prefix.name", or "name" when prefix is empty.
std::string join_name(const std::string& prefix, const std::string& name);

// Initialisers, all drawing from rng in element order (reproducible for a seed); on CUDA they
// fill a host copy and upload it.
void init_uniform(Tensor& t, Rng& rng, double bound);  // U(-bound, bound)
void init_constant(Tensor& t, double value);
// Glorot/Xavier uniform for a [fan_out, fan_in] weight: bound sqrt(6 / (fan_in + fan_out)).
void init_glorot_uniform(Tensor& t, Rng& rng);

}  // namespace s2s
