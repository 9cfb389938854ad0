// Image loading with OpenCV: header probing, bounded decoding, alpha, resize, normalization,
// augmentation; and OnnxNet, a frozen network run by OpenCV's dnn module in libs2s_image_dnn.so
// (image_encoder/dnn/, loaded here with dlopen). The only file of the image_encoder library that
// includes OpenCV.
#include "image_encoder/image_io.h"

#include <dlfcn.h>
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "image_encoder/dnn/onnx_dnn_api.h"
#include "seq2seq/atomic_file.h"
#include "seq2seq/error.h"
#include "seq2seq/ops/check.h"

namespace s2s {
namespace {

namespace fs = std::filesystem;

uint32_t be16(const std::string& b, size_t i) {
  return (uint32_t(uint8_t(b[i])) << 8) | uint8_t(b[i + 1]);
}
uint32_t be32(const std::string& b, size_t i) {
  return (be16(b, i) << 16) | be16(b, i + 2);
}
uint32_t le16(const std::string& b, size_t i) {
  return uint8_t(b[i]) | (uint32_t(uint8_t(b[i + 1])) << 8);
}
uint32_t le32(const std::string& b, size_t i) {
  return le16(b, i) | (le16(b, i + 2) << 16);
}
uint32_t le24(const std::string& b, size_t i) {
  return le16(b, i) | (uint32_t(uint8_t(b[i + 2])) << 16);
}

bool starts_with(const std::string& b, std::string_view magic, size_t at = 0) {
  return b.size() >= at + magic.size() && b.compare(at, magic.size(), magic) == 0;
}

std::optional<ImageHeader> header(const char* format, int64_t w, int64_t h) {
  return ImageHeader{format, w, h};
}

// JPEG: walks the marker segments up to the first start-of-frame; sos_offset receives the offset
// of the first start-of-scan segment if it comes first (it never does in a valid file).
std::optional<ImageHeader> jpeg_header(const std::string& b) {
  size_t i = 2;
  while (i + 4 <= b.size()) {
    if (uint8_t(b[i]) != 0xFF) return std::nullopt;
    const uint8_t marker = uint8_t(b[i + 1]);
    if (marker == 0xFF) {  // fill byte
      ++i;
      continue;
    }
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) {  // no length
      i += 2;
      continue;
    }
    const uint32_t length = be16(b, i + 2);
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC): precision, height, width.
    if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) {
      if (i + 9 > b.size()) return std::nullopt;
      return header("jpeg", be16(b, i + 7), be16(b, i + 5));
    }
    if (marker == 0xDA || length < 2) return std::nullopt;
    i += 2 + length;
  }
  return std::nullopt;
}

// The offset just past the first start-of-scan segment header, or npos.
size_t jpeg_scan_start(const std::string& b) {
  size_t i = 2;
  while (i + 4 <= b.size()) {
    if (uint8_t(b[i]) != 0xFF) return std::string::npos;
    const uint8_t marker = uint8_t(b[i + 1]);
    if (marker == 0xFF) {
      ++i;
      continue;
    }
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) {
      i += 2;
      continue;
    }
    const uint32_t length = be16(b, i + 2);
    if (marker == 0xDA) return i + 2 + length;
    if (length < 2) return std::string::npos;
    i += 2 + length;
  }
  return std::string::npos;
}

std::optional<ImageHeader> tiff_header(const std::string& b) {
  const bool little = b[0] == 'I';
  const auto u16 = [&](size_t i) { return little ? le16(b, i) : be16(b, i); };
  const auto u32 = [&](size_t i) { return little ? le32(b, i) : be32(b, i); };
  const size_t ifd = u32(4);
  if (ifd + 2 > b.size()) return std::nullopt;
  const uint32_t entries = u16(ifd);
  int64_t width = -1, height = -1;
  for (uint32_t e = 0; e < entries && ifd + 2 + 12 * (e + 1) <= b.size(); ++e) {
    const size_t at = ifd + 2 + 12 * e;
    const uint32_t tag = u16(at), type = u16(at + 2);
    if (tag != 256 && tag != 257) continue;
    const int64_t value = type == 3 ? u16(at + 8) : type == 4 ? u32(at + 8) : -1;
    (tag == 256 ? width : height) = value;
  }
  if (width < 0 || height < 0) return std::nullopt;
  return header("tiff", width, height);
}

// PBM/PGM/PPM (P1-P6), PFM (PF, Pf): magic, then width and height as text with # comments;
// PAM (P7): WIDTH and HEIGHT lines.
std::optional<ImageHeader> pnm_header(const std::string& b) {
  size_t i = 2;
  const auto skip_space = [&] {
    while (i < b.size()) {
      if (b[i] == '#') {
        while (i < b.size() && b[i] != '\n')
          ++i;
      } else if (std::isspace(uint8_t(b[i]))) {
        ++i;
      } else {
        break;
      }
    }
  };
  const auto number = [&]() -> int64_t {
    skip_space();
    int64_t v = -1;
    while (i < b.size() && std::isdigit(uint8_t(b[i])) && v < (int64_t{1} << 40))
      v = (v < 0 ? 0 : v * 10) + (b[i++] - '0');
    return v;
  };
  if (b[1] == '7') {
    int64_t width = -1, height = -1;
    const size_t end = std::min(b.size(), size_t{4096});
    for (const auto& [key, out] : {std::pair{"\nWIDTH", &width}, std::pair{"\nHEIGHT", &height}}) {
      const size_t at = b.find(key, 0);
      if (at == std::string::npos || at > end) return std::nullopt;
      i = at + std::strlen(key);
      *out = number();
    }
    if (width < 0 || height < 0) return std::nullopt;
    return header("pnm", width, height);
  }
  const int64_t width = number(), height = number();
  if (width < 0 || height < 0) return std::nullopt;
  return header("pnm", width, height);
}

