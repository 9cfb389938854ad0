// The image encoder a recipe asks for: the trainable CNN (image_encoder/image_encoder.h) by
// default, or a trainable projection on a frozen, pretrained ONNX network
// (image_encoder/frozen_encoder.h) when image_encoder.onnx names one. Both produce the same
// Memory, so the caption job's decoder and search do not know which one they read.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "image_encoder/frozen_encoder.h"
#include "image_encoder/image_encoder.h"

namespace s2s {

// The frozen encoder's options from the recipe's image_encoder section: in_channels,
// output_size, max_grid_size, dropout, dtype, device, name and seed are taken from options (the
// CNN's own fields are unused); image_height x image_width is the caption job's image size.
FrozenCnnOptions frozen_cnn_options(const ImageEncoderOptions& options, const std::string& onnx,
                                    const std::string& output_layer, int64_t image_height,
                                    int64_t image_width);

// onnx "" (image_encoder.onnx's default): an ImageEncoder; otherwise a FrozenCnnEncoder on that
// file and output_layer (image_encoder.onnx_output, "" = the network's only output), built for
// images of image_height x image_width. ConfigError when output_layer is set without a file;
// otherwise what the encoders' constructors throw.
std::unique_ptr<Encoder> make_image_encoder(const ImageEncoderOptions& options,
                                            const std::string& onnx,
                                            const std::string& output_layer, int64_t image_height,
                                            int64_t image_width);

// The feature grid (H', W') of a height x width image for an encoder make_image_encoder made
// (attention maps reshape a row of S = H' * W' weights to it). InvalidArgument for any other
// Encoder; ShapeError as the encoder's grid_size.
std::pair<int64_t, int64_t> image_grid_size(const Encoder& encoder, int64_t height, int64_t width);

}  // namespace s2s
