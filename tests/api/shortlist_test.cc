// api::Shortlist: the union a batch may produce (its sources' lists, the frequent pieces, EOS and
// UNK; sorted, unique), the file's round trip, and every malformed file refused by name.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "seq2seq/api/shortlist.h"
#include "seq2seq/error.h"
#include "seq2seq/safetensors.h"

namespace s2s::api {
namespace {

namespace fs = std::filesystem;

class ShortlistTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("s2s_shortlist_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::vector<std::pair<std::string, Tensor>>& tensors) {
    const std::string path = (dir_ / "shortlist.safetensors").string();
    save_safetensors(path, tensors);
    return path;
  }
  fs::path dir_;
};

// A vocabulary of 10 pieces (0-3 special), 2 candidates each.
Tensor candidates() {
  return Tensor::from_vector<int32_t>({-1, -1, -1, -1, -1, -1, -1, -1,  // 0-3: specials
                                       5,  6,  7,  -1, 8,  9,  8,  5,  6, 4, 9, 8},
                                      {10, 2});
}

TEST_F(ShortlistTest, AllowedIsTheSortedUnionWithFrequentEosAndUnk) {
  const std::string path =
      write({{"candidates", candidates()}, {"frequent", Tensor::from_vector<int32_t>({9}, {1})}});
  const Shortlist s = Shortlist::load(path, 10);
  EXPECT_EQ(s.candidates(), 2);
  EXPECT_EQ(s.frequent(), 1);
  const std::vector<int32_t> a = {4, 5}, b = {5, 7};
  EXPECT_EQ(s.allowed({&a}), (std::vector<int32_t>{1, 3, 5, 6, 7, 9}));
  EXPECT_EQ(s.allowed({&a, &b}), (std::vector<int32_t>{1, 3, 5, 6, 7, 8, 9}));
  const std::vector<int32_t> none;
  EXPECT_EQ(s.allowed({&none}), (std::vector<int32_t>{1, 3, 9}));
  // Saved and loaded again: the same lists.
  const std::string again = (dir_ / "again.safetensors").string();
  s.save(again);
  EXPECT_EQ(Shortlist::load(again, 10).allowed({&a, &b}), s.allowed({&a, &b}));
}

TEST_F(ShortlistTest, MalformedFilesAreRefusedByName) {
  auto refused = [&](const std::vector<std::pair<std::string, Tensor>>& tensors, int64_t vocab,
                     const std::string& says) {
    const std::string path = write(tensors);
    try {
      Shortlist::load(path, vocab);
      ADD_FAILURE() << "loaded; expected an error saying " << says;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("shortlist.safetensors"), std::string::npos) << e.what();
    }
  };
  const Tensor frequent = Tensor::from_vector<int32_t>({9}, {1});
  refused({{"frequent", frequent}}, 10, "no 'candidates'");
  refused({{"candidates", candidates()}}, 10, "no 'frequent'");
  refused({{"candidates", candidates()}, {"frequent", frequent}}, 12, "vocabulary of 10");
  refused({{"candidates", Tensor::zeros({10, 2})}, {"frequent", frequent}}, 10, "i32");
  Tensor bad = candidates();
  bad.data<int32_t>()[9] = 10;
  refused({{"candidates", bad}, {"frequent", frequent}}, 10, "outside the vocabulary");
  refused({{"candidates", candidates()}, {"frequent", Tensor::from_vector<int32_t>({-1}, {1})}}, 10,
          "outside the vocabulary");
}

}  // namespace
}  // namespace s2s::api
