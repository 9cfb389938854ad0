// The frozen, pretrained CNN option of the image encoder (image_encoder.onnx): OpenCV's dnn
// module runs tests/data/tiny_cnn.onnx (Conv 3x3 + Relu + MaxPool 2x2, made by
// tests/data/make_tiny_cnn_onnx.py) exactly as s2s's own conv2d/relu/max_pool2d ops compute it
// from the same weights (tiny_cnn.safetensors); layer names; bad ONNX files and layers; OpenCV's
// dnn (with libprotobuf) and SentencePiece (with its own protobuf copy) in one process;
// FrozenCnnEncoder's Memory, grid sizes, gradients of its trainable part (in double precision, the
// network's f32 features a fixed input) and that the network itself never changes; the factory.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "image_encoder/make_image_encoder.h"
#include "seq2seq/ops/conv2d.h"
#include "seq2seq/ops/feature_grid.h"
#include "seq2seq/ops/pool2d.h"
#include "seq2seq/ops/relu.h"
#include "seq2seq/optimizer.h"
#include "seq2seq/safetensors.h"
#include "tests/test_util.h"
#include "vocab/trainer.h"
#include "vocab/vocab.h"

namespace s2s {
namespace {

namespace fs = std::filesystem;
using testing::random_tensor;
using testing::values;

std::string tiny_cnn() {
  return testing::test_data_dir() + "/tiny_cnn.onnx";
}

// max |a - b|
double max_abs_error(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape(), b.shape()) << a.str() << " vs " << b.str();
  const auto x = values(a), y = values(b);
  double worst = 0;
  for (size_t i = 0; i < x.size() && i < y.size(); ++i)
    worst = std::max(worst, std::abs(x[i] - y[i]));
  return worst;
}

// The tiny CNN recomputed with s2s's ops in double precision, up to "conv", "relu" or "pool".
Tensor reference(const Tensor& pixels, const std::string& up_to) {
  const SafetensorsContents weights =
      load_safetensors(testing::test_data_dir() + "/tiny_cnn.safetensors");
  const Tensor w = testing::cast(weights.tensors.at("conv.weight"), DType::f64);
  const Tensor b = testing::cast(weights.tensors.at("conv.bias"), DType::f64);
  const Tensor x = testing::cast(pixels, DType::f64);
  const int64_t n = x.dim(0), h = x.dim(2), wd = x.dim(3);
  Tensor y = Tensor::empty({n, 4, h, wd}, DType::f64);
  ops::conv2d_fwd(x, w, b, {/*stride=*/1, /*padding=*/1}, y);
  if (up_to == "conv") return y;
  ops::relu_fwd(y, y);
  if (up_to == "relu") return y;
  const ops::Pool2dArgs pool;
  Tensor p = Tensor::empty({n, 4, ops::pool_output_size(h, pool), ops::pool_output_size(wd, pool)},
                           DType::f64);
  Tensor argmax = Tensor::empty(p.shape(), DType::i32);
  ops::max_pool2d_fwd(y, pool, p, argmax);
  return p;
}

// ---- OnnxNet -----------------------------------------------------------------------------------

TEST(OnnxNet, OpenCvComputesTheTinyCnnAsOurOpsDo) {
  // Every layer, at the size it was made for and at another one (H and W are dynamic).
  for (const Shape shape : {Shape{2, 3, 16, 16}, Shape{3, 3, 12, 20}}) {
    const Tensor pixels = random_tensor(shape, DType::f32, 1);
    for (const std::string layer : {"conv", "relu", "pool"}) {
      OnnxNet net = OnnxNet::load(tiny_cnn(), layer);
      const Tensor out = net.forward(pixels);
      ASSERT_EQ(out.dtype(), DType::f32);
      const Tensor expect = reference(pixels, layer);
      EXPECT_LT(max_abs_error(out, expect), 1e-5) << layer << " " << pixels.str();
    }
  }
  // The graph output is an OpenCV layer of its own; the node names get OpenCV's prefix.
  EXPECT_EQ(OnnxNet::load(tiny_cnn(), "pool").output_layer(), "pool");
  EXPECT_EQ(OnnxNet::load(tiny_cnn(), "relu").output_layer(), "onnx_node!relu");
  EXPECT_EQ(OnnxNet::load(tiny_cnn(), "onnx_node!relu").output_layer(), "onnx_node!relu");
  // One net, several batches: nothing of an earlier batch leaks into a later one.
  OnnxNet net = OnnxNet::load(tiny_cnn(), "pool");
  const Tensor a = random_tensor({1, 3, 16, 16}, DType::f32, 2);
  const Tensor first = net.forward(a);
  net.forward(random_tensor({4, 3, 8, 8}, DType::f32, 3));
  EXPECT_EQ(values(net.forward(a)), values(first));
}

TEST(OnnxNet, UnknownLayersAndOutputsThatAreNoFeatureMapAreConfigErrors) {
  try {
    OnnxNet::load(tiny_cnn(), "conv9");
    ADD_FAILURE() << "no error for an unknown layer";
  } catch (const ConfigError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find(tiny_cnn()), std::string::npos) << m;
    EXPECT_NE(m.find("'conv9'"), std::string::npos) << m;
    EXPECT_NE(m.find("relu"), std::string::npos) << m;  // the layers it does have
  }
  // "": the net has two outputs, so it must be told which.
  try {
    OnnxNet::load(tiny_cnn(), "");
    ADD_FAILURE() << "no error for an ambiguous output";
  } catch (const ConfigError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("embedding"), std::string::npos) << m;
    EXPECT_NE(m.find("image_encoder.onnx_output"), std::string::npos) << m;
  }
  // "embedding" is [N, 4]: no grid.
  OnnxNet flat = OnnxNet::load(tiny_cnn(), "embedding");
  try {
    flat.forward(random_tensor({2, 3, 16, 16}, DType::f32, 1));
    ADD_FAILURE() << "no error for a 2-D output";
  } catch (const ConfigError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("'embedding'"), std::string::npos) << m;
    EXPECT_NE(m.find("2-D"), std::string::npos) << m;
  }
  // Pixels the net cannot take, and pixels of the wrong kind.
  OnnxNet net = OnnxNet::load(tiny_cnn(), "pool");
  EXPECT_THROW(net.forward(random_tensor({1, 2, 16, 16}, DType::f32, 1)), ShapeError);
  EXPECT_THROW(net.forward(random_tensor({1, 3, 16, 16}, DType::f64, 1)), InvalidArgument);
  EXPECT_THROW(net.forward(random_tensor({3, 16, 16}, DType::f32, 1)), ShapeError);
}

class OnnxFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ =
        fs::temp_directory_path() / ("s2s_onnx_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string file(const std::string& name, const std::string& content) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  // The InputError of loading path, whose message must name it.
  static void expect_input_error(const std::string& path, const std::string& why) {
    try {
      OnnxNet::load(path, "pool");
      ADD_FAILURE() << "no error for " << why;
    } catch (const InputError& e) {
      EXPECT_EQ(std::string(e.what()).rfind(path, 0), 0u) << why << ": " << e.what();
    }
  }

  fs::path dir_;
};

TEST_F(OnnxFileTest, MissingEmptyAndCorruptFilesAreInputErrorsNamingTheFile) {
  expect_input_error((dir_ / "absent.onnx").string(), "a missing file");
  expect_input_error(dir_.string(), "a folder");
  expect_input_error(file("empty.onnx", ""), "an empty file");
  expect_input_error(file("text.onnx", "this is not a protobuf message\n"), "a text file");
  std::ifstream in(tiny_cnn(), std::ios::binary);
  const std::string model((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(model.size(), 500u);
  expect_input_error(file("truncated.onnx", model.substr(0, model.size() / 2)), "a truncated file");
  std::string garbled = model;
  for (size_t i = 40; i < garbled.size(); i += 7)
    garbled[i] = static_cast<char>(garbled[i] ^ 0x5A);
  expect_input_error(file("garbled.onnx", garbled), "a garbled file");
  // The intact copy loads.
  EXPECT_NO_THROW(OnnxNet::load(file("copy.onnx", model), "pool"));
}

// The caption job needs both: SentencePiece's private protobuf copy and the libprotobuf OpenCV's
// dnn loads must not meet (image_encoder/dnn/onnx_dnn_api.h). ctest runs each test in its own
// process, so this one does both, in both orders.
TEST_F(OnnxFileTest, SentencePieceAndTheNetworkWorkInOneProcess) {
  std::string corpus;
  const char* things[] = {"sneaker", "bag", "shirt", "coat", "dress", "sandal", "boot", "trouser"};
  const char* places[] = {"top left", "bottom right", "center", "top right", "bottom left"};
  for (int i = 0; i < 200; ++i)
    corpus += std::string("a ") + things[i % 8] + " in the " + places[i % 5] + " and a " +
              things[(i / 8) % 8] + " below it\n";
  SentencePieceOptions options;
  options.vocab_size = 30;
  train_sentencepiece({{file("captions.txt", corpus), TrainingInput::kWholeLine}}, options,
                      (dir_ / "m").string());
  const Vocab vocab = Vocab::load((dir_ / "m.model").string());
  const std::string text = "a sneaker in the top left";
  EXPECT_EQ(vocab.decode(vocab.encode(text)), text);

  OnnxNet net = OnnxNet::load(tiny_cnn(), "pool");
  const Tensor pixels = random_tensor({1, 3, 16, 16}, DType::f32, 12);
  EXPECT_LT(max_abs_error(net.forward(pixels), reference(pixels, "pool")), 1e-5);

  const Vocab again = Vocab::load((dir_ / "m.model").string());
  EXPECT_EQ(again.decode(again.encode(text)), text);
  EXPECT_LT(max_abs_error(net.forward(pixels), reference(pixels, "pool")), 1e-5);
}

// ---- FrozenCnnEncoder --------------------------------------------------------------------------

FrozenCnnOptions tiny_options(DType dtype, double dropout = 0.0) {
  FrozenCnnOptions o;
  o.onnx = tiny_cnn();
  o.output_layer = "pool";
  o.in_channels = 3;
  o.image_height = 16;
  o.image_width = 16;
  o.output_size = 5;
  o.max_grid_size = 10;
  o.dropout = dropout;
  o.dtype = dtype;
  o.seed = 3;
  return o;
}

Parameter* find(FrozenCnnEncoder& encoder, const std::string& name) {
  for (Parameter* p : encoder.parameters())
    if (p->name == name) return p;
  ADD_FAILURE() << "no parameter " << name;
  return nullptr;
}

TEST(FrozenCnnEncoder, MemoryIsTheProjectedGridOfTheNetworksFeatures) {
  FrozenCnnEncoder encoder(tiny_options(DType::f64));
  EXPECT_EQ(encoder.feature_size(), 4);
  EXPECT_EQ(encoder.memory_size(), 5);
  EXPECT_EQ(encoder.summary_size(), 5);
  EXPECT_EQ(encoder.grid_size(16, 16), (std::pair<int64_t, int64_t>{8, 8}));
  EXPECT_EQ(encoder.grid_size(12, 20), (std::pair<int64_t, int64_t>{6, 10}));
  EXPECT_EQ(encoder.grid_size(12, 20), (std::pair<int64_t, int64_t>{6, 10}));  // cached

  const Tensor pixels = random_tensor({2, 3, 12, 20}, DType::f64, 4);
  const Memory m = encoder.encode(pixels, Tensor(), nullptr);
  const int64_t s = 60, b = 2, d = 5;
  ASSERT_EQ(m.vectors.shape(), (Shape{s, b, d}));
  ASSERT_EQ(m.mask.shape(), (Shape{s, b}));
  ASSERT_EQ(m.summary.shape(), (Shape{b, d}));
  EXPECT_EQ(values(m.mask), std::vector<double>(s * b, 1.0));

  // vectors = feature_grid(project(features)) with the position tables, computed directly.
  const Tensor features = testing::cast(encoder.features(pixels), DType::f64);
  ASSERT_EQ(features.shape(), (Shape{2, 4, 6, 10}));
  EXPECT_LT(max_abs_error(encoder.features(pixels), reference(pixels, "pool")), 1e-5);
  Parameter* weight = find(encoder, "encoder.project.weight");
  Parameter* bias = find(encoder, "encoder.project.bias");
  Parameter* row = find(encoder, "encoder.position.row");
  Parameter* col = find(encoder, "encoder.position.col");
  ASSERT_TRUE(weight && bias && row && col);
  ASSERT_EQ(weight->value.shape(), (Shape{5, 4, 1, 1}));
  ASSERT_EQ(row->value.shape(), (Shape{10, 5}));
  Tensor projected = Tensor::empty({2, 5, 6, 10}, DType::f64);
  ops::conv2d_fwd(features, weight->value, bias->value, {}, projected);
  Tensor expect = Tensor::empty({s, b, d}, DType::f64);
  ops::feature_grid_fwd(projected, row->value, col->value, expect);
  EXPECT_LT(max_abs_error(m.vectors, expect), 1e-12);
  Tensor summary = Tensor::empty({b, d}, DType::f64);
  ops::global_avg_pool_fwd(projected, summary);
  EXPECT_LT(max_abs_error(m.summary, summary), 1e-12);
}

TEST(FrozenCnnEncoder, GradientsOfTheTrainablePartMatchCentralDifferences) {
  for (const double dropout : {0.0, 0.4}) {
    FrozenCnnEncoder encoder(tiny_options(DType::f64, dropout));
    Rng init(5);
    init_uniform(find(encoder, "encoder.project.bias")->value, init, 0.5);
    const Tensor pixels = random_tensor({2, 3, 8, 10}, DType::f64, 6);  // grid 4x5
    const Tensor w_vectors = random_tensor({20, 2, 5}, DType::f64, 7);
    const Tensor w_summary = random_tensor({2, 5}, DType::f64, 8);
    auto run = [&](bool backward) {
      Rng rng(11);  // the same dropout mask every evaluation
      const Memory m = encoder.encode(pixels, Tensor(), &rng);
      const double loss =
          testing::weighted_sum(m.vectors, w_vectors) + testing::weighted_sum(m.summary, w_summary);
      if (backward) encoder.backward({w_vectors, w_summary});
      return loss;
    };
    encoder.zero_grad();
    run(true);
    std::vector<std::string> names;
    for (Parameter* p : encoder.parameters()) {
      const Tensor analytic = p->grad.clone();
      EXPECT_LT(testing::gradient_check([&] { return run(false); }, p->value, analytic), 1e-6)
          << p->name << " dropout " << dropout;
      names.push_back(p->name);
    }
    // Only the projection and the position tables: the network has no parameters here.
    EXPECT_EQ(names, (std::vector<std::string>{"encoder.project.weight", "encoder.project.bias",
                                               "encoder.position.row", "encoder.position.col"}));
  }
}

TEST(FrozenCnnEncoder, TrainingMovesOnlyTheProjectionNeverTheNetwork) {
  FrozenCnnEncoder encoder(tiny_options(DType::f32));
  const Tensor pixels = random_tensor({4, 3, 16, 16}, DType::f32, 9);
  const std::vector<double> features_before = values(encoder.features(pixels));
  const Tensor target = random_tensor({64, 4, 5}, DType::f32, 10);
  // Fit the memory vectors to a target by least squares: the loss must fall.
  auto loss_and_gradient = [&](bool backward) {
    const Memory m = encoder.encode(pixels, Tensor(), nullptr);
    const auto v = values(m.vectors), t = values(target);
    std::vector<float> grad(v.size());
    double loss = 0;
    for (size_t i = 0; i < v.size(); ++i) {
      loss += 0.5 * (v[i] - t[i]) * (v[i] - t[i]);
      grad[i] = static_cast<float>(v[i] - t[i]);
    }
    if (backward) encoder.backward({Tensor::from_vector<float>(grad, m.vectors.shape()), {}});
    return loss;
  };
  const double initial = loss_and_gradient(false);
  Optimizer optimizer;
  for (int step = 0; step < 30; ++step) {
    encoder.zero_grad();
    loss_and_gradient(true);
    optimizer.step(encoder.parameters(), 0.05);
  }
  EXPECT_LT(loss_and_gradient(false), 0.8 * initial);
  EXPECT_EQ(values(encoder.features(pixels)), features_before);  // bit for bit
}

TEST(FrozenCnnEncoder, RejectsBadOptionsLayersAndImages) {
  FrozenCnnOptions o = tiny_options(DType::f32);
  o.onnx = "";
  EXPECT_THROW((FrozenCnnEncoder(o)), ConfigError);
  o = tiny_options(DType::f32);
  o.output_layer = "nope";
  EXPECT_THROW((FrozenCnnEncoder(o)), ConfigError);
  o.output_layer = "embedding";  // 2-D
  EXPECT_THROW((FrozenCnnEncoder(o)), ConfigError);
  o = tiny_options(DType::f32);
  o.onnx = testing::test_data_dir() + "/no_such_model.onnx";
  EXPECT_THROW((FrozenCnnEncoder(o)), InputError);
  o = tiny_options(DType::f32);
  o.max_grid_size = 7;  // 16x16 images give an 8x8 grid
  EXPECT_THROW((FrozenCnnEncoder(o)), ShapeError);
  o = tiny_options(DType::f32);
  o.in_channels = 1;  // the network takes RGB
  EXPECT_THROW((FrozenCnnEncoder(o)), ShapeError);
  o = tiny_options(DType::f32);
  o.dropout = 1.0;
  EXPECT_THROW((FrozenCnnEncoder(o)), ConfigError);

  FrozenCnnEncoder encoder(tiny_options(DType::f32));
  EXPECT_THROW(encoder.grid_size(1, 1), ShapeError);    // no 2x2 pooling window fits
  EXPECT_THROW(encoder.grid_size(32, 16), ShapeError);  // a 16x8 grid > max_grid_size
  EXPECT_THROW(encoder.grid_size(0, 16), ShapeError);
  EXPECT_THROW(encoder.encode(Tensor::zeros({1, 3, 40, 16}), Tensor(), nullptr), ShapeError);
  EXPECT_THROW(encoder.encode(Tensor::zeros({1, 1, 16, 16}), Tensor(), nullptr), ShapeError);
  EXPECT_THROW(encoder.encode(Tensor::zeros({1, 3, 16, 16}, DType::f64), Tensor(), nullptr),
               InvalidArgument);
  EXPECT_THROW(encoder.encode(Tensor::zeros({1, 3, 16, 16}), Tensor::zeros({64, 1}), nullptr),
               InvalidArgument);
  EXPECT_THROW(encoder.backward({}), InvalidArgument);  // no encode yet
  FrozenCnnEncoder dropping(tiny_options(DType::f32, 0.5));
  EXPECT_THROW(dropping.encode(Tensor::zeros({1, 3, 16, 16}), Tensor(), nullptr), InvalidArgument);
  // Evaluation mode needs no rng, and one image is a batch.
  dropping.set_training(false);
  EXPECT_EQ(dropping.encode(Tensor::zeros({1, 3, 16, 16}), Tensor(), nullptr).vectors.shape(),
            (Shape{64, 1, 5}));
}

TEST(MakeImageEncoder, ChoosesTheFrozenNetworkWhenAnOnnxFileIsNamed) {
  ImageEncoderOptions o;
  o.in_channels = 3;
  o.channels = {4, 4};
  o.output_size = 6;
  o.max_grid_size = 8;
  const auto cnn = make_image_encoder(o, "", "", 16, 16);
  ASSERT_NE(dynamic_cast<ImageEncoder*>(cnn.get()), nullptr);
  EXPECT_EQ(image_grid_size(*cnn, 16, 16), (std::pair<int64_t, int64_t>{4, 4}));

  const auto frozen = make_image_encoder(o, tiny_cnn(), "pool", 16, 16);
  auto* f = dynamic_cast<FrozenCnnEncoder*>(frozen.get());
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(frozen->memory_size(), 6);
  EXPECT_EQ(f->options().max_grid_size, 8);
  EXPECT_EQ(image_grid_size(*frozen, 16, 16), (std::pair<int64_t, int64_t>{8, 8}));
  EXPECT_EQ(frozen->parameters().size(), 4u);

  EXPECT_THROW(make_image_encoder(o, "", "pool", 16, 16), ConfigError);  // a layer, no file
}

}  // namespace
}  // namespace s2s
