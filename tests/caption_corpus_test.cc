// Caption data readers: COCO JSON and TSV references, result files, matching results to
// references, and every bad input named by file and line or key. Files are written by the test.
#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>

#include "seq2seq/data/caption_corpus.h"
#include "seq2seq/error.h"

namespace s2s::data {
namespace {

namespace fs = std::filesystem;

class CaptionCorpusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("s2s_captions_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& bytes) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

  // The InputError message of reading path as COCO JSON, or "" if it did not throw.
  std::string coco_error(const std::string& json) {
    const std::string path = write("bad.json", json);
    try {
      read_coco_captions(path);
    } catch (const InputError& e) {
      return e.what();
    }
    return "";
  }
  std::string tsv_error(const std::string& text) {
    const std::string path = write("bad.tsv", text);
    try {
      read_caption_tsv(path);
    } catch (const InputError& e) {
      return e.what();
    }
    return "";
  }

  fs::path dir_;
};

const char* kCoco = R"({"info": {"year": 2026},
 "images": [{"id": 7, "file_name": "a.png", "width": 96},
            {"id": 3, "file_name": "sub/b.png"},
            {"id": 9, "file_name": "/abs/c.png"},
            {"id": 5, "file_name": "no_caption.png"}],
 "annotations": [{"id": 1, "image_id": 3, "caption": "a bag"},
                 {"id": 2, "image_id": 7, "caption": "a coat at the top"},
                 {"id": 3, "image_id": 3, "caption": "one bag"},
                 {"id": 4, "image_id": 9, "caption": "caf\u00e9 \u00fcber"}]})";

TEST_F(CaptionCorpusTest, ReadsCocoJsonResolvingPathsAgainstItsFolder) {
  const std::string path = write("caps.json", kCoco);
  const auto images = read_coco_captions(path);
  ASSERT_EQ(images.size(), 3u);  // the uncaptioned image is dropped
  EXPECT_EQ(images[0].path, (dir_ / "a.png").string());
  EXPECT_EQ(images[0].id, 7);
  EXPECT_EQ(images[0].captions, (std::vector<std::string>{"a coat at the top"}));
  EXPECT_EQ(images[1].path, (dir_ / "sub/b.png").string());
  EXPECT_EQ(images[1].captions, (std::vector<std::string>{"a bag", "one bag"}));
  EXPECT_EQ(images[2].path, "/abs/c.png");
  EXPECT_EQ(images[2].captions[0],
            "caf\xc3\xa9 \xc3\xbc"
            "ber");

  CaptionReadOptions keep;
  keep.drop_uncaptioned = false;
  keep.image_dir = "/images";
  const auto all = read_coco_captions(path, keep);
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0].path, "/images/a.png");
  EXPECT_TRUE(all[3].captions.empty());
  EXPECT_EQ(read_captions(path).size(), 3u);  // detected as JSON by content
}

