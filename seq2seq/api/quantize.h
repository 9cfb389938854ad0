// Post-training int8 quantization of a model folder (CTranslate2's int8, Marian's intgemm
// models): the weight matrices of the products and the embedding tables become int8 with one
// float scale per row; the rest (biases, convolutions, the image encoder's position tables)
// stays as it was. Every front end loads either kind of folder; on the CPU the int8 weights stay
// int8 (ops::gemm_int8), on a GPU they are expanded to float at load.
#pragma once

#include <cstdint>
#include <string>

namespace s2s::api {

struct QuantizeSummary {
  int64_t int8_tensors = 0;      // matrices now int8
  int64_t int8_parameters = 0;   // their elements
  int64_t float_parameters = 0;  // elements left in float
  uint64_t bytes_before = 0;     // model.safetensors of the input
  uint64_t bytes_after = 0;      // of the output
};

// Whether a parameter of this name and rank is quantized: a matrix that the layers only multiply
// with (weight_product) or look rows up in (Embedding); the image encoder's position tables are
// added to feature maps, and stay float.
bool is_quantizable(const std::string& name, int rank);

// Reads the model folder (verified against its manifest), writes the int8 folder at output
// (atomically, with the same config.yaml and vocabulary files). InputError when the folder is
// not a model folder or is int8 already.
QuantizeSummary quantize_model(const std::string& folder, const std::string& output);

}  // namespace s2s::api