std::string read_bytes(const std::string& path, int64_t max_bytes) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw InputError(path + ": is a folder, not an image file");
  const auto size = fs::file_size(path, ec);
  if (ec) throw InputError(path + ": cannot read: " + ec.message());
  if (size == 0) throw InputError(path + ": empty file (0 bytes), not an image");
  if (static_cast<int64_t>(size) > max_bytes)
    throw InputError(path + ": file of " + std::to_string(size) + " bytes, over the limit of " +
                     std::to_string(max_bytes) + " (image max_file_bytes)");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open: " + std::strerror(errno));
  std::string bytes(size, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(size));
  if (in.gcount() != static_cast<std::streamsize>(size))
    throw InputError(path + ": cannot read all " + std::to_string(size) + " bytes");
  return bytes;
}

std::string megapixels(int64_t pixels) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f M", static_cast<double>(pixels) / 1e6);
  return buffer;
}

// A 1-, 3- or 4-channel (or 2: gray + alpha) image of any supported depth -> 1 or 3 channels of
// the same depth, with alpha composited over white or dropped.
template <typename T>
cv::Mat composite_over_white(const cv::Mat& src, double max_value) {
  const int color = src.channels() - 1;  // 1 (gray) or 3 (BGR)
  cv::Mat out(src.rows, src.cols, CV_MAKETYPE(src.depth(), color));
  for (int y = 0; y < src.rows; ++y) {
    const T* in = src.ptr<T>(y);
    T* o = out.ptr<T>(y);
    for (int x = 0; x < src.cols; ++x, in += src.channels(), o += color) {
      const double a = std::clamp(static_cast<double>(in[color]) / max_value, 0.0, 1.0);
      for (int c = 0; c < color; ++c)
        o[c] = cv::saturate_cast<T>(in[c] * a + max_value * (1 - a));
    }
  }
  return out;
}

double max_value_of(int depth) {
  switch (depth) {
    case CV_8U:
      return 255.0;
    case CV_16U:
      return 65535.0;
    default:
      return 1.0;  // float images are taken as [0, 1]
  }
}

cv::Mat remove_alpha(const cv::Mat& src, AlphaMode mode) {
  if (src.channels() != 2 && src.channels() != 4) return src;
  if (mode == AlphaMode::drop) {
    cv::Mat out;
    if (src.channels() == 4)
      cv::cvtColor(src, out, cv::COLOR_BGRA2BGR);
    else
      cv::extractChannel(src, out, 0);
    return out;
  }
  const double max_value = max_value_of(src.depth());
  switch (src.depth()) {
    case CV_8U:
      return composite_over_white<uint8_t>(src, max_value);
    case CV_16U:
      return composite_over_white<uint16_t>(src, max_value);
    case CV_32F:
      return composite_over_white<float>(src, max_value);
    default:
      return composite_over_white<double>(src, max_value);
  }
}

