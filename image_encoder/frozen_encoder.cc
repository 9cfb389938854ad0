// FrozenCnnEncoder: the frozen ONNX network's features, a trainable 1x1 projection, the position
// embedding and the pooled summary.
#include "image_encoder/frozen_encoder.h"

#include "seq2seq/ops/check.h"
#include "seq2seq/ops/dropout.h"
#include "seq2seq/ops/feature_grid.h"
#include "seq2seq/ops/pool2d.h"

namespace s2s {
namespace {

const FrozenCnnOptions& validated(const FrozenCnnOptions& o) {
  auto fail = [&](const std::string& what) {
    throw ConfigError("frozen image encoder '" + o.name + "': " + what);
  };
  if (o.onnx.empty()) fail("image_encoder.onnx names no ONNX file");
  if (o.in_channels < 1) fail("in_channels must be positive, got " + std::to_string(o.in_channels));
  if (o.image_height < 1 || o.image_width < 1)
    fail("the image size must be positive, got " + std::to_string(o.image_height) + "x" +
         std::to_string(o.image_width));
  if (o.output_size < 1) fail("output_size must be positive, got " + std::to_string(o.output_size));
  if (o.max_grid_size < 1)
    fail("max_grid_size must be positive, got " + std::to_string(o.max_grid_size));
  if (!(o.dropout >= 0 && o.dropout < 1))
    fail("dropout must be in [0, 1), got " + std::to_string(o.dropout));
  return o;
}

// t as a CPU tensor of dtype (t itself when it already is one).
Tensor to_cpu_dtype(const Tensor& t, DType dtype) {
  const Tensor cpu = t.device().is_cpu() ? t : t.to(Device::cpu());
  if (cpu.dtype() == dtype) return cpu;
  Tensor out = Tensor::empty(cpu.shape(), dtype);
  const int64_t n = cpu.numel();
  ops::dispatch_floating(cpu.dtype(), [&]<typename From>() {
    const From* src = cpu.data<From>();
    ops::dispatch_floating(dtype, [&]<typename To>() {
      To* dst = out.data<To>();
      for (int64_t i = 0; i < n; ++i)
        dst[i] = static_cast<To>(src[i]);
    });
  });
  return out;
}

// The network's features of pixels [B, C, H, W] of any floating dtype and device.
Tensor net_features(OnnxNet& net, const Tensor& pixels, int64_t in_channels) {
  constexpr const char* op = "FrozenCnnEncoder::features";
  ops::check::shape(op, "pixels", pixels, {-1, in_channels, -1, -1});
  ops::check::floating(op, "pixels", pixels);
  Tensor features = net.forward(to_cpu_dtype(pixels, DType::f32));  // [B, F, H', W']
  S2S_CHECK_SHAPE(features.dim(1) >= 1 && features.dim(2) >= 1 && features.dim(3) >= 1, net.path(),
                  ": layer '", net.output_layer(), "' gives an empty feature map ", features.str(),
                  " for pixels ", pixels.str());
  return features;
}

// F from a blank image of the configured size, which also checks the output layer; its grid
// goes into the cache.
int64_t probe_feature_size(
    OnnxNet& net, const FrozenCnnOptions& o,
    std::map<std::pair<int64_t, int64_t>, std::pair<int64_t, int64_t>>& grids) {
  const Tensor blank = Tensor::zeros({1, o.in_channels, o.image_height, o.image_width});
  const Tensor f = net_features(net, blank, o.in_channels);
  grids[{o.image_height, o.image_width}] = {f.dim(2), f.dim(3)};
  return f.dim(1);
}

}  // namespace

FrozenCnnEncoder::FrozenCnnEncoder(FrozenCnnOptions options)
    : options_(validated(options)),
      net_(OnnxNet::load(options_.onnx, options_.output_layer)),
      feature_size_(probe_feature_size(net_, options_, grids_)),
      grid_(options_.name, feature_size_, options_.max_grid_size, options_.output_size,
            options_.dropout, options_.dtype, options_.device, options_.seed) {
  grid_size(options_.image_height, options_.image_width);  // the images must fit the tables
}

void FrozenCnnEncoder::collect_parameters(std::vector<Parameter*>& out) {
  grid_.collect_parameters(out);
}

Tensor FrozenCnnEncoder::features(const Tensor& pixels) const {
  Tensor features = net_features(net_, pixels, options_.in_channels);
  // A fully convolutional net keeps F whatever the image size; anything else breaks the
  // projection, so it is refused here rather than as a GEMM shape error.
  S2S_CHECK_SHAPE(features.dim(1) == feature_size_, options_.onnx, ": layer '", net_.output_layer(),
                  "' gives ", features.dim(1), " channels for pixels ", pixels.str(), ", ",
                  feature_size_, " for the configured image size");
  return features;
}

std::pair<int64_t, int64_t> FrozenCnnEncoder::grid_size(int64_t height, int64_t width) const {
  S2S_CHECK_SHAPE(height >= 1 && width >= 1, "frozen image encoder: no grid for a ", height, "x",
                  width, " image");
  auto it = grids_.find({height, width});
  if (it == grids_.end()) {
    const Tensor f = features(Tensor::zeros({1, options_.in_channels, height, width}));
    it = grids_.emplace(std::pair{height, width}, std::pair{f.dim(2), f.dim(3)}).first;
  }
  const auto [h, w] = it->second;
  S2S_CHECK_SHAPE(h <= options_.max_grid_size && w <= options_.max_grid_size,
                  "frozen image encoder: a ", height, "x", width, " image gives a ", h, "x", w,
                  " feature grid at layer '", net_.output_layer(), "' of ", options_.onnx,
                  ", larger than image_encoder.max_grid_size (", options_.max_grid_size,
                  "); resize the images, take a deeper layer or raise max_grid_size");
  return {h, w};
}

Memory FrozenCnnEncoder::encode(const Tensor& pixels, const Tensor& source_mask, Rng* rng) {
  constexpr const char* op = "FrozenCnnEncoder::encode";
  ops::check::shape(op, "pixels", pixels, {-1, options_.in_channels, -1, -1});
  ops::check::dtype(op, "pixels", pixels, options_.dtype);
  S2S_CHECK(!source_mask.defined(), op, ": images take no source mask, got ", source_mask.str());
  S2S_CHECK(pixels.device() == options_.device, op, ": pixels ", pixels.str(),
            " are not on the model's device ", options_.device.str());
  const bool drop = training() && options_.dropout > 0;
  S2S_CHECK(!drop || rng, "FrozenCnnEncoder: dropout in training needs an Rng");

  // The network's output is a constant of the pixels: nothing of it is kept for backward.
  Tensor x = to_cpu_dtype(features(pixels), options_.dtype);
  if (!options_.device.is_cpu()) x = x.to(options_.device);
  const int64_t gh = x.dim(2), gw = x.dim(3);
  S2S_CHECK_SHAPE(gh <= options_.max_grid_size && gw <= options_.max_grid_size,
                  "frozen image encoder: pixels ", pixels.str(), " give a ", gh, "x", gw,
                  " feature grid, larger than image_encoder.max_grid_size (",
                  options_.max_grid_size, "); resize the images or raise max_grid_size");
  encoded_ = true;
  return grid_.forward(x, training(), rng);
}

void FrozenCnnEncoder::backward(const MemoryGradient& gradient) {
  S2S_CHECK(encoded_, "FrozenCnnEncoder::backward without encode");
  // The frozen features need no gradient: the projection computes only its own.
  grid_.backward(gradient, /*input_gradient=*/false);
  encoded_ = false;
}

}  // namespace s2s
