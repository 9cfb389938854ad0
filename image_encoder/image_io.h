// Image input of the image encoder: an image file (any format OpenCV's imgcodecs decodes: PNG,
// JPEG, BMP, TIFF, WebP, PNM/PAM/PFM, Sun raster, JPEG 2000, OpenEXR, Radiance HDR) to a float
// tensor [C, H, W] in RGB order, resized, padded or cropped, normalized and optionally
// augmented; and OnnxNet, a frozen pretrained network run by OpenCV's dnn module (the optional
// feature extractor of image_encoder/frozen_encoder.h). OpenCV stays inside image_io.cc: nothing
// here includes it.
//
// Large JPEGs are decoded directly at 1/2, 1/4 or 1/8 scale (libjpeg's DCT scaling) when the
// output size (and the smallest random crop) needs no more pixels: a 4000x3000 photo loaded at
// 224x224 is decoded at 500x375, which is several times faster.
//
// Memory is bounded before anything is decoded: the file is read only up to
// ImageOptions::max_file_bytes, and the pixel dimensions are read from the header (PNG, JPEG,
// BMP, WebP, TIFF, PNM, Sun raster, PFM) before decoding. An image with more than
// max_pixels pixels is decoded at a reduced scale where the codec can (JPEG: 1/2, 1/4 or 1/8,
// by libjpeg's scaled decoding, so the full image never exists in memory), and otherwise
// refused with an InputError naming the file and its size. Formats whose header is not parsed
// here (JPEG 2000, OpenEXR, Radiance HDR) are checked after decoding, so for them memory is
// bounded only by OpenCV's own limit (2^30 pixels, env OPENCV_IO_MAX_IMAGE_PIXELS).
//
// Every failure is an InputError (also for a missing file: for a list of images to caption, it is
// the caller's input) whose message starts with the file's path: a missing or
// unreadable file, an empty file, a file that is no image (a text file named .jpg), a truncated
// PNG or JPEG (detected from the missing end marker, so no partial image is returned), an image
// too large, a decoder error. No OpenCV exception or abort escapes (a decoder may still print a
// warning of its own on stderr for damaged data inside an otherwise complete file).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "seq2seq/random.h"
#include "seq2seq/tensor.h"

namespace s2s {

enum class ResizeMode : uint8_t {
  pad,   // scale so the whole image fits (keeping aspect), pad the rest with pad_value; default
  crop,  // scale so the image covers the target (keeping aspect), cut the center out
};

enum class AlphaMode : uint8_t {
  white,  // composite a transparent image over white (as a viewer shows it); default
  drop,   // ignore the alpha channel (the hidden color under transparent pixels shows)
};

// "pad" / "crop", "white" / "drop"; ConfigError naming the text otherwise.
ResizeMode parse_resize_mode(const std::string& text);
AlphaMode parse_alpha_mode(const std::string& text);

struct ImageOptions {
  int channels = 3;  // 1: grayscale (luma of a color image); 3: RGB (gray images replicated)
  int height = 96;   // output size in pixels
  int width = 96;
  ResizeMode resize = ResizeMode::pad;
  AlphaMode alpha = AlphaMode::white;
  float pad_value = 0.0f;  // padding intensity in [0, 1], before normalization
  // Per-channel normalization of intensities in [0, 1]: (x - mean[c]) / std[c]. Either one value
  // (every channel) or `channels` values. Defaults: mean 0, std 1 (values stay in [0, 1]).
  std::vector<float> mean = {0.0f};
  std::vector<float> std = {1.0f};
  // Images with more pixels (width * height, by their header) are decoded reduced or refused;
  // default 40 M pixels (a 40 MP image decodes to 120 MB of 8-bit BGR, 320 MB if 16-bit RGBA).
  int64_t max_pixels = 40'000'000;
  // Larger files are refused before reading them whole. Default 256 MiB, at most 2^31 - 1.
  int64_t max_file_bytes = int64_t{256} << 20;

  // ConfigError naming the field for an invalid value (channels not 1 or 3, a size < 1, a mean
  // or std list of the wrong length, std <= 0, ...).
  void validate() const;
};

// Train-time augmentation; everything off by default.
struct ImageAugmentation {
  // Crop a random window of the decoded image first: each side a random fraction in
  // [min_crop_scale, 1] of the image's (independently for width and height), at a random
  // position; then resize as usual. 1 (default) turns it off.
  float min_crop_scale = 1.0f;
  // Mirror left-right with probability 1/2. Off by default: it turns "left" into "right", so
  // it is only for captions that do not name sides.
  bool horizontal_flip = false;

