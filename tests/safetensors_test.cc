// safetensors: round trips, atomic replacement, and every kind of bad file.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "seq2seq/atomic_file.h"
#include "seq2seq/safetensors.h"
#include "tests/test_util.h"

namespace s2s {
namespace {

namespace fs = std::filesystem;

class SafetensorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("s2s_safetensors_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // Writes raw bytes: an 8-byte length then header then data.
  std::string write_raw(const std::string& header, const std::string& data,
                        int64_t length_override = -1) {
    std::string bytes;
    uint64_t len = length_override >= 0 ? static_cast<uint64_t>(length_override) : header.size();
    for (int i = 0; i < 8; ++i)
      bytes.push_back(static_cast<char>((len >> (8 * i)) & 0xff));
    bytes += header + data;
    const std::string p = path("raw.safetensors");
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }

  void expect_input_error(const std::string& p, const std::string& fragment) {
    try {
      load_safetensors(p);
      FAIL() << "expected InputError containing '" << fragment << "'";
    } catch (const InputError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(fragment), std::string::npos) << what;
      EXPECT_NE(what.find(p), std::string::npos) << "message does not name the file: " << what;
    }
  }

  fs::path dir_;
};

TEST_F(SafetensorsTest, RoundTripsEveryDtypeViewsAndMetadata) {
  Tensor big = testing::random_tensor({4, 3}, DType::f32, 1);
  Tensor f64 = testing::random_tensor({2, 2, 2}, DType::f64, 2);
  Tensor ids = Tensor::from_vector<int32_t>({-1, 0, 7, 123456}, {4});
  Tensor scalar = Tensor::from_vector<float>({3.5f}, {});
  Tensor empty = Tensor::zeros({0, 5});
  const std::string p = path("model.safetensors");
  save_safetensors(p,
                   {{"encoder.w", big.slice(1, 3)},  // a view: only its rows are written
                    {"decoder.v", f64},
                    {"ids", ids},
                    {"scalar", scalar},
                    {"empty", empty}},
                   {{"format", "s2s"}, {"step", "42"}});
  SafetensorsContents c = load_safetensors(p);
  ASSERT_EQ(c.tensors.size(), 5u);
  EXPECT_EQ(c.tensors.at("encoder.w").shape(), (Shape{2, 3}));
  EXPECT_EQ(c.tensors.at("encoder.w").to_vector<float>(), big.slice(1, 3).to_vector<float>());
  EXPECT_EQ(c.tensors.at("decoder.v").to_vector<double>(), f64.to_vector<double>());
  EXPECT_EQ(c.tensors.at("ids").to_vector<int32_t>(), ids.to_vector<int32_t>());
  EXPECT_EQ(c.tensors.at("scalar").rank(), 0);
  EXPECT_EQ(c.tensors.at("empty").shape(), (Shape{0, 5}));
  EXPECT_EQ(c.metadata.at("step"), "42");
  // The header is padded so that the data starts 8-byte aligned.
  std::ifstream in(p, std::ios::binary);
  uint64_t len = 0;
  in.read(reinterpret_cast<char*>(&len), 8);
  EXPECT_EQ(len % 8, 0u);
}

TEST_F(SafetensorsTest, RejectsBadNamesWithoutTouchingTheOldFile) {
  const std::string p = path("model.safetensors");
  save_safetensors(p, {{"a", Tensor::zeros({2})}});
  const auto before = fs::file_size(p);
  EXPECT_THROW(save_safetensors(p, {{"a", Tensor::zeros({3})}, {"a", Tensor::zeros({3})}}),
               InvalidArgument);
  EXPECT_THROW(save_safetensors(p, {{"", Tensor::zeros({3})}}), InvalidArgument);
  EXPECT_EQ(fs::file_size(p), before);
  EXPECT_EQ(load_safetensors(p).tensors.at("a").numel(), 2);
}

TEST_F(SafetensorsTest, UncommittedAtomicFileLeavesOldContentsAndNoTemporary) {
  const std::string p = path("state.yaml");
  write_file_atomically(p, "step: 1\n");
  {
    AtomicFile f(p);
    f.write("step: 2, half written");
    // destroyed without commit: a crash or an exception mid-write
  }
  std::ifstream in(p);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(text, "step: 1\n");
  int files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_))
    ++files;
  EXPECT_EQ(files, 1) << "a temporary file was left behind";
}

TEST_F(SafetensorsTest, UnwritableFolderIsAnIoErrorNamingThePath) {
  const std::string p = path("no/such/folder/model.safetensors");
  try {
    save_safetensors(p, {{"a", Tensor::zeros({2})}});
    FAIL();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("no/such/folder"), std::string::npos) << e.what();
  }
}

TEST_F(SafetensorsTest, MissingFileIsAnIoError) {
  EXPECT_THROW(load_safetensors(path("absent.safetensors")), IoError);
}

TEST_F(SafetensorsTest, EmptyAndTruncatedFiles) {
  const std::string empty = path("empty.safetensors");
  std::ofstream(empty).close();
  expect_input_error(empty, "truncated");

  const std::string p = path("model.safetensors");
  save_safetensors(p, {{"w", testing::random_tensor({16, 16}, DType::f32, 3)}});
  fs::resize_file(p, fs::file_size(p) - 10);
  expect_input_error(p, "outside");
  fs::resize_file(p, 20);
  expect_input_error(p, "past the end");
}

TEST_F(SafetensorsTest, HugeHeaderLengthIsRejectedBeforeAllocating) {
  expect_input_error(write_raw("{}", "", int64_t{1} << 62), "implausible");
}

TEST_F(SafetensorsTest, InvalidJsonAndInvalidUtf8) {
  expect_input_error(write_raw("{\"a\": [", ""), "not valid JSON");
  expect_input_error(write_raw("{\"\xff\xfe\": 1}", ""), "not valid JSON");
  expect_input_error(write_raw("[1, 2]", ""), "not a JSON object");
}

TEST_F(SafetensorsTest, WrongTypesAndInconsistentEntries) {
  const std::string data(16, '\0');
  expect_input_error(
      write_raw(R"({"w": {"dtype": "BF16", "shape": [4], "data_offsets": [0, 8]}})", data),
      "unsupported dtype");
  expect_input_error(
      write_raw(R"({"w": {"dtype": "F32", "shape": "4", "data_offsets": [0, 16]}})", data),
      "shape");
  expect_input_error(
      write_raw(R"({"w": {"dtype": "F32", "shape": [-4], "data_offsets": [0, 16]}})", data),
      "invalid dimension");
  expect_input_error(
      write_raw(R"({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 16]}})", data),
      "needs 12 bytes");
  expect_input_error(
      write_raw(R"({"w": {"dtype": "F32", "shape": [8], "data_offsets": [0, 32]}})", data),
      "outside");
  expect_input_error(write_raw(R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                   "v": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})",
                               data),
                     "share bytes");
  expect_input_error(write_raw(R"({"w": 5})", data), "needs dtype");
  expect_input_error(write_raw(R"({"__metadata__": {"k": 1}})", data), "not a string");
}

}  // namespace
}  // namespace s2s
