// FrozenCnnEncoder: the caption job's encoder on top of a frozen, pretrained CNN (recipe key
// image_encoder.onnx). Pixels [B, C, H, W] go through an ONNX network run by OpenCV's dnn module
// (image_io.h OnnxNet) up to a named layer, a feature map [B, F, H', W'] that is a fixed input:
// nothing is trained in the network and no gradient flows into it. Only what follows learns:
//   a 1x1 convolution F -> D ("project", with bias), then the same read-out as ImageEncoder:
//   vectors [S = H' * W', B, D]  cell (i, j) at s = i * W' + j, plus the learned 2-D position
//                                embedding row[i] + col[j]; dropout in training
//   mask    [S, B]               all ones
//   summary [B, D]               the global average of the projected map
// Parameter names (under name, "encoder" by default): project.weight [D, F, 1, 1], project.bias
// [D], position.row and position.col [max_grid_size, D]. The network's weights stay in the ONNX
// file: a model built on it needs the same file to run.
//
// The network computes in f32 on the CPU whatever the encoder's dtype and device: pixels are
// converted to it and its features converted back, so an f64 encoder (gradient checks) trains
// its projection in f64 on f32 features.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "image_encoder/grid_memory.h"
#include "image_encoder/image_io.h"
#include "seq2seq/model/encoder.h"

namespace s2s {

struct FrozenCnnOptions {
  std::string onnx;          // the ONNX file (image_encoder.onnx); required
  std::string output_layer;  // its layer giving the feature map (image_encoder.onnx_output);
                             // "" = the network's only output
  int64_t in_channels = 3;   // C of the pixels: what the network takes (1 gray, 3 RGB)
  // The image size the encoder is built for (the caption job's image height and width): one
  // forward of a blank image of this size at construction learns F and checks the layer.
  int64_t image_height = 96;
  int64_t image_width = 96;
  int64_t output_size = 256;      // D = memory and summary width (the 1x1 projection)
  int64_t max_grid_size = 32;     // position tables' size: largest H' and W' accepted
  double dropout = 0.0;           // on the memory vectors, training only
  DType dtype = DType::f32;       // of the projection and the Memory; the network is always f32
  Device device = Device::cpu();  // of the projection; the network runs on the CPU
  std::string name = "encoder";   // parameter prefix
  uint64_t seed = 0;              // initialisation (He-uniform projection)
};

class FrozenCnnEncoder : public Encoder {
 public:
  // Loads the network and runs it once on a blank image_height x image_width image. Throws
  // ConfigError naming the option at fault (also for an unknown or non-4-D output layer),
  // InputError naming the file for a missing or invalid ONNX file, ShapeError when the image
  // size gives a grid beyond max_grid_size or the network cannot take it.
  explicit FrozenCnnEncoder(FrozenCnnOptions options);

  // pixels: [B, C, H, W] of the model's dtype and device; source_mask must be undefined.
  // ShapeError when the network cannot take the images or their grid exceeds max_grid_size;
  // dropout in training needs rng.
  Memory encode(const Tensor& pixels, const Tensor& source_mask, Rng* rng) override;
  // Trains the projection and the position tables; the network gets nothing.
  void backward(const MemoryGradient& gradient) override;
  int64_t memory_size() const override { return options_.output_size; }
  int64_t summary_size() const override { return options_.output_size; }

  // The feature grid (H', W') of an image of height x width. The network's arithmetic of sizes
  // is not known here, so the first question about a size runs it once on a blank image of that
  // size (cached). Throws ShapeError as encode would for such an image.
  std::pair<int64_t, int64_t> grid_size(int64_t height, int64_t width) const;
  // F: the channels of the network's output layer.
  int64_t feature_size() const { return feature_size_; }

  // The frozen features of pixels [B, C, H, W] (any floating dtype, CPU or not): [B, F, H', W']
  // f32 on the CPU. What encode projects; for tests and for precomputing features.
  Tensor features(const Tensor& pixels) const;

  void collect_parameters(std::vector<Parameter*>& out) override;
  const FrozenCnnOptions& options() const { return options_; }

 private:
  FrozenCnnOptions options_;
  mutable OnnxNet net_;  // forward is not const in OpenCV; the net holds no state between calls
  // (height, width) -> (H', W') of the sizes asked so far; before feature_size_, which fills it.
  mutable std::map<std::pair<int64_t, int64_t>, std::pair<int64_t, int64_t>> grids_;
  int64_t feature_size_ = 0;
  GridMemory grid_;  // 1x1 projection, position tables: feature map -> Memory
  bool encoded_ = false;
};

}  // namespace s2s
