// AtomicFile: writes a file so that a crash at any moment leaves either the old file or the
// complete new one, never a part. Data goes to a temporary name in the same folder; commit()
// flushes, fsyncs, renames over the target and fsyncs the folder. A file never committed (an
// exception, an early return) is removed by the destructor.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace s2s {

class AtomicFile {
 public:
  explicit AtomicFile(std::string path);  // throws IoError naming the path if it cannot create
  ~AtomicFile();                          // removes the temporary file unless committed
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t bytes);  // throws IoError (disk full, ...)
  void write(std::string_view text) { write(text.data(), text.size()); }
  void commit();  // makes the new contents visible under path; throws IoError

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::string temp_path_;
  int fd_ = -1;
  bool committed_ = false;
};

// Writes contents to path atomically.
void write_file_atomically(const std::string& path, std::string_view contents);

}  // namespace s2s
