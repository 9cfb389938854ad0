// cpp-httplib wiring: routes every request to Service::handle, answers httplib's own refusals
// (413, malformed request lines) with JSON bodies, and tells a waiting request when its client
// has closed the connection.
#include "seq2seq/server/http_server.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <httplib.h>
#include <atomic>
#include <cstring>
#include <nlohmann/json.hpp>

#include "seq2seq/error.h"

namespace s2s::server {

namespace {

// The connected socket whose peer is remote_addr:remote_port on local_port. httplib does not
// hand the socket to handlers, so it is found among the process's descriptors (once per request
// that waits long enough to be asked, and only then).
int find_connection(const std::string& remote_addr, int remote_port, int local_port) {
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return -1;
  int found = -1;
  while (dirent* entry = readdir(dir)) {
    const int fd = std::atoi(entry->d_name);
    if (fd <= 2) continue;
    sockaddr_storage peer{}, local{};
    socklen_t peer_len = sizeof peer, local_len = sizeof local;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0) continue;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0) continue;
    char address[INET6_ADDRSTRLEN] = {0};
    int port = -1, own_port = -1;
    if (peer.ss_family == AF_INET) {
      const auto* p = reinterpret_cast<const sockaddr_in*>(&peer);
      inet_ntop(AF_INET, &p->sin_addr, address, sizeof address);
      port = ntohs(p->sin_port);
      own_port = ntohs(reinterpret_cast<const sockaddr_in*>(&local)->sin_port);
    } else if (peer.ss_family == AF_INET6) {
      const auto* p = reinterpret_cast<const sockaddr_in6*>(&peer);
      inet_ntop(AF_INET6, &p->sin6_addr, address, sizeof address);
      port = ntohs(p->sin6_port);
      own_port = ntohs(reinterpret_cast<const sockaddr_in6*>(&local)->sin6_port);
    } else {
      continue;
    }
    if (port == remote_port && own_port == local_port && remote_addr == address) {
      found = fd;
      break;
    }
  }
  closedir(dir);
  return found;
}

// True when the peer has closed the connection: readable with nothing to read, or hung up. A
// client that sent its next request already (pipelining) is still there.
bool connection_closed(int fd) {
  pollfd p{fd, POLLIN | POLLRDHUP, 0};
  if (poll(&p, 1, 0) <= 0) return false;
  if (p.revents & (POLLHUP | POLLERR | POLLNVAL | POLLRDHUP)) return true;
  if (p.revents & POLLIN) {
    char byte;
    return recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
  }
  return false;
}

const char* reason(int status) {
  switch (status) {
    case 400:
      return "the request is malformed";
    case 404:
      return "not found";
    case 413:
      return "the request body is larger than the server's limit (--max-body)";
    case 414:
      return "the request URI is too long";
    default:
      return "the request failed";
  }
}

}  // namespace

struct HttpServer::Impl {
  httplib::Server server;
  std::atomic<int> listen_fd{-1};
};

HttpServer::HttpServer(Service& service, const HttpOptions& options)
    : impl_(std::make_unique<Impl>()), service_(service), options_(options) {
  httplib::Server& server = impl_->server;
  const int threads = std::max(4, options_.connections);
  server.new_task_queue = [threads] {
    return new httplib::ThreadPool(static_cast<size_t>(threads));
  };
  server.set_payload_max_length(options_.max_body_bytes);
  server.set_keep_alive_timeout(options_.keep_alive_seconds);
  server.set_keep_alive_max_count(1000);
  // Responses go out as header and body writes: without it Nagle's algorithm holds the body
  // for the client's delayed ACK (40 ms per request).
  server.set_tcp_nodelay(true);
  server.set_read_timeout(30, 0);
  server.set_write_timeout(30, 0);
  // The listening socket, to widen its backlog after bind (httplib's compiled-in one is 5: 64
  // clients connecting at once would see dropped SYNs and one-second retries).
  server.set_socket_options([this](socket_t fd) {
    int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    impl_->listen_fd.store(fd);
  });

  auto handler = [this](const httplib::Request& req, httplib::Response& res) {
    HttpRequest request;
    request.method = req.method;
    request.path = req.path;
    for (const auto& [key, value] : req.params)
      request.query[key] = value;
    request.body = req.body;
    request.content_type = req.get_header_value("Content-Type");
    for (const auto& [name, file] : req.files)
      request.uploads.push_back({file.name, file.filename, file.content_type, file.content});
    const std::string remote = req.remote_addr;
    const int remote_port = req.remote_port, local_port = req.local_port;
    int fd = -2;  // not looked up yet
    request.client_gone = [&fd, remote, remote_port, local_port] {
      if (fd == -2) fd = find_connection(remote, remote_port, local_port);
      return fd >= 0 && connection_closed(fd);
    };
    const HttpResponse response = service_.handle(request);
    res.status = response.status;
    if (response.retry_after > 0)
      res.set_header("Retry-After", std::to_string(response.retry_after));
    res.set_header("Cache-Control", response.cacheable ? "max-age=3600" : "no-store");
    if (service_.draining()) res.set_header("Connection", "close");
    res.set_content(response.body, response.content_type);
  };
  const char* any = ".*";
  server.Get(any, handler);
  server.Post(any, handler);
  server.Put(any, handler);
  server.Delete(any, handler);
  server.Patch(any, handler);
  server.Options(any, handler);
  // httplib's own refusals (413 body too large, 400 unreadable request) get a JSON body too;
  // the service's answers already have one and pass unchanged.
  server.set_error_handler(
      httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        res.set_content(nlohmann::json{{"error", reason(res.status)}}.dump(), "application/json");
        return httplib::Server::HandlerResponse::Handled;
      }));
  server.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr error) {
        std::string what = "unknown error";
        try {
          if (error) std::rethrow_exception(error);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        res.status = 500;
        res.set_content(nlohmann::json{{"error", what}}.dump(), "application/json");
      });
}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::bind() {
  httplib::Server& server = impl_->server;
  if (options_.port == 0) {
    port_ = server.bind_to_any_port(options_.host);
  } else {
    port_ = server.bind_to_port(options_.host, options_.port) ? options_.port : -1;
  }
  if (port_ <= 0)
    throw IoError("serve: cannot listen on " + options_.host + ":" + std::to_string(options_.port) +
                  " (in use, or not an address of this host)");
  if (const int fd = impl_->listen_fd.load(); fd >= 0) ::listen(fd, 1024);
}

void HttpServer::run() {
  impl_->server.listen_after_bind();
}

void HttpServer::stop() {
  if (impl_) impl_->server.stop();
}

}  // namespace s2s::server