TEST_F(CaptionCorpusTest, BadCocoJsonNamesFileAndKey) {
  EXPECT_NE(coco_error("").find("bad.json: empty file"), std::string::npos);
  EXPECT_NE(coco_error("  \n").find("empty file"), std::string::npos);
  EXPECT_NE(coco_error("{\"images\": [\n{\"id\": 1,}]}").find("invalid JSON"), std::string::npos);
  EXPECT_NE(coco_error("{\"images\": [\n{\"id\": 1,}]}").find("line 2"), std::string::npos);
  EXPECT_NE(coco_error("{\"images\": [], \"annotations\": [{\"image_id\": 1, \"caption\": "
                       "\"x\n\xff\"}]}")
                .find("bad.json:2: invalid UTF-8"),
            std::string::npos);
  EXPECT_NE(coco_error("[1, 2]").find("expected a JSON object"), std::string::npos);
  EXPECT_NE(coco_error("{\"images\": []}").find("missing key 'annotations'"), std::string::npos);
  EXPECT_NE(coco_error("{\"images\": {}, \"annotations\": []}").find("images: expected an array"),
            std::string::npos);
  EXPECT_NE(coco_error("{\"images\": [{\"id\": \"1\", \"file_name\": \"a\"}], \"annotations\": []}")
                .find("images[0].id: expected an integer, got string"),
            std::string::npos);
  EXPECT_NE(coco_error("{\"images\": [{\"id\": 1}], \"annotations\": []}")
                .find("images[0]: missing key 'file_name'"),
            std::string::npos);
  EXPECT_NE(coco_error("{\"images\": [{\"id\": 1, \"file_name\": \"a\"}, {\"id\": 1, "
                       "\"file_name\": \"b\"}], \"annotations\": []}")
                .find("images[1].id: duplicate image id 1"),
            std::string::npos);
  const std::string image = "{\"images\": [{\"id\": 1, \"file_name\": \"a\"}], \"annotations\": ";
  EXPECT_NE(coco_error(image + "[{\"image_id\": 2, \"caption\": \"x\"}]}")
                .find("annotations[0].image_id: 2 is not the id of any image"),
            std::string::npos);
  EXPECT_NE(coco_error(image + "[{\"image_id\": 1, \"caption\": 5}]}")
                .find("annotations[0].caption: expected a string, got number"),
            std::string::npos);
  EXPECT_NE(coco_error(image + "[{\"image_id\": 1, \"caption\": \" \"}]}")
                .find("annotations[0].caption: empty"),
            std::string::npos);
  EXPECT_NE(coco_error(image + "[{\"image_id\": 1.5, \"caption\": \"x\"}]}")
                .find("annotations[0].image_id: expected an integer"),
            std::string::npos);
  EXPECT_NE(coco_error(image + "[7]}").find("annotations[0]: expected an object"),
            std::string::npos);
  EXPECT_THROW(read_coco_captions((dir_ / "missing.json").string()), IoError);
}

TEST_F(CaptionCorpusTest, ReadsTsvGroupingCaptionsByImage) {
  const std::string path =
      write("caps.tsv", "a.png\ta coat\nb.png\ta bag\r\na.png\tone coat\n/x/c.png\tcaf\xc3\xa9\n");
  const auto images = read_caption_tsv(path);
  ASSERT_EQ(images.size(), 3u);
  EXPECT_EQ(images[0].path, (dir_ / "a.png").string());
  EXPECT_EQ(images[0].captions, (std::vector<std::string>{"a coat", "one coat"}));
  EXPECT_EQ(images[1].captions, (std::vector<std::string>{"a bag"}));
  EXPECT_EQ(images[2].path, "/x/c.png");
  EXPECT_EQ(read_captions(path).size(), 3u);
}

TEST_F(CaptionCorpusTest, BadTsvNamesFileAndLine) {
  EXPECT_NE(tsv_error("").find("bad.tsv: empty file"), std::string::npos);
  EXPECT_NE(tsv_error("a.png\tx\nno tab here\n").find("bad.tsv:2: expected image_path<TAB>"),
            std::string::npos);
  EXPECT_NE(
      tsv_error("a.png\tx\ty\n").find("bad.tsv:1: expected image_path<TAB>caption, found two"),
      std::string::npos);
  EXPECT_NE(tsv_error("\tx\n").find("bad.tsv:1: empty image path"), std::string::npos);
  EXPECT_NE(tsv_error("a.png\t  \n").find("bad.tsv:1: empty caption"), std::string::npos);
  EXPECT_NE(tsv_error("a.png\tok\nb.png\t\xc3(\n").find("bad.tsv:2: invalid UTF-8"),
            std::string::npos);
  EXPECT_NE(tsv_error("a.png\tok\n\n").find("bad.tsv:2: expected"), std::string::npos);
}

