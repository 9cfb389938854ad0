// HttpError: a request the server refuses, with the HTTP status to answer and a message that
// names the field or limit at fault ({"error": message} in the body). Retry-After goes with 503.
#pragma once

#include <string>

#include "seq2seq/error.h"

namespace s2s::server {

class HttpError : public InvalidArgument {
 public:
  HttpError(int status, const std::string& message, int retry_after_seconds = 0)
      : InvalidArgument(message), status_(status), retry_after_(retry_after_seconds) {}
  int status() const { return status_; }
  int retry_after() const { return retry_after_; }

 private:
  int status_;
  int retry_after_;
};

}  // namespace s2s::server