// Decodes bytes with every check of the header comment; returns 1 or 3 channels (BGR), 8U, 16U,
// 32F or 64F.
cv::Mat decode(const std::string& path, const std::string& bytes, const ImageOptions& options,
               double min_crop_scale) {
  const std::optional<ImageHeader> info = read_image_header(bytes);
  int flags = cv::IMREAD_UNCHANGED;  // keeps alpha and 16-bit depth
  if (info) {
    // Zero, negative or (a product that could overflow) absurd sizes are damage, not images.
    if (info->width <= 0 || info->height <= 0 || info->width > (int64_t{1} << 31) ||
        info->height > (int64_t{1} << 31))
      throw InputError(path + ": " + info->format + " header says " + std::to_string(info->width) +
                       " x " + std::to_string(info->height) + " pixels");
    const int64_t pixels = info->width * info->height;
    if (info->format == "jpeg") {
      // JPEGs have no alpha; decoding to color applies the EXIF orientation. Data without an
      // end-of-image marker after the first scan is truncated: libjpeg would return the image
      // with its missing part gray, and only a warning.
      const size_t scan = jpeg_scan_start(bytes);
      if (scan == std::string::npos || bytes.find("\xFF\xD9", scan) == std::string::npos)
        throw InputError(path + ": truncated JPEG (no end-of-image marker)");
      flags = options.channels == 1 ? cv::IMREAD_GRAYSCALE : cv::IMREAD_COLOR;
      // libjpeg decodes at 1/2, 1/4 or 1/8 scale for little more than the cost of the smaller
      // image. Use the largest reduction that still leaves at least the pixels the resize (and
      // the smallest random crop) needs, either orientation (EXIF may rotate), and at least the
      // one that brings the image under max_pixels.
      const auto fit = [&](double w, double h) {
        const double sx = options.width / w, sy = options.height / h;
        return options.resize == ResizeMode::pad ? std::min(sx, sy) : std::max(sx, sy);
      };
      const double w = static_cast<double>(info->width), h = static_cast<double>(info->height);
      const double needed = std::max(fit(w, h), fit(h, w)) / min_crop_scale;
      int reduce = 1;
      while (reduce < 8 && needed * (2 * reduce) <= 1.0)
        reduce *= 2;
      const auto reduced_pixels = [&](int k) {
        return ((info->width + k - 1) / k) * ((info->height + k - 1) / k);
      };
      while (reduce <= 8 && reduced_pixels(reduce) > options.max_pixels)
        reduce *= 2;
      if (reduce > 8)
        throw InputError(path + ": JPEG of " + std::to_string(info->width) + " x " +
                         std::to_string(info->height) + " pixels (" + megapixels(pixels) +
                         "), too large even at 1/8 scale for the limit of " +
                         megapixels(options.max_pixels) + " pixels (image max_pixels)");
      if (reduce > 1) {
        const int base =
            options.channels == 1 ? cv::IMREAD_REDUCED_GRAYSCALE_2 : cv::IMREAD_REDUCED_COLOR_2;
        flags = base + (reduce == 2 ? 0 : reduce == 4 ? 16 : 48);  // _2, _4 (+16), _8 (+48)
      }
    } else {
      if (info->format == "png" && bytes.rfind("IEND") == std::string::npos)
        throw InputError(path + ": truncated PNG (no IEND chunk)");
      if (pixels > options.max_pixels)
        throw InputError(path + ": " + info->format + " image of " + std::to_string(info->width) +
                         " x " + std::to_string(info->height) + " pixels (" + megapixels(pixels) +
                         "), over the limit of " + megapixels(options.max_pixels) +
                         " pixels (image max_pixels; only JPEGs are decoded reduced)");
    }
  }
  cv::Mat image;
  try {
    const cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8U, const_cast<char*>(bytes.data()));
    image = cv::imdecode(buffer, flags);
  } catch (const cv::Exception& e) {
    throw InputError(path + ": cannot decode: " + e.err);
  }
  if (image.empty()) {
    if (info)
      throw InputError(path + ": cannot decode: damaged or unsupported " + info->format + " data");
    if (bytes.starts_with("GIF8"))
      throw InputError(path + ": GIF images are not supported (OpenCV " CV_VERSION
                              " cannot decode them); convert it to PNG");
    throw InputError(path + ": not an image (no format OpenCV can decode recognises it)");
  }
  if (!info && static_cast<int64_t>(image.total()) > options.max_pixels)
    throw InputError(path + ": image of " + std::to_string(image.cols) + " x " +
                     std::to_string(image.rows) + " pixels, over the limit of " +
                     megapixels(options.max_pixels) + " pixels (image max_pixels)");
  const int depth = image.depth();
  if (depth != CV_8U && depth != CV_16U && depth != CV_32F && depth != CV_64F)
    throw InputError(path + ": unsupported pixel type (" + std::to_string(depth) +
                     "): expected 8- or 16-bit integers or floats");
  if (image.channels() < 1 || image.channels() > 4)
    throw InputError(path + ": unsupported number of channels " + std::to_string(image.channels()));
  return remove_alpha(image, options.alpha);
}

int64_t round_size(double v) {
  return std::max<int64_t>(1, std::llround(v));
}

void check_batch(const Tensor& batch, const ImageOptions& options, int64_t row) {
  S2S_CHECK_SHAPE(batch.rank() == 4 && batch.dim(1) == options.channels &&
                      batch.dim(2) == options.height && batch.dim(3) == options.width,
                  "image batch ", batch.str(), ": expected [B, ", options.channels, ", ",
                  options.height, ", ", options.width, "]");
  S2S_CHECK(batch.dtype() == DType::f32 && batch.device().is_cpu(), "image batch ", batch.str(),
            ": expected f32 on cpu");
  S2S_CHECK(row >= 0 && row < batch.dim(0), "image batch row ", row, " out of [0, ", batch.dim(0),
            ")");
}

