// The exception types of s2s. Everything the library throws derives from s2s::Error, and the
// message names the file, line, key or value at fault. Two families, so callers can tell a
// mistake they can fix in their input (InvalidArgument and its children) from a failure of the
// environment (EnvironmentError: I/O, CUDA).
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace s2s {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The caller's mistake: a bad argument, shape, dtype, configuration value or input line.
class InvalidArgument : public Error {
 public:
  using Error::Error;
};
class ShapeError : public InvalidArgument {
 public:
  using InvalidArgument::InvalidArgument;
};
class ConfigError : public InvalidArgument {
 public:
  using InvalidArgument::InvalidArgument;
};
class InputError : public InvalidArgument {
 public:
  using InvalidArgument::InvalidArgument;
};
// A file of a model or checkpoint folder differs from the checksum the folder's manifest
// recorded (seq2seq/manifest.h): a flipped bit, a truncation or an edit. The message names the
// file.
class IntegrityError : public InputError {
 public:
  using InputError::InputError;
};

// The environment failed: a file could not be read or written, a device call failed, a backend
// is not compiled in.
class EnvironmentError : public Error {
 public:
  using Error::Error;
};
class IoError : public EnvironmentError {
 public:
  using EnvironmentError::EnvironmentError;
};
class CudaError : public EnvironmentError {
 public:
  using EnvironmentError::EnvironmentError;
};
class BackendUnavailable : public EnvironmentError {
 public:
  using EnvironmentError::EnvironmentError;
};

namespace detail {
template <typename... Parts>
std::string concat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}
}  // namespace detail

}  // namespace s2s

// Throws ErrorType with "what (at file:line)" when cond is false. The location is that of the
// library check; the message itself must name the user-visible thing at fault.
#define S2S_CHECK_AS(ErrorType, cond, ...)                                                     \
  do {                                                                                         \
    if (!(cond)) [[unlikely]]                                                                  \
      throw ErrorType(::s2s::detail::concat(__VA_ARGS__, " [", __FILE__, ":", __LINE__, "]")); \
  } while (0)

#define S2S_CHECK(cond, ...) S2S_CHECK_AS(::s2s::InvalidArgument, cond, __VA_ARGS__)
#define S2S_CHECK_SHAPE(cond, ...) S2S_CHECK_AS(::s2s::ShapeError, cond, __VA_ARGS__)
