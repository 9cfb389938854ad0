// Choosing the image encoder from the recipe, and its grid size whichever it is.
#include "image_encoder/make_image_encoder.h"

namespace s2s {

FrozenCnnOptions frozen_cnn_options(const ImageEncoderOptions& options, const std::string& onnx,
                                    const std::string& output_layer, int64_t image_height,
                                    int64_t image_width) {
  FrozenCnnOptions f;
  f.onnx = onnx;
  f.output_layer = output_layer;
  f.in_channels = options.in_channels;
  f.image_height = image_height;
  f.image_width = image_width;
  f.output_size = options.output_size;
  f.max_grid_size = options.max_grid_size;
  f.dropout = options.dropout;
  f.dtype = options.dtype;
  f.device = options.device;
  f.name = options.name;
  f.seed = options.seed;
  return f;
}

std::unique_ptr<Encoder> make_image_encoder(const ImageEncoderOptions& options,
                                            const std::string& onnx,
                                            const std::string& output_layer, int64_t image_height,
                                            int64_t image_width) {
  if (onnx.empty()) {
    if (!output_layer.empty())
      throw ConfigError("image_encoder.onnx_output is '" + output_layer +
                        "' but image_encoder.onnx names no ONNX file");
    return std::make_unique<ImageEncoder>(options);
  }
  return std::make_unique<FrozenCnnEncoder>(
      frozen_cnn_options(options, onnx, output_layer, image_height, image_width));
}

std::pair<int64_t, int64_t> image_grid_size(const Encoder& encoder, int64_t height, int64_t width) {
  if (const auto* cnn = dynamic_cast<const ImageEncoder*>(&encoder))
    return cnn->grid_size(height, width);
  if (const auto* frozen = dynamic_cast<const FrozenCnnEncoder*>(&encoder))
    return frozen->grid_size(height, width);
  throw InvalidArgument("image_grid_size: the encoder is not an image encoder");
}

}  // namespace s2s