// Resizes source (1 or 3 channels, BGR, any supported depth) to options' size, keeping the
// aspect, and writes it into row `row` of batch as [C, H, W], RGB, normalized. what names the
// image in errors.
void place_image(const cv::Mat& source, const std::string& what, const ImageOptions& options,
                 bool flip, Tensor& batch, int64_t row) {
  // Keep the aspect: pad fits the whole image inside, crop covers the target and cuts the rest.
  const double sx = static_cast<double>(options.width) / source.cols;
  const double sy = static_cast<double>(options.height) / source.rows;
  const double scale = options.resize == ResizeMode::pad ? std::min(sx, sy) : std::max(sx, sy);
  int rw = static_cast<int>(round_size(source.cols * scale));
  int rh = static_cast<int>(round_size(source.rows * scale));
  if (options.resize == ResizeMode::pad) {
    rw = std::min(rw, options.width);
    rh = std::min(rh, options.height);
  } else {
    rw = std::max(rw, options.width);
    rh = std::max(rh, options.height);
  }
  cv::Mat resized;
  try {
    const int interpolation = scale < 1 ? cv::INTER_AREA : cv::INTER_LINEAR;
    cv::resize(source, resized, cv::Size(rw, rh), 0, 0, interpolation);
    if (options.resize == ResizeMode::crop)
      resized = resized(cv::Rect((rw - options.width) / 2, (rh - options.height) / 2, options.width,
                                 options.height));
    cv::Mat as_float;
    resized.convertTo(as_float, CV_32F, 1.0 / max_value_of(resized.depth()));
    if (as_float.channels() == 3 && options.channels == 1)
      cv::cvtColor(as_float, resized, cv::COLOR_BGR2GRAY);
    else
      resized = as_float;
    if (flip) cv::flip(resized, resized, 1);
  } catch (const cv::Exception& e) {
    throw InputError(what + ": cannot resize: " + e.err);
  }

  // Place it (centered when padded) into [C, H, W], RGB, normalized.
  const int64_t plane = int64_t{options.height} * options.width;
  float* out = batch.data<float>() + row * options.channels * plane;
  const int x0 = (options.width - resized.cols) / 2, y0 = (options.height - resized.rows) / 2;
  const int src_channels = resized.channels();
  for (int c = 0; c < options.channels; ++c) {
    const float mean = options.mean.size() == 1 ? options.mean[0] : options.mean[c];
    const float inv_std = 1.0f / (options.std.size() == 1 ? options.std[0] : options.std[c]);
    // Output channel c (RGB) reads OpenCV's BGR channel 2 - c; a gray source feeds every one.
    const int src_c = src_channels == 1 ? 0 : 2 - c;
    float* dst = out + c * plane;
    std::fill(dst, dst + plane, (options.pad_value - mean) * inv_std);
    for (int y = 0; y < resized.rows; ++y) {
      const float* in = resized.ptr<float>(y);
      float* o = dst + int64_t{y + y0} * options.width + x0;
      for (int x = 0; x < resized.cols; ++x)
        o[x] = (in[x * src_channels + src_c] - mean) * inv_std;
    }
  }
}

}  // namespace

ResizeMode parse_resize_mode(const std::string& text) {
  if (text == "pad") return ResizeMode::pad;
  if (text == "crop") return ResizeMode::crop;
  throw ConfigError("image resize mode '" + text + "': expected pad or crop");
}

AlphaMode parse_alpha_mode(const std::string& text) {
  if (text == "white") return AlphaMode::white;
  if (text == "drop") return AlphaMode::drop;
  throw ConfigError("image alpha mode '" + text + "': expected white or drop");
}

void ImageOptions::validate() const {
  if (channels != 1 && channels != 3)
    throw ConfigError("image channels " + std::to_string(channels) + ": expected 1 or 3");
  if (height < 1 || width < 1 || height > 16384 || width > 16384)
    throw ConfigError("image size " + std::to_string(height) + " x " + std::to_string(width) +
                      ": expected 1 to 16384 pixels each way");
  for (const auto* values : {&mean, &std}) {
    const char* name = values == &mean ? "mean" : "std";
    if (values->size() != 1 && values->size() != static_cast<size_t>(channels))
      throw ConfigError(std::string("image ") + name + ": expected 1 or " +
                        std::to_string(channels) + " values, got " +
                        std::to_string(values->size()));
    for (float v : *values)
      if (!std::isfinite(v) || (values == &std && v <= 0))
        throw ConfigError(std::string("image ") + name + " value " + std::to_string(v) +
                          (values == &std ? ": expected a positive number" : ": not finite"));
  }
  if (!(pad_value >= 0 && pad_value <= 1))
    throw ConfigError("image pad_value " + std::to_string(pad_value) + ": expected 0 to 1");
  if (max_pixels < 1) throw ConfigError("image max_pixels must be positive");
  if (max_file_bytes < 1 || max_file_bytes > std::numeric_limits<int32_t>::max())
    throw ConfigError("image max_file_bytes " + std::to_string(max_file_bytes) +
                      ": expected 1 to 2^31 - 1 (OpenCV decodes from a buffer of int size)");
}