  bool enabled() const { return min_crop_scale < 1.0f || horizontal_flip; }
};

// The dimensions from an image file's header, without decoding it; nullopt for a format not
// parsed here (or bytes that are no image of a parsed format). format: "png", "jpeg", "bmp",
// "webp", "tiff", "pnm" (PBM/PGM/PPM/PAM/PFM), "sunras".
struct ImageHeader {
  std::string format;
  int64_t width = 0;
  int64_t height = 0;
};
std::optional<ImageHeader> read_image_header(const std::string& bytes);

// Loads path into a new f32 tensor [C, H, W] (C = options.channels). With augmentation and an
// rng, draws from rng (a fixed number of draws per image, whatever the image). Throws InputError
// (path first) for anything wrong with the file, ConfigError for invalid options.
Tensor load_image(const std::string& path, const ImageOptions& options,
                  const ImageAugmentation& augmentation = {}, Rng* rng = nullptr);

// The same into row `row` of batch, an f32 CPU tensor [B, C, H, W] of options' size.
void load_image_into(const std::string& path, const ImageOptions& options, Tensor& batch,
                     int64_t row, const ImageAugmentation& augmentation = {}, Rng* rng = nullptr);

// An image in memory: height x width x channels, row-major and contiguous, channels RGB(A) or
// gray; 8-bit values, or floats with intensities in [0, 1]. The caller keeps the data alive.
struct PixelView {
  const void* data = nullptr;
  int64_t height = 0;
  int64_t width = 0;
  int64_t channels = 3;  // 1 gray, 3 RGB, 4 RGBA (alpha as options.alpha says)
  bool is_float = false;
};

// The same as load_image_into for pixels already decoded: resized, placed and normalized exactly
// as the same pixels read from a file are. InputError for a size or channel count it cannot take.
void load_pixels_into(const PixelView& pixels, const ImageOptions& options, Tensor& batch,
                      int64_t row);

// Loads every path into one batch [paths.size(), C, H, W]. A file that fails leaves its row
// filled with zeros and its message in errors[i] (empty for success): callers like `s2s caption`
// report it and go on. With augmentation, row i draws from its own stream split off rng by the
// i-th draw of rng (one draw per row), so a row's augmentation does not depend on the other
// rows' images, and successive batches differ.
Tensor load_image_batch(const std::vector<std::string>& paths, const ImageOptions& options,
                        std::vector<std::string>& errors,
                        const ImageAugmentation& augmentation = {}, Rng* rng = nullptr);

// Attention maps for people who would rather look than read: the image a caption was made for,
// once per caption word, with that word's attention over the encoder's feature grid overlaid as a
// heat map, the panels in a grid with the word under each.
// image_path is loaded as the model saw it (options: size, channels, padding; no normalization);
// attention[u] holds grid_h * grid_w weights for words[u] (row-major cells). Writes a PNG to
// out_path atomically. InputError for an image that does not load, InvalidArgument for weights
// that do not fit the grid, IoError when the file cannot be written.
void write_attention_map(const std::string& image_path, const ImageOptions& options,
                         const std::vector<std::string>& words,
                         const std::vector<std::vector<float>>& attention, int64_t grid_h,
                         int64_t grid_w, const std::string& out_path);

// ---- a frozen network ------------------------------------------------------------------------

// OnnxNet: a pretrained network read from an ONNX file and run forward only (inference, CPU, f32)
// by OpenCV's dnn module; one named layer's output is the result, a feature map [B, F, H', W'].
// Nothing flows back into it: it has no parameters in s2s's sense, and its weights stay in the
// file (a model that uses it needs the file again to run). OpenCV's dnn runs in
// libs2s_image_dnn.so, loaded on the first load() (image_encoder/dnn/onnx_dnn_api.h says why and
// where it is looked for); EnvironmentError when it cannot be found.
//
// Layer names: OpenCV 4.6 names the layer of an ONNX node "onnx_node!<node name>" (the node's
// first output name when it has none) and adds an identity layer per graph output, named after
// that output. output_layer may be given either way: "pool" (a graph output, or the node "pool")
// or "onnx_node!pool"; "" means the net's only graph output.
class OnnxNet {
 public:
  // Reads and checks the file. InputError naming path for a missing, unreadable, empty or
  // invalid ONNX file (or one OpenCV cannot import: an unsupported operator); ConfigError naming
  // output_layer (and listing the net's layers) when the net has no such layer, or, for "", when
  // it has several outputs to choose from.
  static OnnxNet load(const std::string& path, const std::string& output_layer);

  OnnxNet(OnnxNet&&) noexcept;
  OnnxNet& operator=(OnnxNet&&) noexcept;
  ~OnnxNet();

  // pixels [B, C, H, W] f32 on the CPU -> a new f32 CPU tensor [B, F, H', W'], the output layer's
  // values. ConfigError naming the layer when its output is not 4-D (a classifier's logits, a
  // flattened embedding); ShapeError naming the file when the net cannot take pixels of this
  // shape (OpenCV's message attached).
  Tensor forward(const Tensor& pixels);

  const std::string& path() const;
  // The OpenCV layer the output is taken from ("pool", "onnx_node!relu").
  const std::string& output_layer() const;

 private:
  struct Impl;
  explicit OnnxNet(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace s2s
