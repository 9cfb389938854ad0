// Image loading: exact pixel values through color conversion, alpha, resize modes and
// normalization; header probing of every format OpenCV writes here; augmentation; and every bad
// input of the issue (zero bytes, a text file named .jpg, truncated JPEG and PNG, a 1x1 image,
// a 10000x10000 image, a non-image file) as an InputError naming the file. The test writes its
// images with OpenCV (the only test that includes it) into a temporary folder.
#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "image_encoder/image_io.h"
#include "seq2seq/error.h"

namespace s2s {
namespace {

namespace fs = std::filesystem;

class ImageLoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("s2s_images_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string image(const std::string& name, const cv::Mat& m) {
    const std::string path = (dir_ / name).string();
    EXPECT_TRUE(cv::imwrite(path, m)) << path;
    return path;
  }
  std::string bytes(const std::string& name, const std::string& content) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  static std::string read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  // The InputError message of loading path, or "" when it loaded.
  static std::string error_of(const std::string& path, const ImageOptions& options) {
    try {
      load_image(path, options);
    } catch (const InputError& e) {
      return e.what();
    }
    return "";
  }

  fs::path dir_;
};

ImageOptions sized(int channels, int height, int width) {
  ImageOptions o;
  o.channels = channels;
  o.height = height;
  o.width = width;
  return o;
}

float at(const Tensor& t, int c, int y, int x) {
  return t.data<float>()[(c * t.dim(1) + y) * t.dim(2) + x];
}

TEST_F(ImageLoaderTest, ColorImageComesOutRgbInChannelsFirstOrder) {
  cv::Mat m(2, 3, CV_8UC3, cv::Scalar(0, 0, 0));  // OpenCV: BGR
  m.at<cv::Vec3b>(0, 0) = {255, 0, 0};            // blue
  m.at<cv::Vec3b>(1, 2) = {0, 0, 255};            // red
  m.at<cv::Vec3b>(0, 1) = {0, 51, 0};             // dark green
  const std::string path = image("rgb.png", m);
  const Tensor t = load_image(path, sized(3, 2, 3));
  ASSERT_EQ(t.shape(), (Shape{3, 2, 3}));
  EXPECT_FLOAT_EQ(at(t, 2, 0, 0), 1.0f);  // B
  EXPECT_FLOAT_EQ(at(t, 0, 0, 0), 0.0f);
  EXPECT_FLOAT_EQ(at(t, 0, 1, 2), 1.0f);  // R
  EXPECT_FLOAT_EQ(at(t, 1, 0, 1), 0.2f);  // G = 51 / 255
  // Grayscale output: ITU-R 601 luma of red.
  const Tensor g = load_image(path, sized(1, 2, 3));
  EXPECT_NEAR(at(g, 0, 1, 2), 0.299f, 0.003f);
}

TEST_F(ImageLoaderTest, GrayImageIsReplicatedAndNormalizedPerChannel) {
  cv::Mat m(2, 2, CV_8UC1, cv::Scalar(0));
  m.at<uint8_t>(1, 1) = 255;
  ImageOptions o = sized(3, 2, 2);
  o.mean = {0.5f, 0.0f, 1.0f};
  o.std = {0.5f, 2.0f, 1.0f};
  const Tensor t = load_image(image("gray.png", m), o);
  EXPECT_FLOAT_EQ(at(t, 0, 1, 1), 1.0f);   // (1 - 0.5) / 0.5
  EXPECT_FLOAT_EQ(at(t, 1, 1, 1), 0.5f);   // (1 - 0) / 2
  EXPECT_FLOAT_EQ(at(t, 2, 1, 1), 0.0f);   // (1 - 1) / 1
  EXPECT_FLOAT_EQ(at(t, 0, 0, 0), -1.0f);  // (0 - 0.5) / 0.5
}

TEST_F(ImageLoaderTest, AlphaIsCompositedOnWhiteOrDropped) {
  cv::Mat m(1, 2, CV_8UC4, cv::Scalar(0, 0, 0, 255));
  m.at<cv::Vec4b>(0, 1) = {0, 0, 0, 0};  // transparent black
  const std::string path = image("rgba.png", m);
  ImageOptions o = sized(3, 1, 2);
  const Tensor white = load_image(path, o);
  EXPECT_FLOAT_EQ(at(white, 0, 0, 0), 0.0f);  // opaque black stays black
  EXPECT_FLOAT_EQ(at(white, 0, 0, 1), 1.0f);  // transparent -> white
  o.alpha = AlphaMode::drop;
  EXPECT_FLOAT_EQ(at(load_image(path, o), 0, 0, 1), 0.0f);
  // Half-transparent 16-bit gray + alpha written as 16-bit BGRA: 50% over white.
  cv::Mat m16(1, 1, CV_16UC4, cv::Scalar(0, 0, 0, 32768));
  const Tensor half = load_image(image("rgba16.png", m16), sized(1, 1, 1));
  EXPECT_NEAR(at(half, 0, 0, 0), 0.5f, 1e-3f);
}

TEST_F(ImageLoaderTest, PadKeepsAspectAndCropCutsTheCenter) {
  // 8 wide, 4 high: left half 0, right half 255.
  cv::Mat m(4, 8, CV_8UC1, cv::Scalar(0));
  m(cv::Rect(4, 0, 4, 4)) = 255;
  const std::string path = image("wide.png", m);
  ImageOptions o = sized(1, 8, 8);
  o.pad_value = 0.25f;
  const Tensor padded = load_image(path, o);  // 8 x 4 placed in rows 2..5
  EXPECT_FLOAT_EQ(at(padded, 0, 0, 0), 0.25f);
  EXPECT_FLOAT_EQ(at(padded, 0, 1, 7), 0.25f);
  EXPECT_FLOAT_EQ(at(padded, 0, 2, 0), 0.0f);
  EXPECT_FLOAT_EQ(at(padded, 0, 5, 7), 1.0f);
  EXPECT_FLOAT_EQ(at(padded, 0, 6, 7), 0.25f);
  o = sized(1, 4, 4);
  o.resize = ResizeMode::crop;  // covers 4 x 4 by the center of the 8 x 4: columns 2..5
  const Tensor cropped = load_image(path, o);
  EXPECT_FLOAT_EQ(at(cropped, 0, 0, 0), 0.0f);
  EXPECT_FLOAT_EQ(at(cropped, 0, 0, 1), 0.0f);
  EXPECT_FLOAT_EQ(at(cropped, 0, 3, 2), 1.0f);
  EXPECT_FLOAT_EQ(at(cropped, 0, 3, 3), 1.0f);
}

TEST_F(ImageLoaderTest, OneByOneImageFillsTheTarget) {
  cv::Mat m(1, 1, CV_8UC3, cv::Scalar(0, 102, 255));
  const Tensor t = load_image(image("one.png", m), sized(3, 96, 96));
  for (int y : {0, 50, 95})
    for (int x : {0, 37, 95}) {
      EXPECT_FLOAT_EQ(at(t, 0, y, x), 1.0f);
      EXPECT_FLOAT_EQ(at(t, 1, y, x), 0.4f);
      EXPECT_FLOAT_EQ(at(t, 2, y, x), 0.0f);
    }
}

TEST_F(ImageLoaderTest, ReadsTheHeaderOfEveryFormatWrittenHere) {
  cv::Mat m(5, 7, CV_8UC3, cv::Scalar(10, 200, 30));
  for (const std::string ext : {"png", "jpg", "bmp", "tiff", "webp", "ppm", "pgm", "ras", "pfm"}) {
    cv::Mat written = m;
    if (ext == "pgm") cv::cvtColor(m, written, cv::COLOR_BGR2GRAY);
    if (ext == "pfm") m.convertTo(written, CV_32F, 1.0 / 255);
    const std::string path = image("small." + ext, written);
    const auto header = read_image_header(read(path));
    ASSERT_TRUE(header.has_value()) << ext;
    EXPECT_EQ(header->width, 7) << ext;
    EXPECT_EQ(header->height, 5) << ext;
    const Tensor t = load_image(path, sized(3, 5, 7));
    const float green = ext == "pgm" ? at(t, 0, 2, 3) : 200.0f / 255;
    EXPECT_NEAR(at(t, 1, 2, 3), green, 0.03f) << ext;
  }
  EXPECT_FALSE(read_image_header("hello").has_value());
}

TEST_F(ImageLoaderTest, SixteenBitImagesAreScaled) {
  cv::Mat m(1, 1, CV_16UC1, cv::Scalar(65535 / 4));
  EXPECT_NEAR(at(load_image(image("deep.png", m), sized(1, 1, 1)), 0, 0, 0), 0.25f, 1e-4f);
}

TEST_F(ImageLoaderTest, BadFilesAreInputErrorsNamingTheFile) {
  const ImageOptions o = sized(3, 8, 8);
  const std::string zero = bytes("zero.png", "");
  EXPECT_NE(error_of(zero, o).find(zero + ": empty file"), std::string::npos);
  const std::string text = bytes("text.jpg", "this is not a JPEG\n");
  EXPECT_NE(error_of(text, o).find(text + ": not an image"), std::string::npos);
  std::string noise(4096, '\0');
  for (size_t i = 0; i < noise.size(); ++i)
    noise[i] = static_cast<char>((i * 2654435761u) >> 13);
  const std::string binary = bytes("data.bin", noise);
  EXPECT_NE(error_of(binary, o).find(binary + ": not an image"), std::string::npos);
  // A valid 1x1 GIF: OpenCV 4.6 has no GIF decoder, so the message says so.
  const std::string gif =
      bytes("one.gif", std::string("GIF89a\x01\0\x01\0\x80\0\0\xff\xff\xff\0\0\0"
                                   ",\0\0\0\0\x01\0\x01\0\0\x02\x02"
                                   "D\x01\0;",
                                   35));
  EXPECT_NE(error_of(gif, o).find(gif + ": GIF images are not supported"), std::string::npos)
      << error_of(gif, o);
  const std::string missing = (dir_ / "missing.png").string();
  EXPECT_NE(error_of(missing, o).find(missing + ": cannot read"), std::string::npos);
  EXPECT_NE(error_of(dir_.string(), o).find("is a folder"), std::string::npos);

  cv::Mat m(64, 64, CV_8UC3);
  cv::randu(m, 0, 255);  // noise compresses badly, so half a file is far from the end
  const std::string jpeg = read(image("full.jpg", m));
  const std::string cut_jpeg = bytes("cut.jpg", jpeg.substr(0, jpeg.size() / 2));
  EXPECT_NE(error_of(cut_jpeg, o).find(cut_jpeg + ": truncated JPEG"), std::string::npos);
  const std::string png = read(image("full.png", m));
  const std::string cut_png = bytes("cut.png", png.substr(0, png.size() / 2));
  EXPECT_NE(error_of(cut_png, o).find(cut_png + ": truncated PNG"), std::string::npos);
  const std::string header_only = bytes("header.png", png.substr(0, 40));
  EXPECT_NE(error_of(header_only, o).find("truncated PNG"), std::string::npos);
  // A complete PNG whose compressed data is damaged (IEND still there).
  std::string damaged = png;
  for (size_t i = 100; i < 400; ++i)
    damaged[i] = static_cast<char>(~damaged[i]);
  const std::string bad_png = bytes("damaged.png", damaged);
  EXPECT_NE(error_of(bad_png, o).find(bad_png + ": cannot decode"), std::string::npos);
}

// A PNG header claiming 10000 x 10000 pixels (with an IEND, so it is not "truncated"): refused
// from the header, before any decoding.
TEST_F(ImageLoaderTest, HugeImagesAreRefusedOrDecodedReducedFromTheHeader) {
  std::string png = "\x89PNG\r\n\x1a\n";
  png += std::string("\0\0\0\x0dIHDR", 8);
  png += std::string("\0\0\x27\x10\0\0\x27\x10\x08\x00\x00\x00\x00", 13);  // 10000 x 10000, gray
  png += std::string("\0\0\0\0", 4);                                       // CRC (not checked)
  png += std::string("\0\0\0\0IEND\xae\x42\x60\x82", 12);
  const std::string huge = bytes("huge.png", png);
  const auto header = read_image_header(png);
  ASSERT_TRUE(header.has_value());
  EXPECT_EQ(header->width, 10000);
  const std::string message = error_of(huge, sized(3, 8, 8));
  EXPECT_NE(message.find(huge + ": png image of 10000 x 10000 pixels (100.0 M), over the limit"),
            std::string::npos)
      << message;

  // A JPEG over the limit is decoded at 1/2, 1/4 or 1/8 scale: a 64 x 64 one with a limit of
  // 300 pixels comes out of a 16 x 16 decode (1/4), the same picture.
  cv::Mat m(64, 64, CV_8UC3, cv::Scalar(0, 0, 0));
  m(cv::Rect(0, 0, 32, 64)) = cv::Scalar(255, 255, 255);  // left half white
  const std::string jpeg = image("big.jpg", m);
  ImageOptions small = sized(1, 8, 8);
  small.max_pixels = 300;
  const Tensor t = load_image(jpeg, small);
  EXPECT_NEAR(at(t, 0, 4, 1), 1.0f, 0.05f);
  EXPECT_NEAR(at(t, 0, 4, 6), 0.0f, 0.05f);
  small.max_pixels = 40;  // even 8 x 8 (1/8) is over
  EXPECT_NE(error_of(jpeg, small).find("too large even at 1/8 scale"), std::string::npos);
  // The same from a JPEG header patched to claim 10000 x 10000, refused without decoding.
  std::string patched = read(jpeg);
  const size_t sof = patched.find("\xFF\xC0");
  ASSERT_NE(sof, std::string::npos);
  patched.replace(sof + 5, 4, std::string("\x27\x10\x27\x10", 4));
  const std::string huge_jpeg = bytes("huge.jpg", patched);
  ImageOptions tight = sized(3, 8, 8);
  tight.max_pixels = 1'000'000;  // 10000 / 8 = 1250 -> 1.56 M pixels: over
  EXPECT_NE(error_of(huge_jpeg, tight).find("JPEG of 10000 x 10000 pixels (100.0 M), too large"),
            std::string::npos);
}

TEST_F(ImageLoaderTest, BatchKeepsGoingPastBadFiles) {
  cv::Mat m(4, 4, CV_8UC1, cv::Scalar(255));
  const std::vector<std::string> paths = {image("a.png", m), bytes("b.png", ""), image("c.bmp", m)};
  std::vector<std::string> errors;
  const Tensor batch = load_image_batch(paths, sized(1, 4, 4), errors);
  ASSERT_EQ(batch.shape(), (Shape{3, 1, 4, 4}));
  EXPECT_EQ(errors[0], "");
  EXPECT_NE(errors[1].find("b.png: empty file"), std::string::npos);
  EXPECT_EQ(errors[2], "");
  EXPECT_FLOAT_EQ(batch.data<float>()[0], 1.0f);
  EXPECT_FLOAT_EQ(batch.data<float>()[16], 0.0f);  // the failed row is zeros
  EXPECT_FLOAT_EQ(batch.data<float>()[32], 1.0f);
  Tensor wrong = Tensor::zeros({1, 3, 4, 4});
  EXPECT_THROW(load_image_into(paths[0], sized(1, 4, 4), wrong, 0), ShapeError);
}

TEST_F(ImageLoaderTest, AugmentationIsSeededAndFlipsOnlyWhenAsked) {
  cv::Mat m(4, 4, CV_8UC1, cv::Scalar(0));
  m(cv::Rect(0, 0, 1, 4)) = 255;  // the left column white
  const std::string path = image("left.png", m);
  const ImageOptions o = sized(1, 4, 4);
  ImageAugmentation flip;
  flip.horizontal_flip = true;
  int flipped = 0;
  Rng rng(7);
  for (int i = 0; i < 40; ++i) {
    const Tensor t = load_image(path, o, flip, &rng);
    flipped += at(t, 0, 0, 3) == 1.0f;
    EXPECT_EQ(at(t, 0, 0, 0) + at(t, 0, 0, 3), 1.0f);
  }
  EXPECT_GT(flipped, 5);
  EXPECT_LT(flipped, 35);
  EXPECT_EQ(rng.counter(), 40u * 5);  // five draws per image, whatever it is
  // No augmentation: the rng is not touched and the image is as is.
  Rng untouched(7);
  EXPECT_EQ(at(load_image(path, o, {}, &untouched), 0, 0, 0), 1.0f);
  EXPECT_EQ(untouched.counter(), 0u);

  ImageAugmentation crop;
  crop.min_crop_scale = 0.5f;
  Rng a(3), b(3);
  const std::vector<float> first = load_image(path, o, crop, &a).to_vector<float>();
  EXPECT_EQ(first, load_image(path, o, crop, &b).to_vector<float>());  // same seed, same crop
  crop.min_crop_scale = 0.0f;
  EXPECT_THROW(load_image(path, o, crop, &a), ConfigError);
}

TEST(ImageOptions, ValidateNamesTheBadField) {
  ImageOptions o;
  EXPECT_NO_THROW(o.validate());
  o.channels = 4;
  EXPECT_THROW(o.validate(), ConfigError);
  o = ImageOptions();
  o.mean = {0.1f, 0.2f};
  EXPECT_THROW(o.validate(), ConfigError);
  o = ImageOptions();
  o.std = {0.0f};
  EXPECT_THROW(o.validate(), ConfigError);
  EXPECT_EQ(parse_resize_mode("crop"), ResizeMode::crop);
  EXPECT_THROW(parse_resize_mode("stretch"), ConfigError);
  EXPECT_EQ(parse_alpha_mode("drop"), AlphaMode::drop);
  EXPECT_THROW(parse_alpha_mode("black"), ConfigError);
}

}  // namespace
}  // namespace s2s
