// api::Captioner: the same captions as `s2s caption`, from files or from the same pixels in
// memory (uint8 gray, RGB, RGBA, floats), n-best with attention over the feature grid, and
// per-image errors that leave the rest of the batch captioned.
#include "seq2seq/api/captioner.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <opencv2/imgcodecs.hpp>

#include "seq2seq/error.h"
#include "tests/api/api_models.h"

namespace s2s::api {
namespace {

namespace fs = std::filesystem;

std::string number(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.4f", value);
  return buffer;
}

std::vector<std::string> test_images() {
  return list_image_files({test::caption_images()}, false);
}

TEST(CaptionerTest, EqualsTheCli) {
  const std::string& model = test::caption_model();
  const Captioner captioner(model);
  int status = -1;
  const std::vector<std::string> cli = test::split_lines(test::run_command(
      test::s2s_binary() + " caption -m " + model + " " + test::caption_images() + " 2>/dev/null",
      &status));
  ASSERT_EQ(status, 0);
  const std::vector<std::string> paths = test_images();
  ASSERT_EQ(paths.size(), 8u);
  for (int64_t batch : {1, 3, 32}) {
    CaptionOptions options = captioner.default_options();
    options.batch_size = batch;
    const std::vector<CaptionResult> results = captioner.caption(paths, options);
    std::vector<std::string> api;
    for (size_t i = 0; i < results.size(); ++i) {
      ASSERT_TRUE(results[i].ok()) << results[i].error;
      api.push_back(paths[i] + "\t" + results[i].captions.at(0).text + "\t" +
                    number(results[i].captions[0].score));
    }
    EXPECT_EQ(api, cli) << "batch " << batch;
  }
}

TEST(CaptionerTest, PixelsInMemoryCaptionAsTheirFile) {
  const Captioner captioner(test::caption_model());
  CaptionOptions options = captioner.default_options();
  options.n_best = 2;
  options.attention = true;
  const std::vector<std::string> paths = test_images();
  const std::vector<CaptionResult> from_files = captioner.caption(paths, options);
  // The same pixels as gray uint8, as RGB and RGBA uint8 (gray copied to every channel, opaque),
  // and as floats in [0, 1].
  std::vector<cv::Mat> gray, rgb, rgba, floats;
  std::vector<ImageView> views[4];
  for (const std::string& path : paths) {
    gray.push_back(cv::imread(path, cv::IMREAD_UNCHANGED));
    ASSERT_EQ(gray.back().channels(), 1);
    cv::Mat planes3[] = {gray.back(), gray.back(), gray.back()};
    cv::Mat alpha(gray.back().size(), CV_8U, cv::Scalar(255));
    cv::Mat planes4[] = {gray.back(), gray.back(), gray.back(), alpha};
    rgb.emplace_back(), rgba.emplace_back(), floats.emplace_back();
    cv::merge(planes3, 3, rgb.back());
    cv::merge(planes4, 4, rgba.back());
    gray.back().convertTo(floats.back(), CV_32F, 1.0 / 255);
  }
  for (size_t i = 0; i < paths.size(); ++i) {
    const auto view = [](const cv::Mat& m, bool is_float) {
      return ImageView{m.data, m.rows, m.cols, m.channels(), is_float};
    };
    views[0].push_back(view(gray[i], false));
    views[1].push_back(view(rgb[i], false));
    views[2].push_back(view(rgba[i], false));
    views[3].push_back(view(floats[i], true));
  }
  for (int kind = 0; kind < 4; ++kind) {
    const std::vector<CaptionResult> from_memory = captioner.caption(views[kind], options);
    ASSERT_EQ(from_memory.size(), from_files.size());
    for (size_t i = 0; i < paths.size(); ++i) {
      ASSERT_TRUE(from_memory[i].ok()) << from_memory[i].error;
      ASSERT_EQ(from_memory[i].captions.size(), 2u);
      for (size_t r = 0; r < 2; ++r) {
        EXPECT_EQ(from_memory[i].captions[r].text, from_files[i].captions[r].text)
            << "kind " << kind << ", image " << i;
        // Float pixels are the file's bytes / 255: the same to rounding.
        EXPECT_NEAR(from_memory[i].captions[r].score, from_files[i].captions[r].score,
                    kind == 3 ? 1e-4 : 0.0);
      }
    }
  }
  // Attention: one grid per word and EOS, each a distribution over the cells.
  const auto [grid_h, grid_w] = captioner.grid_size();
  const Caption& best = from_files[0].captions[0];
  ASSERT_EQ(best.attention.size(), best.words.size() + 1);
  for (const std::vector<float>& weights : best.attention) {
    ASSERT_EQ(static_cast<int64_t>(weights.size()), grid_h * grid_w);
    double sum = 0;
    for (float w : weights)
      sum += w;
    EXPECT_NEAR(sum, 1.0, 1e-4);
  }
  const std::string out = test::scratch_folder("maps") + "/map.png";
  captioner.write_attention_map(paths[0], best, out);
  EXPECT_GT(fs::file_size(out), 100u);
}

// Attention looks where the square is: a decoder that starts from a zero state (it is told
// nothing of the image) must find the square before it can say where it is, so the first words'
// attention — the first panels of the attention map — peaks on a cell of the square's quadrant
// of the 4x4 feature grid, for every test image. (With the default init_state summary, the tiny
// model reads the place from the memory's mean, and its attention need not look there.)
TEST(CaptionerTest, AttentionPeaksOnTheSquare) {
  const Captioner captioner(test::caption_model_attending());
  const auto [grid_h, grid_w] = captioner.grid_size();
  ASSERT_EQ(grid_h, 4);
  ASSERT_EQ(grid_w, 4);
  // test.tsv: "test/003.png<TAB>the bottom right has a square".
  const fs::path data = fs::path(test::caption_images()).parent_path();
  std::map<std::string, std::string> place_of;
  for (const std::string& line :
       test::split_lines(test::run_command("cat " + (data / "test.tsv").string())))
    place_of[(data / line.substr(0, line.find('\t'))).string()] = line.substr(line.find('\t') + 1);
  CaptionOptions options = captioner.default_options();
  options.attention = true;
  const std::vector<std::string> paths = test_images();
  const std::vector<CaptionResult> results = captioner.caption(paths, options);
  for (size_t i = 0; i < paths.size(); ++i) {
    const std::string& place = place_of.at(paths[i]);
    const bool bottom = place.find("bottom") != std::string::npos;
    const bool right = place.find("right") != std::string::npos;
    const Caption& best = results[i].captions.at(0);
    ASSERT_GE(best.attention.size(), 2u);
    for (size_t u = 0; u < 2; ++u) {
      const std::vector<float>& a = best.attention[u];
      const int64_t cell = std::max_element(a.begin(), a.end()) - a.begin();
      const int64_t row = cell / grid_w, col = cell % grid_w;
      EXPECT_EQ(row >= grid_h / 2, bottom) << paths[i] << " (" << place << "), word " << u << " '"
                                           << best.words[u] << "' peaks on row " << row;
      EXPECT_EQ(col >= grid_w / 2, right) << paths[i] << " (" << place << "), word " << u << " '"
                                          << best.words[u] << "' peaks on column " << col;
    }
  }
}

TEST(CaptionerTest, BadImagesFailAlone) {
  const Captioner captioner(test::caption_model());
  const std::string dir = test::scratch_folder("bad_images");
  std::ofstream(dir + "/empty.png");
  std::ofstream(dir + "/text.jpg") << "not a picture";
  std::vector<std::string> paths = test_images();
  paths.insert(paths.begin() + 1, dir + "/empty.png");
  paths.push_back(dir + "/text.jpg");
  const std::vector<CaptionResult> results = captioner.caption(paths, captioner.default_options());
  ASSERT_EQ(results.size(), 10u);
  for (size_t i = 0; i < results.size(); ++i) {
    const bool bad = paths[i].starts_with(dir);
    EXPECT_EQ(results[i].ok(), !bad) << paths[i] << ": " << results[i].error;
    EXPECT_EQ(results[i].captions.empty(), bad) << paths[i];
    if (bad) {
      EXPECT_NE(results[i].error.find(paths[i]), std::string::npos) << results[i].error;
    }
  }
  // Wrong shapes of in-memory images.
  const unsigned char pixels[12] = {};
  const std::vector<CaptionResult> wrong =
      captioner.caption(std::vector<ImageView>{{pixels, 2, 2, 2, false},
                                               {nullptr, 2, 2, 3, false},
                                               {pixels, 0, 4, 1, false},
                                               {pixels, 2, 2, 3, false}},
                        captioner.default_options());
  EXPECT_NE(wrong[0].error.find("channels"), std::string::npos) << wrong[0].error;
  EXPECT_NE(wrong[1].error.find("no pixel data"), std::string::npos) << wrong[1].error;
  EXPECT_FALSE(wrong[2].ok());
  EXPECT_TRUE(wrong[3].ok()) << wrong[3].error;
  EXPECT_THROW(Captioner(test::translation_model()), InputError);  // not a caption model
  EXPECT_THROW(list_image_files({dir + "/missing"}, false), InputError);
}

// As TranslatorTest.ADamagedConfigIsNamedAsDamaged: the manifest is checked before config.yaml
// is read.
TEST(CaptionerTest, ADamagedConfigIsNamedAsDamaged) {
  const std::string model =
      test::copy_with_damaged_config(test::caption_model(), "damaged_caption");
  try {
    const Captioner captioner(model);
    FAIL() << "a damaged config.yaml loaded";
  } catch (const IntegrityError& e) {
    EXPECT_NE(std::string(e.what()).find("config.yaml"), std::string::npos) << e.what();
  }
  fs::remove(model + "/.complete");
  EXPECT_THROW(Captioner{model}, ConfigError);
}

}  // namespace
}  // namespace s2s::api
