// ImageEncoder: CNN blocks, 1x1 projection, position embedding, pooled summary.
#include "image_encoder/image_encoder.h"

#include "seq2seq/ops/check.h"
#include "seq2seq/ops/dropout.h"
#include "seq2seq/ops/feature_grid.h"
#include "seq2seq/ops/pool2d.h"
#include "seq2seq/ops/relu.h"

namespace s2s {
namespace {

const ImageEncoderOptions& validated(const ImageEncoderOptions& o) {
  auto fail = [&](const std::string& what) {
    throw ConfigError("image encoder '" + o.name + "': " + what);
  };
  if (o.in_channels < 1) fail("in_channels must be positive, got " + std::to_string(o.in_channels));
  if (o.channels.empty()) fail("channels must list at least one block width");
  for (int64_t c : o.channels)
    if (c < 1) fail("channels must be positive, got " + std::to_string(c));
  if (o.convs_per_block < 1)
    fail("convs_per_block must be at least 1, got " + std::to_string(o.convs_per_block));
  if (o.kernel_size < 1 || o.kernel_size % 2 == 0)
    fail("kernel_size must be odd and positive, got " + std::to_string(o.kernel_size));
  if (o.output_size < 1) fail("output_size must be positive, got " + std::to_string(o.output_size));
  if (o.max_grid_size < 1)
    fail("max_grid_size must be positive, got " + std::to_string(o.max_grid_size));
  if (!(o.dropout >= 0 && o.dropout < 1))
    fail("dropout must be in [0, 1), got " + std::to_string(o.dropout));
  return o;
}

}  // namespace

ImageEncoder::ImageEncoder(ImageEncoderOptions options)
    : options_(validated(options)),
      grid_(options_.name, options_.channels.back(), options_.max_grid_size, options_.output_size,
            options_.dropout, options_.dtype, options_.device, options_.seed) {
  const ImageEncoderOptions& o = options_;
  const Rng streams(o.seed);
  int64_t in = o.in_channels;
  blocks_.reserve(o.channels.size());  // Parameters are referenced by address: no reallocation
  for (size_t b = 0; b < o.channels.size(); ++b) {
    const std::string block = join_name(o.name, "block." + std::to_string(b));
    Pool2dOptions pool;
    pool.kind = o.pool;
    pool.name = join_name(block, "pool");
    Block& blk = blocks_.emplace_back(Block{{}, Pool2d(pool)});
    blk.stages.reserve(o.convs_per_block);
    for (int i = 0; i < o.convs_per_block; ++i) {
      Conv2dOptions c;
      c.in_channels = in;
      c.out_channels = o.channels[b];
      c.kernel_size = o.kernel_size;
      c.padding = o.kernel_size / 2;
      c.bias = !o.batch_norm;  // batch norm's beta subsumes a bias
      c.dtype = o.dtype;
      c.device = o.device;
      c.name = join_name(block, "conv." + std::to_string(i));
      c.seed = streams.split(b * 100 + static_cast<uint64_t>(i)).seed();
      Stage& stage = blk.stages.emplace_back(Stage{Conv2d(c), std::nullopt, Tensor()});
      if (o.batch_norm) {
        BatchNorm2dOptions n;
        n.channels = o.channels[b];
        n.momentum = o.bn_momentum;
        n.dtype = o.dtype;
        n.device = o.device;
        n.name = join_name(block, "bn." + std::to_string(i));
        stage.bn.emplace(n);
      }
      in = o.channels[b];
    }
  }
}

void ImageEncoder::collect_parameters(std::vector<Parameter*>& out) {
  for (Block& block : blocks_)
    for (Stage& stage : block.stages) {
      stage.conv.collect_parameters(out);
      if (stage.bn) stage.bn->collect_parameters(out);
    }
  grid_.collect_parameters(out);
}

std::pair<int64_t, int64_t> ImageEncoder::grid_size(int64_t height, int64_t width) const {
  int64_t h = height, w = width;
  for (size_t b = 0; b < blocks_.size(); ++b) {
    const Block& block = blocks_[b];
    for (const Stage& stage : block.stages)
      h = stage.conv.output_size(h), w = stage.conv.output_size(w);
    const int64_t ph = block.pool.output_size(h), pw = block.pool.output_size(w);
    S2S_CHECK_SHAPE(ph >= 1 && pw >= 1, "image encoder: a ", height, "x", width,
                    " image is too small for ", blocks_.size(), " pooling blocks (block ", b,
                    " gets a ", h, "x", w,
                    " map); use larger images or fewer "
                    "image_encoder.channels");
    h = ph, w = pw;
  }
  S2S_CHECK_SHAPE(h <= options_.max_grid_size && w <= options_.max_grid_size, "image encoder: a ",
                  height, "x", width, " image gives a ", h, "x", w,
                  " feature grid, larger than image_encoder.max_grid_size (",
                  options_.max_grid_size, "); resize the images or raise max_grid_size");
  return {h, w};
}

Memory ImageEncoder::encode(const Tensor& pixels, const Tensor& source_mask, Rng* rng) {
  constexpr const char* op = "ImageEncoder::encode";
  ops::check::shape(op, "pixels", pixels, {-1, options_.in_channels, -1, -1});
  ops::check::dtype(op, "pixels", pixels, options_.dtype);
  S2S_CHECK(!source_mask.defined(), op, ": images take no source mask, got ", source_mask.str());
  S2S_CHECK(pixels.device() == options_.device, op, ": pixels ", pixels.str(),
            " are not on the model's device ", options_.device.str());
  grid_size(pixels.dim(2), pixels.dim(3));  // a clear error for images that do not fit
  const bool drop = training() && options_.dropout > 0;
  S2S_CHECK(!drop || rng, "ImageEncoder: dropout in training needs an Rng");

  Tensor x = pixels;
  for (Block& block : blocks_) {
    for (Stage& stage : block.stages) {
      stage.conv.set_training(training());
      x = stage.conv.forward(x);
      if (stage.bn) {
        stage.bn->set_training(training());
        x = stage.bn->forward(x);
      }
      ops::relu_fwd(x, x);
      stage.activation = x;
    }
    x = block.pool.forward(x);
  }
  encoded_ = true;
  return grid_.forward(x, training(), rng);
}

void ImageEncoder::backward(const MemoryGradient& gradient) {
  S2S_CHECK(encoded_, "ImageEncoder::backward without encode");
  Tensor dx = grid_.backward(gradient);
  for (size_t b = blocks_.size(); b-- > 0;) {
    Block& block = blocks_[b];
    dx = block.pool.backward(dx);
    for (size_t i = block.stages.size(); i-- > 0;) {
      Stage& stage = block.stages[i];
      ops::relu_bwd(stage.activation, dx, dx);
      if (stage.bn) dx = stage.bn->backward(dx);
      // Nothing needs the gradient of the pixels: the first convolution skips it.
      dx = stage.conv.backward(dx, /*input_gradient=*/b > 0 || i > 0);
      stage.activation = Tensor();
    }
  }
  encoded_ = false;
}

}  // namespace s2s