std::optional<ImageHeader> read_image_header(const std::string& b) {
  if (starts_with(b, "\x89PNG\r\n\x1a\n") && b.size() >= 24 && b.compare(12, 4, "IHDR") == 0)
    return header("png", be32(b, 16), be32(b, 20));
  if (starts_with(b, "\xFF\xD8")) return jpeg_header(b);
  if (starts_with(b, "BM") && b.size() >= 26) {
    if (le32(b, 14) == 12) return header("bmp", le16(b, 18), le16(b, 20));
    const auto h = static_cast<int32_t>(le32(b, 22));
    return header("bmp", static_cast<int32_t>(le32(b, 18)), h < 0 ? -int64_t{h} : h);
  }
  if (starts_with(b, "RIFF") && starts_with(b, "WEBP", 8) && b.size() >= 30) {
    if (starts_with(b, "VP8 ", 12))
      return header("webp", le16(b, 26) & 0x3FFF, le16(b, 28) & 0x3FFF);
    if (starts_with(b, "VP8L", 12)) {
      const uint32_t bits = le32(b, 21);
      return header("webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1);
    }
    if (starts_with(b, "VP8X", 12)) return header("webp", le24(b, 24) + 1, le24(b, 27) + 1);
    return std::nullopt;
  }
  if ((starts_with(b, std::string_view("II*\0", 4)) ||
       starts_with(b, std::string_view("MM\0*", 4))) &&
      b.size() >= 8)
    return tiff_header(b);
  if (b.size() >= 3 && b[0] == 'P' &&
      ((b[1] >= '1' && b[1] <= '7') || b[1] == 'F' || b[1] == 'f') && std::isspace(uint8_t(b[2])))
    return pnm_header(b);
  if (starts_with(b, "\x59\xA6\x6A\x95") && b.size() >= 12)
    return header("sunras", be32(b, 4), be32(b, 8));
  return std::nullopt;
}

Tensor load_image(const std::string& path, const ImageOptions& options,
                  const ImageAugmentation& augmentation, Rng* rng) {
  Tensor batch = Tensor::empty({1, options.channels, options.height, options.width});
  load_image_into(path, options, batch, 0, augmentation, rng);
  return batch.select(0);
}

void load_image_into(const std::string& path, const ImageOptions& options, Tensor& batch,
                     int64_t row, const ImageAugmentation& augmentation, Rng* rng) {
  options.validate();
  if (!(augmentation.min_crop_scale > 0 && augmentation.min_crop_scale <= 1))
    throw ConfigError("image augmentation min_crop_scale " +
                      std::to_string(augmentation.min_crop_scale) + ": expected (0, 1]");
  check_batch(batch, options, row);
  const double min_crop_scale =
      rng && augmentation.min_crop_scale < 1.0f ? augmentation.min_crop_scale : 1.0;
  const cv::Mat decoded =
      decode(path, read_bytes(path, options.max_file_bytes), options, min_crop_scale);

  // Augmentation: always the same five draws, so the stream does not depend on the image.
  cv::Rect window(0, 0, decoded.cols, decoded.rows);
  bool flip = false;
  if (rng && augmentation.enabled()) {
    const double sw = rng->uniform(augmentation.min_crop_scale, 1.0);
    const double sh = rng->uniform(augmentation.min_crop_scale, 1.0);
    const double px = rng->uniform(), py = rng->uniform();
    flip = rng->uniform() < 0.5 && augmentation.horizontal_flip;
    if (augmentation.min_crop_scale < 1.0f) {
      window.width =
          static_cast<int>(std::clamp<int64_t>(round_size(decoded.cols * sw), 1, decoded.cols));
      window.height =
          static_cast<int>(std::clamp<int64_t>(round_size(decoded.rows * sh), 1, decoded.rows));
      window.x = static_cast<int>(px * (decoded.cols - window.width + 1));
      window.y = static_cast<int>(py * (decoded.rows - window.height + 1));
      window.x = std::min(window.x, decoded.cols - window.width);
      window.y = std::min(window.y, decoded.rows - window.height);
    }
  }
  place_image(decoded(window), path, options, flip, batch, row);
}

void load_pixels_into(const PixelView& pixels, const ImageOptions& options, Tensor& batch,
                      int64_t row) {
  options.validate();
  check_batch(batch, options, row);
  const std::string what = "in-memory image";
  if (pixels.data == nullptr) throw InputError(what + ": no pixel data");
  if (pixels.height < 1 || pixels.width < 1 || pixels.height > (int64_t{1} << 31) ||
      pixels.width > (int64_t{1} << 31))
    throw InputError(what + ": " + std::to_string(pixels.width) + " x " +
                     std::to_string(pixels.height) + " pixels");
  if (pixels.channels != 1 && pixels.channels != 3 && pixels.channels != 4)
    throw InputError(what + ": " + std::to_string(pixels.channels) +
                     " channels; expected 1 (gray), 3 (RGB) or 4 (RGBA)");
  if (pixels.height * pixels.width > options.max_pixels)
    throw InputError(what + " of " + std::to_string(pixels.width) + " x " +
                     std::to_string(pixels.height) + " pixels, over the limit of " +
                     megapixels(options.max_pixels) + " pixels (image max_pixels)");
  const int type = CV_MAKETYPE(pixels.is_float ? CV_32F : CV_8U, static_cast<int>(pixels.channels));
  // A view of the caller's buffer, never written: cv::Mat takes a non-const pointer.
  const cv::Mat rgb(static_cast<int>(pixels.height), static_cast<int>(pixels.width), type,
                    const_cast<void*>(pixels.data));
  cv::Mat bgr;
  if (pixels.channels == 3)
    cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  else if (pixels.channels == 4)
    cv::cvtColor(rgb, bgr, cv::COLOR_RGBA2BGRA);
  else
    bgr = rgb;
  place_image(remove_alpha(bgr, options.alpha), what, options, false, batch, row);
}

Tensor load_image_batch(const std::vector<std::string>& paths, const ImageOptions& options,
                        std::vector<std::string>& errors, const ImageAugmentation& augmentation,
                        Rng* rng) {
  options.validate();
  const auto n = static_cast<int64_t>(paths.size());
  // Every row is written whole by load_image_into or zeroed on failure: no zero fill first.
  Tensor batch = Tensor::empty({n, options.channels, options.height, options.width});
  errors.assign(paths.size(), "");
  for (int64_t i = 0; i < n; ++i) {
    std::optional<Rng> row_rng;
    if (rng) row_rng = rng->split(rng->next_bits());
    try {
      load_image_into(paths[i], options, batch, i, augmentation, row_rng ? &*row_rng : nullptr);
    } catch (const InputError& e) {
      errors[i] = e.what();
      batch.select(i).zero();
    }
  }
  return batch;
}

void write_attention_map(const std::string& image_path, const ImageOptions& options,
                         const std::vector<std::string>& words,
                         const std::vector<std::vector<float>>& attention, int64_t grid_h,
                         int64_t grid_w, const std::string& out_path) {
  S2S_CHECK(words.size() == attention.size(), "attention map: ", words.size(), " words but ",
            attention.size(), " attention rows");
  S2S_CHECK(grid_h > 0 && grid_w > 0, "attention map: empty grid");
  ImageOptions plain = options;  // intensities in [0, 1], as a viewer shows them
  plain.mean = {0.0f};
  plain.std = {1.0f};
  const Tensor pixels = load_image(image_path, plain);  // [C, H, W]
  const int c = static_cast<int>(pixels.dim(0)), h = static_cast<int>(pixels.dim(1)),
            w = static_cast<int>(pixels.dim(2));
  // An 8-bit BGR picture of the image.
  cv::Mat picture(h, w, CV_8UC3);
  const float* p = pixels.data<float>();
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      auto at = [&](int channel) {
        return cv::saturate_cast<uchar>(255.f * p[(channel * h + y) * w + x]);
      };
      const uchar r = at(0), g = at(c == 3 ? 1 : 0), b = at(c == 3 ? 2 : 0);
      picture.at<cv::Vec3b>(y, x) = cv::Vec3b(b, g, r);
    }
  // Panels are at least 128 pixels wide so the words stay legible.
  const double scale = std::max(1.0, 128.0 / w);
  const int pw = static_cast<int>(w * scale), ph = static_cast<int>(h * scale), label = 22;
  cv::Mat big;
  cv::resize(picture, big, cv::Size(pw, ph), 0, 0, cv::INTER_NEAREST);
  const int columns = static_cast<int>(std::min<size_t>(6, std::max<size_t>(1, words.size())));
  const int rows = static_cast<int>((words.size() + columns - 1) / columns);
  cv::Mat canvas(std::max(1, rows) * (ph + label), columns * pw, CV_8UC3,
                 cv::Scalar(255, 255, 255));
  for (size_t u = 0; u < words.size(); ++u) {
    S2S_CHECK(static_cast<int64_t>(attention[u].size()) == grid_h * grid_w, "attention map: word ",
              u, " has ", attention[u].size(), " weights for a ", grid_h, "x", grid_w, " grid");
    cv::Mat grid(static_cast<int>(grid_h), static_cast<int>(grid_w), CV_32F);
    const float top = std::max(1e-12f, *std::max_element(attention[u].begin(), attention[u].end()));
    for (int64_t i = 0; i < grid_h * grid_w; ++i)
      grid.at<float>(static_cast<int>(i / grid_w), static_cast<int>(i % grid_w)) =
          attention[u][i] / top;
    cv::Mat heat, heat8, colored, blended;
    cv::resize(grid, heat, cv::Size(pw, ph), 0, 0, cv::INTER_CUBIC);
    heat.convertTo(heat8, CV_8U, 255.0);
    cv::applyColorMap(heat8, colored, cv::COLORMAP_JET);
    cv::addWeighted(big, 0.5, colored, 0.5, 0.0, blended);
    const int row = static_cast<int>(u) / columns, column = static_cast<int>(u) % columns;
    blended.copyTo(canvas(cv::Rect(column * pw, row * (ph + label), pw, ph)));
    cv::putText(canvas, words[u], cv::Point(column * pw + 4, row * (ph + label) + ph + 16),
                cv::FONT_HERSHEY_SIMPLEX, 0.5, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
  }
  std::vector<uchar> png;
  if (!cv::imencode(".png", canvas, png))
    throw IoError("attention map: cannot encode a PNG for '" + out_path + "'");
  write_file_atomically(out_path,
                        std::string_view(reinterpret_cast<const char*>(png.data()), png.size()));
}

// ---- OnnxNet -----------------------------------------------------------------------------------

namespace {

// OpenCV 4.6's ONNX importer prefixes a node's layer with this (graph outputs keep their name).
constexpr std::string_view kNodePrefix = "onnx_node!";

// libs2s_image_dnn.so's functions (onnx_dnn_api.h), loaded once per process.
struct DnnApi {
  decltype(&s2s_dnn_open) open;
  decltype(&s2s_dnn_close) close;
  decltype(&s2s_dnn_layer_names) layer_names;
  decltype(&s2s_dnn_has_layer) has_layer;
  decltype(&s2s_dnn_forward) forward;
  decltype(&s2s_dnn_output) output;
};

constexpr const char* kDnnLibrary = "libs2s_image_dnn.so";

// Where the library may be: $S2S_DNN_LIBRARY, next to the object this code is linked into (the
// Python package's extension module, which carries the library beside it), next to the running
// binary or one folder up (build/tests/s2s_tests and build/libs2s_image_dnn.so), where the build
// put it.
std::vector<std::string> dnn_library_candidates() {
  std::vector<std::string> out;
  if (const char* env = std::getenv("S2S_DNN_LIBRARY"); env && *env) return {env};
  Dl_info self;
  if (dladdr(reinterpret_cast<void*>(&dnn_library_candidates), &self) && self.dli_fname &&
      std::strchr(self.dli_fname, '/'))
    out.push_back((fs::path(self.dli_fname).parent_path() / kDnnLibrary).string());
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    out.push_back((exe.parent_path() / kDnnLibrary).string());
    out.push_back((exe.parent_path().parent_path() / kDnnLibrary).string());
  }
#ifdef S2S_DNN_LIBRARY_PATH
  out.push_back(S2S_DNN_LIBRARY_PATH);
#endif
  return out;
}

const DnnApi& load_dnn_api() {
  // A function-local static: loaded by the first OnnxNet, again on the next try if it failed.
  static const DnnApi api = [] {
    std::string tried;
    void* lib = nullptr;
    for (const std::string& path : dnn_library_candidates()) {
      if (std::error_code ec; !fs::exists(path, ec)) {
        tried += "\n  " + path + ": no such file";
        continue;
      }
      // DEEPBIND: the library, OpenCV's dnn and libprotobuf see their own symbols first, never
      // SentencePiece's protobuf copy (onnx_dnn_api.h); LOCAL keeps theirs from SentencePiece.
      lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
      if (lib) break;
      const char* why = dlerror();
      tried += "\n  " + path + ": " + (why ? why : "cannot load");
    }
    if (!lib)
      throw EnvironmentError(std::string("frozen CNN: cannot load ") + kDnnLibrary +
                             " (OpenCV's dnn module, built with s2s; set S2S_DNN_LIBRARY to its "
                             "path); tried:" +
                             tried);
    auto symbol = [&](const char* name) {
      void* f = dlsym(lib, name);
      if (!f) throw EnvironmentError(std::string("frozen CNN: ") + kDnnLibrary + " has no " + name);
      return f;
    };
    const auto version =
        reinterpret_cast<decltype(&s2s_dnn_api_version)>(symbol("s2s_dnn_api_version"));
    if (version() != S2S_DNN_API_VERSION)
      throw EnvironmentError(std::string("frozen CNN: ") + kDnnLibrary + " has interface version " +
                             std::to_string(version()) + ", this s2s needs " +
                             std::to_string(S2S_DNN_API_VERSION) + "; rebuild both together");
    DnnApi a;
    a.open = reinterpret_cast<decltype(a.open)>(symbol("s2s_dnn_open"));
    a.close = reinterpret_cast<decltype(a.close)>(symbol("s2s_dnn_close"));
    a.layer_names = reinterpret_cast<decltype(a.layer_names)>(symbol("s2s_dnn_layer_names"));
    a.has_layer = reinterpret_cast<decltype(a.has_layer)>(symbol("s2s_dnn_has_layer"));
    a.forward = reinterpret_cast<decltype(a.forward)>(symbol("s2s_dnn_forward"));
    a.output = reinterpret_cast<decltype(a.output)>(symbol("s2s_dnn_output"));
    return a;  // the library stays loaded for the life of the process
  }();
  return api;
}

// A layer name as a user would give it (prefix stripped).
std::string user_name(const std::string& name) {
  return name.rfind(kNodePrefix, 0) == 0 ? name.substr(kNodePrefix.size()) : name;
}

// "a, b, c" of at most 12 distinct user names (a graph output "pool" and its node
// "onnx_node!pool" are both "pool").
std::string layer_list(const std::vector<std::string>& layers) {
  std::vector<std::string> names;
  for (const std::string& layer : layers)
    if (std::find(names.begin(), names.end(), user_name(layer)) == names.end())
      names.push_back(user_name(layer));
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i == 12) {
      out += ", ... (" + std::to_string(names.size() - i) + " more)";
      break;
    }
    out += (i ? ", " : "") + names[i];
  }
  return out;
}

