// The web page's files, compiled into the binary (cmake/embed_assets.cmake writes the table from
// seq2seq/server/web/ and Debian's Chart.js), so `s2s serve` needs no files and no network.
#pragma once

#include <cstddef>
#include <string>

namespace s2s::server {

struct WebAsset {
  const char* path;          // "/app.js"
  const char* content_type;  // "text/javascript; charset=utf-8"
  const unsigned char* data;
  size_t size;
};

// The asset served at path, or nullptr.
const WebAsset* find_web_asset(const std::string& path);

}  // namespace s2s::server
