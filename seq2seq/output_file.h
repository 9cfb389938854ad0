// OutputFile: where a command writes its results. "-" is standard output; a regular file is
// written through AtomicFile, so it appears complete or not at all (never a partial output file);
// an existing device, FIFO or symbolic link (/dev/null, /dev/stdout) is written in place, because
// renaming a temporary over it would replace the device, pipe or link itself.
#pragma once

#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "seq2seq/atomic_file.h"

namespace s2s {

class OutputFile {
 public:
  explicit OutputFile(const std::string& path);  // throws IoError naming the path
  ~OutputFile();                                 // an uncommitted regular file is discarded
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  void write(std::string_view text);  // buffered
  void commit();                      // flushes; a regular file appears now

 private:
  std::string name() const;
  void flush();

  std::string path_;
  std::optional<AtomicFile> file_;
  std::FILE* stream_ = nullptr;
  bool owns_stream_ = false;
  std::string buffer_;
};

}  // namespace s2s