// OpenCV's message on one line (its failed checks span several, each starting with "> ").
std::string one_line(const char* message) {
  std::string out;
  for (const char* c = message; *c; ++c) {
    const bool line_start =
        c == message || c[-1] == '\n' || (c - message >= 2 && c[-2] == ':' && c[-1] == ' ');
    if (*c == '\n' || (*c == '>' && line_start)) {
      if (!out.empty() && out.back() != ' ') out += ' ';
      continue;
    }
    if (*c == ' ' && (out.empty() || out.back() == ' ')) continue;
    out += *c;
  }
  while (!out.empty() && out.back() == ' ')
    out.pop_back();
  return out;
}

}  // namespace

struct OnnxNet::Impl {
  const DnnApi* api = nullptr;
  void* net = nullptr;
  std::string path;
  std::string layer;  // resolved OpenCV layer name

  ~Impl() {
    if (net) api->close(net);
  }
  std::vector<std::string> layer_names(bool outputs_only) const {
    std::string text(4096, '\0');
    size_t n = api->layer_names(net, outputs_only, text.data(), text.size());
    if (n >= text.size()) {
      text.assign(n + 1, '\0');
      n = api->layer_names(net, outputs_only, text.data(), text.size());
    }
    text.resize(std::min(n, text.size() - 1));
    std::vector<std::string> names;
    for (size_t at = 0; at < text.size();) {
      const size_t end = std::min(text.find('\n', at), text.size());
      names.push_back(text.substr(at, end - at));
      at = end + 1;
    }
    return names;
  }
};

