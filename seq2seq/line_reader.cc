// LineReader: buffered line reading with UTF-8 validation.
#include "seq2seq/line_reader.h"

#include <cerrno>
#include <cstring>

#include "seq2seq/error.h"
#include "seq2seq/utf8.h"

namespace s2s {

LineReader::LineReader(std::string path, size_t max_line_bytes)
    : path_(std::move(path)), max_line_bytes_(max_line_bytes) {
  if (path_ == "-") {
    file_ = stdin;
  } else {
    file_ = std::fopen(path_.c_str(), "rb");
    if (!file_) throw IoError("cannot open '" + path_ + "': " + std::strerror(errno));
    owns_file_ = true;
  }
}

LineReader::~LineReader() {
  if (owns_file_) std::fclose(file_);
}

std::string LineReader::location() const {
  return (path_ == "-" ? std::string("<stdin>") : path_) + ":" + std::to_string(line_number_);
}

bool LineReader::next(std::string& line) {
  line.clear();
  int c;
  bool any = false;
  while ((c = std::getc(file_)) != EOF) {
    any = true;
    if (c == '\n') break;
    if (line.size() >= max_line_bytes_) {
      // Consume the rest of the line first, so a caller that skips bad lines goes on at the
      // next line with the right number.
      while ((c = std::getc(file_)) != EOF && c != '\n') {
      }
      ++line_number_;
      line.clear();
      throw InputError(location() + ": line longer than " + std::to_string(max_line_bytes_) +
                       " bytes");
    }
    line.push_back(static_cast<char>(c));
  }
  if (std::ferror(file_)) throw IoError("cannot read '" + path_ + "': " + std::strerror(errno));
  if (!any) return false;
  ++line_number_;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  size_t bad = 0;
  if (!is_valid_utf8(line, &bad))
    throw InputError(location() + ": invalid UTF-8 at byte " + std::to_string(bad + 1));
  return true;
}

std::vector<std::string> read_lines(const std::string& path) {
  LineReader reader(path);
  std::vector<std::string> lines;
  std::string line;
  while (reader.next(line))
    lines.push_back(line);
  return lines;
}

}  // namespace s2s
