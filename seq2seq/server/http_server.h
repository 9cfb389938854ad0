// HttpServer: HTTP/1.1 on cpp-httplib in front of a Service. It owns the sockets and the
// connection threads (one per open connection, so many clients can wait on one batch at once),
// the body limit (413), and the watch on each waiting request's connection that tells the
// service when its client has gone. Only this file pair sees httplib.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "seq2seq/server/service.h"

namespace s2s::server {

struct HttpOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                   // 0: any free port (port() tells which)
  size_t max_body_bytes = 16 << 20;  // larger request bodies get 413
  int connections = 256;             // connections served at once
  int keep_alive_seconds = 5;
};

class HttpServer {
 public:
  HttpServer(Service& service, const HttpOptions& options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds the socket (IoError naming host:port when it cannot); port() is known after it.
  void bind();
  int port() const { return port_; }
  // Serves until stop(); returns then.
  void run();
  // Closes the listening socket and ends run() once the open connections are done.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  Service& service_;
  HttpOptions options_;
  int port_ = -1;
};

}  // namespace s2s::server
