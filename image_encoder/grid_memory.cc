// GridMemory: feature grid -> Memory and back.
#include "image_encoder/grid_memory.h"

#include "seq2seq/error.h"
#include "seq2seq/layers/layer.h"
#include "seq2seq/ops/dropout.h"
#include "seq2seq/ops/feature_grid.h"
#include "seq2seq/ops/pool2d.h"

namespace s2s {

namespace {

Conv2dOptions project_options(const std::string& name, int64_t features, int64_t width, DType dtype,
                              Device device, uint64_t seed) {
  Conv2dOptions c;
  c.in_channels = features;
  c.out_channels = width;
  c.kernel_size = 1;
  c.dtype = dtype;
  c.device = device;
  c.name = join_name(name, "project");
  c.seed = Rng(seed).split(1000).seed();
  return c;
}

}  // namespace

GridMemory::GridMemory(const std::string& name, int64_t features, int64_t max_grid_size,
                       int64_t width, double dropout, DType dtype, Device device, uint64_t seed)
    : project_(project_options(name, features, width, dtype, device, seed)), dropout_(dropout) {
  Rng rng = Rng(seed).split(2000);
  row_ = Parameter::make(join_name(name, "position.row"), {max_grid_size, width}, dtype, device);
  col_ = Parameter::make(join_name(name, "position.col"), {max_grid_size, width}, dtype, device);
  // Small against the features, so the embedding starts as a hint, not noise.
  init_uniform(row_.value, rng, 0.1);
  init_uniform(col_.value, rng, 0.1);
}

Memory GridMemory::forward(const Tensor& features, bool training, Rng* rng) {
  const Tensor projected = project_.forward(features);  // [B, D, H', W']
  const bool drop = training && dropout_ > 0;
  S2S_CHECK(!drop || rng, "image encoder: dropout in training needs an Rng");
  const DType dtype = projected.dtype();
  const Device device = projected.device();
  const int64_t batch = projected.dim(0), d = projected.dim(1);
  const int64_t s = projected.dim(2) * projected.dim(3);
  projected_shape_ = projected.shape();
  Tensor vectors = Tensor::empty({s, batch, d}, dtype, device);
  ops::feature_grid_fwd(projected, row_.value, col_.value, vectors);
  dropout_mask_ = Tensor();
  if (drop) {
    dropout_mask_ = Tensor::empty(vectors.shape(), dtype, device);
    ops::dropout_fwd(vectors, dropout_, *rng, dropout_mask_, vectors);
  }
  Tensor summary = Tensor::empty({batch, d}, dtype, device);
  ops::global_avg_pool_fwd(projected, summary);
  Tensor mask = Tensor::empty({s, batch}, dtype, device);
  mask.fill(1.0);
  return {vectors, mask, summary};
}

Tensor GridMemory::backward(const MemoryGradient& gradient, bool input_gradient) {
  const DType dtype = row_.value.dtype();
  const Device device = row_.value.device();
  Tensor d_projected = Tensor::empty(projected_shape_, dtype, device);
  if (gradient.vectors.defined()) {
    Tensor d_vectors = gradient.vectors;
    if (dropout_mask_.defined()) {
      d_vectors = Tensor::empty(gradient.vectors.shape(), dtype, device);
      ops::dropout_bwd(gradient.vectors, dropout_mask_, d_vectors);
    }
    ops::feature_grid_bwd(d_vectors, d_projected, row_.grad, col_.grad);
  } else {
    d_projected.zero();
  }
  if (gradient.summary.defined())
    ops::global_avg_pool_bwd(gradient.summary, d_projected, /*accumulate=*/true);
  return project_.backward(d_projected, input_gradient);
}

void GridMemory::collect_parameters(std::vector<Parameter*>& out) {
  project_.collect_parameters(out);
  out.push_back(&row_);
  out.push_back(&col_);
}

}  // namespace s2s