TEST_F(CaptionCorpusTest, ReadsResultsAsTsvOrJsonl) {
  const auto tsv = read_caption_results(write("r.tsv", "a.png\ta coat\t-1.5\n\nb.png\ta bag\n"));
  ASSERT_EQ(tsv.size(), 2u);
  EXPECT_EQ(tsv[0].caption, "a coat");
  EXPECT_EQ(tsv[1].line, 3u);
  const auto jsonl = read_caption_results(
      write("r.jsonl",
            "{\"path\": \"a.png\", \"caption\": \"a coat\", \"score\": -1.5}\n"
            "{\"path\": \"b.png\", \"caption\": null, \"error\": \"b.png: truncated PNG\"}\n"));
  ASSERT_EQ(jsonl.size(), 2u);
  EXPECT_EQ(jsonl[0].path, "a.png");
  EXPECT_EQ(jsonl[0].caption, "a coat");
  EXPECT_EQ(jsonl[1].error, "b.png: truncated PNG");
  EXPECT_EQ(jsonl[1].caption, "");

  const auto error_of = [&](const std::string& text) -> std::string {
    try {
      read_caption_results(write("bad.jsonl", text));
    } catch (const InputError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(error_of("").find("no captions"), std::string::npos);
  EXPECT_NE(error_of("{\"path\": \"a\", \"caption\": \"x\"}\n{\"path\": 1}\n")
                .find("bad.jsonl:2: path: expected a string"),
            std::string::npos);
  EXPECT_NE(error_of("{\"path\": \"a\"}\n").find("bad.jsonl:1: missing key 'caption'"),
            std::string::npos);
  EXPECT_NE(error_of("{\"path\": \"a\", \"caption\": [1]}\n").find("caption: expected a string"),
            std::string::npos);
  EXPECT_NE(
      error_of("{\"path\": \"a\", \"caption\": \"x\"}\n{oops\n").find("bad.jsonl:2: invalid JSON"),
      std::string::npos);
  EXPECT_NE(error_of("a.png\tok\nb.png\n").find("bad.jsonl:2: expected path<TAB>caption"),
            std::string::npos);
  EXPECT_NE(error_of("a.png\t\xff\n").find("bad.jsonl:1: invalid UTF-8"), std::string::npos);
}

TEST_F(CaptionCorpusTest, MatchesResultsToReferencesByPath) {
  const std::vector<CaptionedImage> refs = {{"/data/test/0001.png", {"r1"}, 1},
                                            {"/data/test/0002.png", {"r2", "r2b"}, 2},
                                            {"/data/dev/0002.png", {"r3"}, 3}};
  // Absolute, a unique suffix, an n-best second entry (ignored).
  std::vector<CaptionResult> results = {{"/data/test/../test/0001.png", "h1", "", 1},
                                        {"dev/0002.png", "h3", "", 2},
                                        {"dev/0002.png", "worse", "", 3}};
  const MatchedCaptions partial = match_captions(results, "hyp.tsv", refs, true);
  EXPECT_EQ(partial.missing, 1u);
  EXPECT_EQ(partial.hypotheses, (std::vector<std::string>{"h1", "h3"}));
  EXPECT_EQ(partial.references[1], (std::vector<std::string>{"r3"}));
  try {
    match_captions(results, "hyp.tsv", refs);
    FAIL() << "a missing image was not reported";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("no caption for 1 of 3 reference images, the first "
                                         "'/data/test/0002.png'"),
              std::string::npos);
  }
  results.push_back({"test/0002.png", "", "cannot decode", 4});
  const MatchedCaptions all = match_captions(results, "hyp.tsv", refs);
  EXPECT_EQ(all.failed, 1u);
  EXPECT_EQ(all.hypotheses[1], "");

  const auto error_of = [&](const std::string& path) -> std::string {
    try {
      match_captions({{path, "x", "", 7}}, "hyp.tsv", refs, true);
    } catch (const InputError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(error_of("0002.png").find("hyp.tsv:7: '0002.png' matches several"), std::string::npos);
  EXPECT_NE(error_of("other.png").find("hyp.tsv:7: 'other.png' is not an image of the references"),
            std::string::npos);
}

}  // namespace
}  // namespace s2s::data
