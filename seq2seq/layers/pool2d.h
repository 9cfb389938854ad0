// Pool2d: max or average pooling of NCHW feature maps over square windows (ops/pool2d.h); no
// parameters. Max pooling keeps the argmax of each window for backward.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "seq2seq/layers/layer.h"
#include "seq2seq/ops/pool2d.h"

namespace s2s {

enum class PoolKind { max, avg };

// "max" or "avg"; ConfigError naming the text otherwise.
PoolKind parse_pool_kind(const std::string& text);
const char* pool_kind_name(PoolKind kind);

struct Pool2dOptions {
  PoolKind kind = PoolKind::max;
  int64_t kernel = 2;         // window side, >= 1
  int64_t stride = 2;         // >= 1
  std::string name = "pool";  // for error messages
};

class Pool2d : public Layer {
 public:
  explicit Pool2d(Pool2dOptions options);

  Tensor forward(const Tensor& x);    // [N, C, H, W] -> [N, C, OH, OW]
  Tensor backward(const Tensor& dy);  // [N, C, OH, OW] -> [N, C, H, W]

  // Output height or width for an input of that length (0: the window does not fit).
  int64_t output_size(int64_t in) const { return ops::pool_output_size(in, args()); }

  void collect_parameters(std::vector<Parameter*>&) override {}
  const Pool2dOptions& options() const { return options_; }

 private:
  ops::Pool2dArgs args() const { return {options_.kernel, options_.stride}; }

  Pool2dOptions options_;
  Shape x_shape_;
  DType dtype_ = DType::f32;
  Device device_;
  Tensor argmax_;  // max pooling: [N, C, OH, OW] i32
  bool ran_ = false;
};

}  // namespace s2s
