// LineReader: streams a UTF-8 text file (or standard input, "-") line by line with bounded
// memory, as every corpus and evaluation reader of s2s does. Each line comes without its "\n"
// (or "\r\n"); invalid UTF-8 and over-long lines are InputErrors naming file and line.
#pragma once

#include <cstddef>
#include <cstdio>
#include <string>
#include <vector>

namespace s2s {

class LineReader {
 public:
  static constexpr size_t kDefaultMaxLineBytes = 1 << 20;

  // Opens path ("-": standard input); throws IoError naming it if it cannot.
  explicit LineReader(std::string path, size_t max_line_bytes = kDefaultMaxLineBytes);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // Reads the next line into line; false at the end of the file. After an InputError (invalid
  // UTF-8, over-long line) the reader stands at the next line, so a caller may skip and go on.
  bool next(std::string& line);

  const std::string& path() const { return path_; }
  size_t line_number() const { return line_number_; }  // 1-based number of the last line read
  std::string location() const;                        // "corpus.de:17"

 private:
  std::string path_;
  size_t max_line_bytes_;
  std::FILE* file_ = nullptr;
  bool owns_file_ = false;
  size_t line_number_ = 0;
};

// Every line of a file, validated.
std::vector<std::string> read_lines(const std::string& path);

}  // namespace s2s