OnnxNet::OnnxNet(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OnnxNet::OnnxNet(OnnxNet&&) noexcept = default;
OnnxNet& OnnxNet::operator=(OnnxNet&&) noexcept = default;
OnnxNet::~OnnxNet() = default;

const std::string& OnnxNet::path() const {
  return impl_->path;
}
const std::string& OnnxNet::output_layer() const {
  return impl_->layer;
}

OnnxNet OnnxNet::load(const std::string& path, const std::string& output_layer) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw InputError(path + ": no such ONNX file");
  if (fs::is_directory(path, ec)) throw InputError(path + ": is a folder, not an ONNX file");
  const auto size = fs::file_size(path, ec);
  if (ec) throw InputError(path + ": cannot read: " + ec.message());
  if (size == 0) throw InputError(path + ": empty file (0 bytes), not an ONNX model");
  {
    std::ifstream probe(path, std::ios::binary);
    if (!probe) throw InputError(path + ": cannot open: " + std::strerror(errno));
  }
  auto impl = std::make_unique<Impl>();
  impl->api = &load_dnn_api();
  impl->path = path;
  char error[1024] = "";
  impl->net = impl->api->open(path.c_str(), error, sizeof error);
  if (!impl->net)
    throw InputError(path + ": not an ONNX model OpenCV can import: " + one_line(error));
  const std::vector<std::string> layers = impl->layer_names(false);
  // A file that happens to parse as a protobuf message without a graph gives an empty net.
  if (layers.empty()) throw InputError(path + ": not an ONNX model (no layers)");

  if (output_layer.empty()) {
    const std::vector<std::string> outputs = impl->layer_names(true);
    if (outputs.size() != 1)
      throw ConfigError(path + ": the network has " + std::to_string(outputs.size()) +
                        " outputs (" + layer_list(outputs) +
                        "); name the feature layer with image_encoder.onnx_output");
    impl->layer = outputs[0];
  } else if (impl->api->has_layer(impl->net, output_layer.c_str())) {
    impl->layer = output_layer;
  } else if (const std::string node = std::string(kNodePrefix) + output_layer;
             impl->api->has_layer(impl->net, node.c_str())) {
    impl->layer = node;
  } else {
    throw ConfigError(path + ": no layer '" + output_layer +
                      "' (image_encoder.onnx_output); its layers: " + layer_list(layers));
  }
  return OnnxNet(std::move(impl));
}

