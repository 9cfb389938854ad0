// ImageEncoder: the encoder of the caption job (Show, Attend and Tell). Pixels [B, C, H, W] go
// through a VGG-style CNN (blocks of 3x3 convolutions with batch norm and ReLU, each block ending
// in a 2x2 pooling), then a 1x1 convolution to the memory width D. The final H' x W' feature map
// becomes the Memory the attention decoder reads, exactly as a token encoder's would:
//   vectors [S = H' * W', B, D]  cell (i, j) at s = i * W' + j, plus a learned 2-D position
//                                embedding row[i] + col[j] (attention is otherwise blind to where
//                                a cell is), dropout in training
//   mask    [S, B]               all ones (every cell is real)
//   summary [B, D]               the global average of the projected map (before the position
//                                embedding): initialises the decoder state through its bridge
// Parameter names (under name, "encoder" by default):
//   block.<b>.conv.<i>.weight/.bias (bias only without batch norm), block.<b>.bn.<i>.weight/.bias/
//   .running_mean/.running_var, project.weight/.bias, position.row, position.col.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "image_encoder/grid_memory.h"
#include "seq2seq/layers/batch_norm2d.h"
#include "seq2seq/layers/conv2d.h"
#include "seq2seq/layers/pool2d.h"
#include "seq2seq/model/encoder.h"

namespace s2s {

struct ImageEncoderOptions {
  int64_t in_channels = 3;                        // C of the pixels: 1 gray, 3 RGB
  std::vector<int64_t> channels = {32, 64, 128};  // one block per entry, its convolutions' width
  int convs_per_block = 1;                        // convolutions per block, >= 1
  int64_t kernel_size = 3;                        // odd; padded by kernel_size / 2 (size kept)
  bool batch_norm = true;                         // conv -> batch norm -> ReLU; false: conv+bias
  double bn_momentum = 0.1;                       // running-statistics update rate
  PoolKind pool = PoolKind::max;                  // each block ends in a 2x2, stride 2 pooling
  int64_t output_size = 256;                      // D = memory and summary width (the 1x1 conv)
  int64_t max_grid_size = 32;  // position tables' size: largest H' and W' accepted
  double dropout = 0.0;        // on the memory vectors, training only
  DType dtype = DType::f32;
  Device device = Device::cpu();  // CUDA has no conv/pool/batch-norm body yet
  std::string name = "encoder";   // parameter prefix
  uint64_t seed = 0;              // initialisation (He-uniform convs)
};

class ImageEncoder : public Encoder {
 public:
  // Throws ConfigError naming the option at fault.
  explicit ImageEncoder(ImageEncoderOptions options);

  // pixels: [B, C, H, W] of the model's dtype; source_mask must be undefined. ShapeError when the
  // image is too small for the network's pooling or its grid exceeds max_grid_size. In training
  // mode batch norm uses the batch's statistics (B * H * W >= 2 per layer) and updates the
  // running ones; dropout needs rng.
  Memory encode(const Tensor& pixels, const Tensor& source_mask, Rng* rng) override;
  void backward(const MemoryGradient& gradient) override;
  int64_t memory_size() const override { return options_.output_size; }
  int64_t summary_size() const override { return options_.output_size; }

  // The feature grid (H', W') of an image of height x width: S = H' * W' memory vectors. Throws
  // ShapeError as encode would for such an image.
  std::pair<int64_t, int64_t> grid_size(int64_t height, int64_t width) const;

  void collect_parameters(std::vector<Parameter*>& out) override;
  const ImageEncoderOptions& options() const { return options_; }

 private:
  struct Stage {  // conv -> (batch norm) -> ReLU
    Conv2d conv;
    std::optional<BatchNorm2d> bn;
    Tensor activation;  // the ReLU's output, for its backward
  };
  struct Block {
    std::vector<Stage> stages;
    Pool2d pool;
  };

  ImageEncoderOptions options_;
  std::vector<Block> blocks_;
  GridMemory grid_;  // 1x1 projection, position tables: feature map -> Memory
  bool encoded_ = false;
};

}  // namespace s2s
