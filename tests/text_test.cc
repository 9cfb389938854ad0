// UTF-8 validation, lowercasing and LineReader on good and bad input.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "seq2seq/error.h"
#include "seq2seq/line_reader.h"
#include "seq2seq/utf8.h"

namespace s2s {
namespace {

TEST(Utf8, AcceptsWellFormedAndFindsTheFirstBadByte) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii"));
  EXPECT_TRUE(is_valid_utf8("Grüße, 東京, 😀"));
  size_t at = 99;
  EXPECT_FALSE(is_valid_utf8("ab\xff", &at));
  EXPECT_EQ(at, 2u);
  EXPECT_FALSE(is_valid_utf8("\xc3", &at));              // truncated sequence
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf", &at));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80", &at));      // UTF-16 surrogate
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80", &at));  // past U+10FFFF
  EXPECT_FALSE(is_valid_utf8("x\xe2\x82", &at));
  EXPECT_EQ(at, 1u);
}

TEST(Utf8, LowercasesBeyondAscii) {
  EXPECT_EQ(utf8_lowercase("Hello WORLD"), "hello world");
  EXPECT_EQ(utf8_lowercase("ÄÖÜ Straße ΣΑΣ Ж"), "äöü straße σασ ж");
  EXPECT_EQ(utf8_lowercase("東京 😀"), "東京 😀");
}

class LineReaderTest : public ::testing::Test {
 protected:
  std::string write(const std::string& name, const std::string& bytes) {
    const auto p = std::filesystem::temp_directory_path() / ("s2s_line_reader_" + name);
    std::ofstream(p, std::ios::binary) << bytes;
    paths_.push_back(p);
    return p.string();
  }
  void TearDown() override {
    for (const auto& p : paths_)
      std::filesystem::remove(p);
  }
  std::vector<std::filesystem::path> paths_;
};

TEST_F(LineReaderTest, ReadsLinesWithAndWithoutFinalNewlineAndCrlf) {
  EXPECT_EQ(read_lines(write("a", "one\ntwo\r\n\nlast")),
            (std::vector<std::string>{"one", "two", "", "last"}));
  EXPECT_EQ(read_lines(write("b", "x\n")), (std::vector<std::string>{"x"}));
  EXPECT_TRUE(read_lines(write("empty", "")).empty());
}

TEST_F(LineReaderTest, InvalidUtf8NamesFileLineAndByte) {
  const std::string p = write("bad", "fine\nstill fine\nbroken \xff here\n");
  try {
    read_lines(p);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(p + ":3: invalid UTF-8 at byte 8"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(read_lines(write("trunc", "ok\n\xe6\x9d")), InputError);  // cut mid-character
}

TEST_F(LineReaderTest, OverlongLineIsAnInputError) {
  const std::string p = write("huge", "short\n" + std::string(5000, 'x') + "\n");
  LineReader reader(p, 1000);
  std::string line;
  EXPECT_TRUE(reader.next(line));
  try {
    reader.next(line);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(":2: line longer than 1000 bytes"), std::string::npos)
        << e.what();
  }
}

TEST_F(LineReaderTest, MissingFileIsAnIoErrorNamingIt) {
  try {
    read_lines("/nonexistent/s2s/file.txt");
    FAIL();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/s2s/file.txt"), std::string::npos);
  }
}

}  // namespace
}  // namespace s2s