Tensor OnnxNet::forward(const Tensor& pixels) {
  constexpr const char* op = "OnnxNet::forward";
  ops::check::shape(op, "pixels", pixels, {-1, -1, -1, -1});
  ops::check::dtype(op, "pixels", pixels, DType::f32);
  ops::check::cpu_only(op, pixels);
  for (int i = 0; i < 4; ++i)
    S2S_CHECK_SHAPE(pixels.dim(i) >= 1 && pixels.dim(i) <= std::numeric_limits<int>::max(), op,
                    ": pixels ", pixels.str(), " cannot be a network input");
  const int dims[4] = {static_cast<int>(pixels.dim(0)), static_cast<int>(pixels.dim(1)),
                       static_cast<int>(pixels.dim(2)), static_cast<int>(pixels.dim(3))};
  int rank = 0, out[8] = {};
  char error[1024] = "";
  if (impl_->api->forward(impl_->net, impl_->layer.c_str(), pixels.data<float>(), dims, &rank, out,
                          error, sizeof error) != 0)
    throw ShapeError(impl_->path + ": the network cannot take pixels " + pixels.str() + " (" +
                     one_line(error) + ")");
  std::string shape;
  int64_t count = 1;
  for (int i = 0; i < rank; ++i) {
    shape += (i ? ", " : "") + std::to_string(out[i]);
    count *= out[i];
  }
  const std::string layer = "layer '" + user_name(impl_->layer) + "' (image_encoder.onnx_output)";
  if (rank != 4)
    throw ConfigError(impl_->path + ": " + layer + " gives a " + std::to_string(rank) +
                      "-D output [" + shape +
                      "], not a 4-D feature map [B, F, H', W']; name a convolutional layer");
  if (count == 0)  // e.g. a pooling window larger than the image's map
    throw ShapeError(impl_->path + ": " + layer + " gives an empty output [" + shape +
                     "] for pixels " + pixels.str() + " (images too small for the network?)");
  S2S_CHECK(out[0] == pixels.dim(0), impl_->path, ": ", layer, " gives ", out[0],
            " maps for a batch of ", pixels.dim(0));
  Tensor features = Tensor::empty({out[0], out[1], out[2], out[3]});
  if (impl_->api->output(impl_->net, features.data<float>(), static_cast<size_t>(count), error,
                         sizeof error) != 0)
    throw ShapeError(impl_->path + ": " + layer + ": " + one_line(error));
  return features;
}

}  // namespace s2s
