// OutputFile: standard output, an atomic regular file, or a special file written in place.
#include "seq2seq/output_file.h"

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "seq2seq/error.h"

namespace s2s {

OutputFile::OutputFile(const std::string& path) : path_(path) {
  std::error_code error;
  const auto status = std::filesystem::symlink_status(path, error);
  if (path == "-") {
    stream_ = stdout;
  } else if (!error && std::filesystem::exists(status) &&
             !std::filesystem::is_regular_file(status)) {
    stream_ = std::fopen(path.c_str(), "wb");
    if (!stream_) throw IoError("cannot open '" + path + "': " + std::strerror(errno));
    owns_stream_ = true;
  } else {
    file_.emplace(path);
  }
}

OutputFile::~OutputFile() {
  if (owns_stream_) std::fclose(stream_);
}

std::string OutputFile::name() const {
  return path_ == "-" ? "standard output" : "'" + path_ + "'";
}

void OutputFile::write(std::string_view text) {
  buffer_ += text;
  if (buffer_.size() >= (1 << 16)) flush();
}

void OutputFile::flush() {
  if (file_) {
    file_->write(buffer_);
  } else if (std::fwrite(buffer_.data(), 1, buffer_.size(), stream_) != buffer_.size()) {
    throw IoError("cannot write to " + name() + ": " + std::strerror(errno));
  }
  buffer_.clear();
}

void OutputFile::commit() {
  flush();
  if (file_) {
    file_->commit();
  } else if (std::fflush(stream_) != 0) {
    throw IoError("cannot write to " + name() + ": " + std::strerror(errno));
  }
}

}  // namespace s2s
